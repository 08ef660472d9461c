"""Label propagation: the pseudo-labelled training set (section IV-D4 of the machine speech
chain paper).

The ASR trained on paired data transcribes the unpaired speech (beam 5 in the paper); the
speech-only utterances with a non-empty transcription, taken as their text, join the paired
set, and both models train further on the union. :func:`pseudo_labelled_set` builds that
union as a dump dir (features and Kaldi data-dir files) from the paired dump dir, the
speech-only dump dir and the transcriptions, and moves it into place whole.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chain.data.datadir import DataError, read_kv, spk2utt_from_utt2spk, write_kv

log = logging.getLogger(__name__)

# Files keyed by utterance that the union keeps when both sources have them (text: the
# paired set's and the transcriptions). wav.scp is keyed by recording when segments exist.
UTT_FILES = ("utt2spk", "feats.scp", "linear.scp", "utt2num_frames", "utt2dur", "utt2gender")


@dataclass
class LabelpropSummary:
    """What :func:`pseudo_labelled_set` wrote."""

    paired: int        # utterances of the paired set
    labelled: int      # speech-only utterances with a non-empty transcription
    speech_only: int   # speech-only utterances in all
    files: list[str]   # files of the output dir


def read_transcriptions(paths: list[str | os.PathLike]) -> dict[str, str]:
    """``utt text`` lines of one or more hypothesis files (chain.bin.asr_recog ``--out``; a
    line with an utterance id alone is an empty transcription). An utterance in two files is
    an error."""
    hyps: dict[str, str] = {}
    for path in paths:
        for utt, text in read_kv(path, allow_empty_value=True, check_sorted=False).items():
            if utt in hyps:
                raise DataError(path, f"utterance '{utt}' is transcribed in another file as well")
            hyps[utt] = text
    return hyps


def _table(dump_dir: Path, name: str) -> dict[str, str] | None:
    return read_kv(dump_dir / name) if (dump_dir / name).is_file() else None


def pseudo_labelled_set(paired_dir: str | os.PathLike, speech_dir: str | os.PathLike,
                        hyps: dict[str, str], out_dir: str | os.PathLike) -> LabelpropSummary:
    """Write ``out_dir``: the paired dump dir plus the speech-only utterances of ``speech_dir``
    whose transcription in ``hyps`` (utt -> text) is non-empty, with it as their ``text``.

    Every transcribed utterance must belong to ``speech_dir`` and no utterance id may be in
    both sets. Per-utterance files (:data:`UTT_FILES`, and ``wav.scp``/``segments`` when both
    sets have the same kind) are kept when both sets have them; ``spk2utt`` is derived. The
    dir is written under a temp name beside ``out_dir`` and renamed onto it, so no reader
    ever sees a half-written set.
    """
    paired_dir, speech_dir, out_dir = Path(paired_dir), Path(speech_dir), Path(out_dir)
    for d in (paired_dir, speech_dir):
        if not (d / "utt2spk").is_file():
            raise DataError(d / "utt2spk", "no such file (expected a dump dir of stage 1)")
    if not (paired_dir / "text").is_file():
        raise DataError(paired_dir / "text", "no such file (the paired set needs its transcriptions)")
    speech_utts = read_kv(speech_dir / "utt2spk")
    unknown = sorted(set(hyps) - set(speech_utts))
    if unknown:
        raise DataError(speech_dir / "utt2spk", f"{len(unknown)} transcribed utterances are not in "
                        f"this speech-only set, e.g. '{unknown[0]}' (transcriptions of another set?)")
    labelled = {utt: text for utt, text in hyps.items() if text.strip()}
    paired_text = read_kv(paired_dir / "text")
    overlap = sorted(set(paired_text) & set(speech_utts))
    if overlap:
        raise DataError(speech_dir / "utt2spk", f"{len(overlap)} utterances are also in {paired_dir}, "
                        f"e.g. '{overlap[0]}': the paired and speech-only sets must not overlap")

    tables = {"text": {**paired_text, **labelled}}
    names = list(UTT_FILES)
    has_segments = [(d / "segments").is_file() for d in (paired_dir, speech_dir)]
    if all(has_segments):
        names.append("segments")
    elif not any(has_segments):
        names.append("wav.scp")
    for name in names:
        paired, speech = _table(paired_dir, name), _table(speech_dir, name)
        if paired is not None and speech is not None:
            tables[name] = {**paired, **{u: v for u, v in speech.items() if u in labelled}}
    if all(has_segments):  # recordings of the utterances kept, keyed by recording
        recordings = {seg.split()[0] for seg in tables["segments"].values()}
        wavs = {**read_kv(paired_dir / "wav.scp"), **read_kv(speech_dir / "wav.scp")}
        tables["wav.scp"] = {rec: wavs[rec] for rec in recordings}
    tables["spk2utt"] = spk2utt_from_utt2spk(tables["utt2spk"])

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, table in tables.items():
            write_kv(tmp / name, table)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("%d of %d speech-only utterances got a non-empty transcription; with the %d paired "
             "ones -> %s", len(labelled), len(speech_utts), len(paired_text), out_dir)
    return LabelpropSummary(paired=len(paired_text), labelled=len(labelled),
                            speech_only=len(speech_utts), files=sorted(tables))
