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
from dataclasses import dataclass
from pathlib import Path

from chain.data.datadir import DataDir, DataError, combine, read_kv, replace_dir

log = logging.getLogger(__name__)

FEATURE_FILES = ("feats.scp", "linear.scp")  # per-utterance files of a dump dir beyond a data dir's


@dataclass
class LabelpropSummary:
    """What :func:`pseudo_labelled_set` wrote."""

    paired: int        # utterances of the paired set
    labelled: int      # speech-only utterances with a non-empty transcription
    speech_only: int   # speech-only utterances in all


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


def load_dump_dir(path: str | os.PathLike) -> DataDir:
    """A dump dir of stage 1: its data dir with the feature scp files among its ``extra`` tables."""
    path = Path(path)
    data = DataDir.load(path)
    data.extra.update({name: read_kv(path / name) for name in FEATURE_FILES if (path / name).is_file()})
    data.validate(path)
    return data


def pseudo_labelled_set(paired_dir: str | os.PathLike, speech_dir: str | os.PathLike,
                        hyps: dict[str, str], out_dir: str | os.PathLike) -> LabelpropSummary:
    """Write ``out_dir``: the paired dump dir plus the speech-only utterances of ``speech_dir``
    whose transcription in ``hyps`` (utt -> text) is non-empty, with it as their ``text``.

    Every transcribed utterance must belong to ``speech_dir``; an utterance id in both sets is
    an error. Files are kept when both sets have them (:func:`chain.data.datadir.combine`),
    features included; the dir replaces ``out_dir`` whole (:func:`chain.data.datadir.replace_dir`).
    """
    paired, speech = load_dump_dir(paired_dir), load_dump_dir(speech_dir)
    if paired.text is None:
        raise DataError(Path(paired_dir) / "text", "no such file (the paired set needs its transcriptions)")
    unknown = sorted(set(hyps) - set(speech.utt2spk))
    if unknown:
        raise DataError(Path(speech_dir) / "utt2spk", f"{len(unknown)} transcribed utterances are not in "
                        f"this speech-only set, e.g. '{unknown[0]}' (transcriptions of another set?)")
    labelled = {utt: text for utt, text in hyps.items() if text.strip()}
    pseudo = speech.subset(sorted(labelled))
    pseudo.text = labelled
    sources = {f"{paired_dir} (paired)": paired, f"{speech_dir} (pseudo-labelled)": pseudo}
    replace_dir(combine(sources), out_dir)
    log.info("%d of %d speech-only utterances got a non-empty transcription; with the %d paired "
             "ones -> %s", len(labelled), len(speech.utts), len(paired.utts), out_dir)
    return LabelpropSummary(paired=len(paired.utts), labelled=len(labelled), speech_only=len(speech.utts))
