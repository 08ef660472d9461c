"""WSJ CSR (LDC93S6B "WSJ0", LDC94S13B "WSJ1"): the multi-speaker sets of the machine
speech chain paper (sections IV-D1 and V-C), split as Kaldi's ``egs/wsj/s5`` does.

Both corpora are sets of LDC discs, directories named like ``11-13.1`` (disc id
``11_13_1`` in the index files), under the directories given as ``wsj0`` and ``wsj1``.
Index files (``.ndx``) list one file a line, ``<disc id>:<path on the disc>``, ``;``
starting a comment. The sets:

=========  ==========================================================  =========
set        index                                                       paper
=========  ==========================================================  =========
SI-84      ``11-13.1/wsj0/doc/indices/train/tr_s_wv1.ndx`` without     paired
           speaker 401 (``11-2.1/wsj0/si_tr_s/401``), 7138 utterances
SI-200     ``13-34.1/wsj1/doc/indices/si_tr_s.ndx``                    unpaired
SI-284     SI-84 + SI-200                                              upper bound
dev93      ``13-34.1/wsj1/doc/indices/h1_p0.ndx``, 503 utterances      dev
eval92     ``11-13.1/wsj0/doc/indices/test/nvp/si_et_20.ndx``, 333     test
=========  ==========================================================  =========

Utterance id = file name without ``.wv1``, lowercased (``011c0201``); speaker = its
first 3 characters. Transcripts come from the ``.dot`` files found anywhere on the
discs (``<prefix>00.dot`` holds the lines ``<transcript> (<utterance id>)`` of the
utterances starting with its 6-character prefix) and go through
:func:`normalize_transcript`. Genders come from the discs' ``spkrinfo.txt`` files.

Audio: the ``.wv1`` files are NIST SPHERE, on the LDC discs shorten-compressed.
With ``sph2pipe`` (a program or a path) found, ``wav.scp`` lines are
``<utt> /abs/sph2pipe -f wav <file> |`` after a check that it decodes one file;
without it, every file must be uncompressed SPHERE (read directly) and a compressed
one is an error that says how to get ``sph2pipe``.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chain.data.datadir import DataDir, DataError, combine
from chain.data.split import SETS, shuffle_split, write_sets
from chain.text.normalize import normalize

logger = logging.getLogger(__name__)

SI84_INDEX = "11-13.1/wsj0/doc/indices/train/tr_s_wv1.ndx"
SI200_INDEX = "13-34.1/wsj1/doc/indices/si_tr_s.ndx"
DEV93_INDEX = "13-34.1/wsj1/doc/indices/h1_p0.ndx"
EVAL92_INDEX = "11-13.1/wsj0/doc/indices/test/nvp/si_et_20.ndx"
DROPPED_SPEAKER = "401"  # left out of SI-84, as Kaldi's s5 recipe does
NOISE = "<noise>"
#: How SI-200 becomes the unpaired data: ``same``: its audio is train_speech_only and
#: its text train_text_only (the paper); ``disjoint``: its speakers are halved, one half
#: speech-only, the other text-only, so no sentence is in both.
UNPAIRED = ("same", "disjoint")
SPH2PIPE_HELP = "build it from https://github.com/burrmill/sph2pipe (egs/wsj/chain1/README.md)"

_DISC = re.compile(r"\d+-\d+\.\d+")
_INDEX_LINE = re.compile(r"([0-9_]+):\s*(\S+)")
_UTT = re.compile(r"\w{8}")
_DOT_LINE = re.compile(r"(.*)\((\w{8})\)\s*")
_COMPRESSED = ("shorten", "wavpack", "shortpack")


# -- transcripts -------------------------------------------------------------------------

_DELETED = (re.compile(r"\[<\w+\]"),  # [<door_slam]: a noise in the word before
            re.compile(r"\[\w+>\]"),  # [door_slam>]: a noise in the word after
            re.compile(r".*\[\w+/\]"),  # [phone_ring/]: a noise starts
            re.compile(r".*\[/\w+\]"))  # [/phone_ring]: a noise ends
_NOISE_WORD = re.compile(r".*\[\w+\].*")  # [loud_breath]
_VERBAL_DELETION = re.compile(r"<([\w']+)>")  # <and>: spoken, then taken back


def _normalize_word(word: str) -> str:
    """One word of a ``.dot`` transcript, upper case, as Kaldi's normalize_transcript.pl
    maps it ("" to drop it)."""
    word = word.upper().replace("\\", "")
    if word in ("~", ".") or any(p.fullmatch(word) for p in _DELETED):
        return ""
    if _NOISE_WORD.fullmatch(word):
        return NOISE
    deleted = _VERBAL_DELETION.fullmatch(word)
    if deleted:
        return deleted.group(1)
    return {"%PERCENT": "PERCENT", ".POINT": "POINT", "--DASH": "-DASH"}.get(word, word)


def normalize_transcript(text: str) -> str:
    """A ``.dot`` transcript in the paper's lowercase character set plus ``<noise>``.

    The rules of Kaldi's ``egs/wsj/s5/local/normalize_transcript.pl``, then
    :func:`chain.text.normalize.normalize`: backslashes go; ``%PERCENT`` -> percent,
    ``.POINT`` -> point, ``--DASH`` -> -dash; ``[<x]``, ``[x>]``, ``[x/]``, ``[/x]``,
    ``~`` and ``.`` are dropped; other bracketed noises -> ``<noise>``; ``<word>`` ->
    word. Beyond Kaldi, the stars of ``*word*`` (a mispronounced word) are dropped.
    Verbalised punctuation keeps its mark: ``,COMMA`` -> ``,comma``.

    >>> normalize_transcript(r"[loud_breath] IT ROSE %PERCENT \\,COMMA <AND> [<door_slam] ~ .")
    '<noise> it rose percent ,comma and'
    """
    words = [w for w in map(_normalize_word, text.split()) if w]
    folded = [w if w == NOISE else normalize(w.lower().replace("*", "")) for w in words]
    return " ".join(w for w in folded if w)


# -- index files and discs ---------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One utterance of an index file: its id, audio file, and where it was listed."""

    utt: str
    path: Path
    index: Path
    line: int

    @property
    def speaker(self) -> str:
        return self.utt[:3]


