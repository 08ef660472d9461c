"""A home-made corpus: a folder of audio files and a transcript file, as one Kaldi data dir.

The layout most people have: audio files (wav, flac, ... at any sample rate, in any
tree of subdirectories) whose names are the utterance ids, and one transcript file,
either ``id|text`` lines (LJSpeech's ``metadata.csv``; with more fields, the last
non-empty one is the text, so LJSpeech's normalised column wins over its raw one) or
Kaldi ``text`` lines (``id text``). :func:`import_folder` matches the two by id and
returns a paired data dir: ``wav.scp`` (absolute paths; stage 1 resamples),
``text``, ``utt2spk`` and ``utt2dur``.

Speakers: one for all (``speaker_from="single"``), the first directory under the
audio folder (``"dir"``: ``<audio>/<speaker>/.../<id>.wav``), or a Kaldi ``utt2spk``
file keyed by the transcript ids. An utterance id is the file's id, prefixed with
``<speaker>-`` unless it already starts with the speaker id (Kaldi's contract).

Text goes through :func:`chain.text.normalize.normalize` (lowercase, punctuation
mapped into the paper's set); characters still outside the set drop the utterance,
are deleted, or are kept for stage 2 to count. Counted skips, reported by
:class:`ImportReport`: audio without a transcript, transcripts without audio,
unreadable audio, empty transcripts, text outside the set. Errors (DataError naming
the file and line): a malformed or repeated transcript line, two audio files with one
id, whitespace in a path or id.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import soundfile

from chain.data.datadir import DataDir, DataError, read_kv
from chain.text.normalize import CHARSET, normalize

AUDIO_EXTENSIONS = (".wav", ".flac")
TRANSCRIPT_FORMATS = ("auto", "pipe", "kaldi")
SPEAKER_RULES = ("single", "dir")
OUTSIDE_CHARSET = ("drop", "delete", "keep")
PAPER_CHARSET = frozenset(CHARSET + " ")
SHOWN = 3  # examples named per kind of skip


@dataclass
class Transcript:
    text: str
    line: int


@dataclass
class ImportReport:
    """What :func:`import_folder` found, kept, changed and skipped."""

    transcript_file: str
    audio_files: int = 0
    transcripts: int = 0
    no_transcript: list[str] = field(default_factory=list)  # audio paths
    no_audio: list[str] = field(default_factory=list)  # "file:line (id)"
    unreadable: list[str] = field(default_factory=list)  # "path: reason"
    empty: list[str] = field(default_factory=list)  # "file:line (id)"
    normalised: int = 0  # transcripts that normalisation changed
    outside: Counter = field(default_factory=Counter)  # character -> occurrences
    outside_utts: list[str] = field(default_factory=list)  # "file:line (id)"
    outside_action: str = "drop"
    sample_rates: Counter = field(default_factory=Counter)  # Hz -> files

    def lines(self) -> list[str]:
        """One line per kind of finding, for the log (skips first, then changes)."""
        def some(items: list[str]) -> str:
            more = f", ... ({len(items) - SHOWN} more)" if len(items) > SHOWN else ""
            return ", ".join(items[:SHOWN]) + more

        out = []
        if self.no_transcript:
            out.append(f"skipped {len(self.no_transcript)} audio files without a transcript: "
                       f"{some(self.no_transcript)}")
        if self.no_audio:
            out.append(f"skipped {len(self.no_audio)} transcripts without an audio file: {some(self.no_audio)}")
        if self.unreadable:
            out.append(f"skipped {len(self.unreadable)} unreadable audio files: {some(self.unreadable)}")
        if self.empty:
            out.append(f"skipped {len(self.empty)} empty transcripts: {some(self.empty)}")
        if self.normalised:
            out.append(f"normalised {self.normalised} of {self.transcripts} transcripts "
                       "(lowercase, punctuation mapped into the character set)")
        if self.outside:
            chars = ", ".join(f"{c!r} x{n}" for c, n in self.outside.most_common())
            done = {"drop": "skipped", "delete": "the characters deleted",
                    "keep": "kept, stage 2 counts them as <unk>"}[self.outside_action]
            out.append(f"{len(self.outside_utts)} transcripts with characters outside the set "
                       f"({chars}), {done}: {some(self.outside_utts)}")
        if len(self.sample_rates) > 1:
            rates = ", ".join(f"{hz} Hz x{n}" for hz, n in sorted(self.sample_rates.items()))
            out.append(f"sample rates {rates} (stage 1 resamples to the rate of its config)")
        return out


def find_audio(audio_dir: str | os.PathLike,
               extensions: tuple[str, ...] = AUDIO_EXTENSIONS) -> dict[str, Path]:
    """Audio files under ``audio_dir`` (any depth) by id (file name without extension).

    Raises DataError for a missing folder, two files with one id, or whitespace in a path.
    """
    root = Path(audio_dir).resolve()
    if not root.is_dir():
        raise DataError(root, "no such directory (expected the folder of audio files)")
    found: dict[str, Path] = {}
    exts = {e.lower() for e in extensions}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in exts or not path.is_file():
            continue
        if any(c.isspace() for c in str(path)):
            raise DataError(path, "the path contains whitespace, which wav.scp cannot hold: "
                            "rename it or move the corpus")
        if path.stem in found:
            raise DataError(path, f"has the same id '{path.stem}' as {found[path.stem]} "
                            "(audio file names must be unique in the whole tree)")
        found[path.stem] = path
    return found


def read_transcripts(path: str | os.PathLike, fmt: str = "auto") -> dict[str, Transcript]:
    """Transcripts by id from ``id|text`` (``pipe``) or Kaldi ``id text`` (``kaldi``) lines.

    ``auto`` picks ``pipe`` when the first non-blank line holds a ``|``. Blank lines are
    skipped; a text may be empty (the caller skips it). Raises DataError naming the line
    for a line without an id or separator, an id with whitespace, or a repeated id.
    """
    if fmt not in TRANSCRIPT_FORMATS:
        raise ValueError(f"transcript format must be one of {', '.join(TRANSCRIPT_FORMATS)}: got '{fmt}'")
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file (expected the transcripts: 'id|text' or Kaldi 'id text' lines)")
    out: dict[str, Transcript] = {}
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(path, "not UTF-8 text", n) from None
            if not line.strip():
                continue
            if fmt == "auto":
                fmt = "pipe" if "|" in line else "kaldi"
            if fmt == "pipe":
                utt, *fields = line.split("|")
                if not fields:
                    raise DataError(path, f"expected 'id|text': {line[:80]!r}", n)
                text = next((t for t in reversed(fields) if t.strip()), "")
            else:
                utt, text = (line.split(maxsplit=1) + [""])[:2]
            utt = utt.strip()
            if not utt or any(c.isspace() for c in utt):
                raise DataError(path, f"bad id {utt!r} (ids are non-empty, without whitespace)", n)
            if utt in out:
                raise DataError(path, f"id '{utt}' appears twice (first on line {out[utt].line})", n)
            out[utt] = Transcript(text.strip(), n)
    return out


def _clean(text: str, normalise: bool, outside: str,
           report: ImportReport) -> tuple[str, bool, bool]:
    """``(text, changed by normalisation, has characters outside the set)``."""
    new = normalize(text) if normalise else text
    changed = new != text
    bad = [c for c in new if c not in PAPER_CHARSET]
    if bad:
        report.outside.update(bad)
        if outside == "delete":
            new = " ".join("".join(c for c in new if c in PAPER_CHARSET).split())
    return new, changed, bool(bad)


def _speaker_of(utt: str, audio: Path, root: Path, speaker_from: str, speaker: str,
                utt2spk: dict[str, str] | None, utt2spk_path: str) -> str:
    if utt2spk is not None:
        if utt not in utt2spk:
            raise DataError(utt2spk_path, f"no speaker for '{utt}' (every transcript id needs one)")
        return utt2spk[utt]
    if speaker_from == "single":
        return speaker
    parts = audio.relative_to(root).parts
    if len(parts) < 2:
        raise DataError(audio, "is not in a speaker directory (--speaker-from dir reads "
                        "<audio-dir>/<speaker>/.../<id>.wav)")
    return parts[0]


def import_folder(audio_dir: str | os.PathLike, transcripts: str | os.PathLike, *,
                  fmt: str = "auto", extensions: tuple[str, ...] = AUDIO_EXTENSIONS,
                  speaker_from: str = "single", speaker: str = "spk",
                  utt2spk: str | os.PathLike | None = None, normalise: bool = True,
                  outside: str = "drop") -> tuple[DataDir, ImportReport]:
    """One paired data dir of the audio under ``audio_dir`` and its ``transcripts``.

    See the module docstring for the rules. Raises DataError for bad input and
    ValueError for a bad option or when no utterance is left.
    """
    if speaker_from not in SPEAKER_RULES:
        raise ValueError(f"--speaker-from must be one of {', '.join(SPEAKER_RULES)}: got '{speaker_from}'")
    if outside not in OUTSIDE_CHARSET:
        raise ValueError(f"--outside-charset must be one of {', '.join(OUTSIDE_CHARSET)}: got '{outside}'")
    if not speaker or any(c.isspace() for c in speaker):
        raise ValueError(f"--speaker must be a non-empty id without whitespace: got {speaker!r}")
    root = Path(audio_dir).resolve()
    audio = find_audio(root, extensions)
    lines = read_transcripts(transcripts, fmt)
    spk_table = read_kv(utt2spk) if utt2spk is not None else None
    report = ImportReport(str(transcripts), audio_files=len(audio), transcripts=len(lines),
                          outside_action=outside)
    where = lambda utt: f"{transcripts}:{lines[utt].line} ({utt})"  # noqa: E731
    report.no_transcript = [str(p) for utt, p in audio.items() if utt not in lines]
    report.no_audio = [where(utt) for utt in lines if utt not in audio]
    data = DataDir(utt2spk={}, wav_scp={}, text={}, extra={"utt2dur": {}})
    for utt in (u for u in lines if u in audio):
        text, changed, bad = _clean(lines[utt].text, normalise, outside, report)
        report.normalised += changed
        if bad:
            report.outside_utts.append(where(utt))
            if outside == "drop":
                continue
        if not text:
            report.empty.append(where(utt))
            continue
        try:
            info = soundfile.info(str(audio[utt]))
        except (soundfile.LibsndfileError, RuntimeError) as err:
            report.unreadable.append(f"{audio[utt]}: {str(err).splitlines()[-1]}")
            continue
        if info.frames == 0:
            report.unreadable.append(f"{audio[utt]}: zero samples")
            continue
        spk = _speaker_of(utt, audio[utt], root, speaker_from, speaker, spk_table, str(utt2spk))
        if not spk or any(c.isspace() for c in spk):
            raise DataError(audio[utt], f"bad speaker id {spk!r} (non-empty, without whitespace)")
        key = utt if utt.startswith(spk) else f"{spk}-{utt}"
        if key in data.utt2spk:
            raise DataError(audio[utt], f"utterance id '{key}' (speaker '{spk}' + file id '{utt}') "
                            "is taken by another file: rename one of them")
        report.sample_rates[info.samplerate] += 1
        data.utt2spk[key] = spk
        data.wav_scp[key] = str(audio[utt])
        data.text[key] = text
        data.extra["utt2dur"][key] = f"{info.frames / info.samplerate:.4f}"
    if not data.utts:
        raise ValueError(f"no utterance left of {len(audio)} audio files under {root} and "
                         f"{len(lines)} transcripts in {transcripts}: " + "; ".join(report.lines()))
    return data, report