def find_discs(*roots: str | os.PathLike) -> dict[str, Path]:
    """Disc id (``11_13_1``) -> directory, for the disc directories (``11-13.1``) in each
    root (or a root that is itself one)."""
    discs: dict[str, Path] = {}
    for root in roots:
        root = Path(root).resolve()
        if not root.is_dir():
            raise DataError(root, "no such directory (give the directory holding the LDC "
                            "discs such as 11-13.1 or 13-34.1; see db.sh)")
        for disc in [root, *sorted(root.iterdir())]:
            if disc.is_dir() and _DISC.fullmatch(disc.name):
                discs.setdefault(disc.name.replace("-", "_").replace(".", "_"), disc)
    return discs


def _disc_file(discs: dict[str, Path], where: str) -> Path:
    """The file ``<disc>/<path>`` (disc written ``11-13.1``); DataError if missing."""
    disc, _, rel = where.partition("/")
    disc_dir = discs.get(disc.replace("-", "_").replace(".", "_"))
    path = disc_dir / rel if disc_dir else None
    if path is None or not path.is_file():
        found = ", ".join(sorted(discs)) or "none"
        raise DataError(where, f"no such file on the discs (found: {found}); --wsj0 and --wsj1 must "
                        "be the directories that hold the LDC discs such as 11-13.1 and 13-34.1")
    return path


def read_index(path: str | os.PathLike, discs: dict[str, Path], extension: str = ".wv1") -> list[Entry]:
    """The entries of one index file; a listed path without extension gets ``extension``.

    Raises DataError naming the index file and line for an unparsable line, an unknown
    disc, a missing audio file, a bad or repeated utterance id.
    """
    path = Path(path)
    entries: list[Entry] = []
    seen: set[str] = set()
    with open(path, encoding="latin-1") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith(";"):
                continue
            m = _INDEX_LINE.fullmatch(line)
            if not m:
                raise DataError(path, f"expected '<disc id>:<path>', got {line[:80]!r}", n)
            disc, rel = m.groups()
            if disc not in discs:
                name = disc.replace("_", "-", 1).replace("_", ".")
                raise DataError(path, f"disc {disc} (a directory named {name}) is under neither "
                                "--wsj0 nor --wsj1", n)
            if not Path(rel).suffix:
                rel += extension
            audio = discs[disc] / rel
            if not audio.is_file():
                upper = discs[disc] / rel.upper()  # some discs were copied upper-cased
                if not upper.is_file():
                    raise DataError(path, f"no such audio file {audio}", n)
                audio = upper
            utt = audio.stem.lower()
            if not _UTT.fullmatch(utt):
                raise DataError(path, f"bad utterance id {utt!r} (expected 8 characters such as 011c0201)", n)
            if utt in seen:
                raise DataError(path, f"utterance {utt} listed twice", n)
            if any(c.isspace() for c in str(audio)):
                raise DataError(path, f"audio path {audio} contains whitespace, which wav.scp "
                                "cannot hold: move the corpus to a path without spaces", n)
            seen.add(utt)
            entries.append(Entry(utt, audio, path, n))
    if not entries:
        raise DataError(path, "no utterances listed")
    return entries


def parse_dot(path: str | os.PathLike) -> dict[str, str]:
    """Utterance id -> raw transcript of one ``.dot`` file."""
    out: dict[str, str] = {}
    with open(path, encoding="latin-1") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            m = _DOT_LINE.fullmatch(raw.rstrip("\r\n"))
            if not m:
                raise DataError(path, f"expected '<transcript> (<utterance id>)', got {raw.strip()[:80]!r}", n)
            out[m.group(2).lower()] = m.group(1).strip()
    return out


def parse_spkrinfo(path: str | os.PathLike) -> dict[str, str]:
    """Speaker -> ``m``/``f`` from a ``spkrinfo.txt`` (``;`` comments and rows without a
    gender in the second column are skipped)."""
    genders: dict[str, str] = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            fields = line.lower().split()
            if len(fields) >= 2 and not fields[0].startswith(";") and fields[1] in ("m", "f"):
                genders[fields[0]] = fields[1]
    return genders


class CorpusFiles:
    """The ``.dot`` and ``spkrinfo.txt`` files of the discs, found once by walking them."""

    def __init__(self, discs: dict[str, Path]):
        self.dots: dict[str, list[Path]] = {}
        self.spkrinfo: list[Path] = []
        for disc in sorted(set(discs.values())):
            for folder, _, files in os.walk(disc):
                for name in files:
                    lower = name.lower()
                    if lower.endswith(".dot"):
                        self.dots.setdefault(lower[:6], []).append(Path(folder) / name)
                    elif lower == "spkrinfo.txt":
                        self.spkrinfo.append(Path(folder) / name)
        self._parsed: dict[Path, dict[str, str]] = {}

    def transcript(self, utt: str) -> str | None:
        """The raw transcript of ``utt`` from the first ``.dot`` file (in path order) holding it."""
        for path in sorted(self.dots.get(utt[:6], [])):
            if path not in self._parsed:
                self._parsed[path] = parse_dot(path)
            if utt in self._parsed[path]:
                return self._parsed[path][utt]
        return None

    def genders(self, extra: list[str | os.PathLike] = ()) -> dict[str, str]:
        genders: dict[str, str] = {}
        for path in [*self.spkrinfo, *extra]:
            genders.update(parse_spkrinfo(path))
        return genders


# -- audio -------------------------------------------------------------------------------

def sphere_coding(path: str | os.PathLike) -> str:
    """The ``sample_coding`` of a NIST SPHERE file (``pcm`` when the header has none)."""
    with open(path, "rb") as f:
        head = f.read(1024)
    if not head.startswith(b"NIST_1A"):
        raise DataError(path, "not a NIST SPHERE file (no NIST_1A header)")
    for line in head.split(b"end_head")[0].decode("latin-1").splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0] == "sample_coding":
            return fields[2].strip()
    return "pcm"


def check_decoder(sph2pipe: str, audio: Path) -> None:
    """Raise DataError unless ``sph2pipe -f wav audio`` writes a non-empty WAV stream."""
    try:
        proc = subprocess.run([sph2pipe, "-f", "wav", str(audio)], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DataError(audio, f"cannot decode with {sph2pipe}: {err}") from None
    if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF") or len(proc.stdout) <= 44:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise DataError(audio, f"{sph2pipe} -f wav failed to decode it (exit status {proc.returncode}"
                        f"{': ' + err[-1][:200] if err else ''}); {SPH2PIPE_HELP}")


def wav_scp(entries: list[Entry], sph2pipe: str = "sph2pipe") -> dict[str, str]:
    """``wav.scp`` of ``entries``: sph2pipe pipes when ``sph2pipe`` is found (checked on the
    first file), else the files themselves, which must then be uncompressed SPHERE."""
    exe = shutil.which(sph2pipe)
    if not exe and os.sep in sph2pipe:
        raise DataError(sph2pipe, f"no such executable (--sph2pipe): {SPH2PIPE_HELP}")
    if exe:
        exe = str(Path(exe).resolve())
        check_decoder(exe, entries[0].path)
        return {e.utt: f"{exe} -f wav {e.path} |" for e in entries}
    for e in entries:
        coding = sphere_coding(e.path)
        if any(kind in coding for kind in _COMPRESSED):
            raise DataError(e.path, f"compressed SPHERE ({coding}) needs sph2pipe, and "
                            f"'{sph2pipe}' is neither on PATH nor an executable file: "
                            f"{SPH2PIPE_HELP}, then pass --sph2pipe /path/to/sph2pipe")
    return {e.utt: str(e.path) for e in entries}


# -- the sets ----------------------------------------------------------------------------

def _data_dir(name: str, entries: list[Entry], files: CorpusFiles, wavs: dict[str, str]) -> DataDir:
    """A paired data dir of ``entries``; utterances without a transcript are left out (warned)."""
    text: dict[str, str] = {}
    dropped: list[str] = []
    for e in entries:
        raw = files.transcript(e.utt)
        sentence = normalize_transcript(raw) if raw is not None else ""
        if sentence:
            text[e.utt] = sentence
        else:
            dropped.append(f"{e.utt} ({'empty transcript' if raw is not None else 'no .dot line'}, "
                           f"{e.index}:{e.line})")
    if dropped:
        logger.warning("%s: %d of %d utterances left out for want of text, e.g. %s",
                       name, len(dropped), len(entries), dropped[0])
    if not text:
        raise DataError(entries[0].index, f"no utterance of {name} has a transcript in the .dot files")
    return DataDir(utt2spk={u: u[:3] for u in text}, wav_scp={u: wavs[u] for u in text}, text=text)


def read_sets(wsj0: str | os.PathLike, wsj1: str | os.PathLike, *, sph2pipe: str = "sph2pipe",
              spkrinfo: list[str | os.PathLike] = ()) -> dict[str, DataDir]:
    """``si84``, ``si200``, ``dev93`` and ``eval92`` as paired data dirs, with spk2gender
    where every speaker of the set has a gender in the ``spkrinfo.txt`` files (and ``spkrinfo``)."""
    discs = find_discs(wsj0, wsj1)
    lists = {"si84": [e for e in read_index(_disc_file(discs, SI84_INDEX), discs)
                      if e.speaker != DROPPED_SPEAKER],
             "si200": read_index(_disc_file(discs, SI200_INDEX), discs),
             "dev93": read_index(_disc_file(discs, DEV93_INDEX), discs),
             "eval92": read_index(_disc_file(discs, EVAL92_INDEX), discs)}
    everything = [e for entries in lists.values() for e in entries]
    wavs = wav_scp(everything, sph2pipe)  # the decoder check comes before the long work
    files = CorpusFiles(discs)
    genders = files.genders(list(spkrinfo))
    sets = {}
    for name, entries in lists.items():
        data = _data_dir(name, entries, files, wavs)
        speakers = set(data.utt2spk.values())
        if speakers <= set(genders):
            data.spk2gender = {spk: genders[spk] for spk in speakers}
        else:
            logger.info("%s: no gender for %d of %d speakers: no spk2gender", name,
                        len(speakers - set(genders)), len(speakers))
        sets[name] = data
    return sets


def chain_sets(sets: dict[str, DataDir], unpaired: str = "same", seed: int = 0) -> dict[str, DataDir]:
    """The six data dirs of :data:`chain.data.split.SETS` from :func:`read_sets`' output:
    paired SI-84, unpaired SI-200 (as ``unpaired`` says), SI-284, dev93, eval92."""
    si84, si200 = sets["si84"], sets["si200"]
    if unpaired == "same":
        speech, text = si200.utts, si200.utts
    elif unpaired == "disjoint":
        halves = shuffle_split(sorted(set(si200.utt2spk.values())), (0.5, 0.5), seed)
        speech, text = ([u for u, s in si200.utt2spk.items() if s in set(half)] for half in halves)
    else:
        raise ValueError(f"--unpaired must be one of {', '.join(UNPAIRED)}: got {unpaired!r}")
    full = combine({"SI-84": si84, "SI-200": si200})
    out = {"train_full": full, "train_paired": si84,
           "train_speech_only": si200.subset(speech, keep_text=False),
           "train_text_only": si200.subset(text, keep_wav=False),
           "dev": sets["dev93"], "test": sets["eval92"]}
    empty = [name for name in SETS if not out[name].utts]
    if empty:
        raise ValueError(f"SI-200 has too few speakers for --unpaired {unpaired}: "
                         f"{', '.join(empty)} would be empty")
    return {name: out[name] for name in SETS}


def prepare(wsj0: str | os.PathLike, wsj1: str | os.PathLike, out_dir: str | os.PathLike, *,
            sph2pipe: str = "sph2pipe", unpaired: str = "same", seed: int = 0,
            spkrinfo: list[str | os.PathLike] = ()) -> dict[str, DataDir]:
    """Write ``out_dir/{train_full,train_paired,train_speech_only,train_text_only,dev,test}``
    and return them by name (:func:`read_sets`, :func:`chain_sets`)."""
    if unpaired not in UNPAIRED:
        raise ValueError(f"--unpaired must be one of {', '.join(UNPAIRED)}: got {unpaired!r}")
    sets = chain_sets(read_sets(wsj0, wsj1, sph2pipe=sph2pipe, spkrinfo=spkrinfo), unpaired, seed)
    write_sets(sets, out_dir)
    return sets
