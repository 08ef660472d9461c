"""Data dirs of the ZeroSpeech 2019 recipe (egs/zerospeech19; section 4.1 of Tjandra et al., Interspeech 2019).

Sets: ``train_unit`` (unit discovery speech, many speakers: the VQ-VAE), ``dev`` (held-out
``train_unit`` utterances: its dev loss and codebook usage), ``train_voice`` / ``dev_voice``
(the target voice: the Code2Spec inverter) and ``test`` (encoded, resynthesised, scored by ABX
and bitrate). Every utterance id starts with its speaker id.

- :func:`prepare_release`: the official English release ``<db>/english/{train/unit,
  train/voice,test}/<SPEAKER>_<id>.wav`` (speaker: the name before the first ``_``).
- :func:`prepare_embedded`: from the multi-speaker espeak corpus of egs/mini_espeak
  (``data/train_full``, ``data/dev``, ``data/test``): every speaker's training speech is unit
  discovery speech, ``--voice``'s is also the target voice.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

from chain.data.datadir import DataDir, DataError
from chain.data.split import write_sets

RELEASE_SETS = {"train_unit": "train/unit", "train_voice": "train/voice", "test": "test"}


def _scan(folder: Path) -> DataDir:
    wavs = sorted(folder.glob("*.wav"))
    if not wavs:
        raise DataError(folder, "no .wav files (expected the ZeroSpeech 2019 release layout "
                        "english/{train/unit,train/voice,test}/*.wav)")
    utt2spk, wav_scp = {}, {}
    for wav in wavs:
        spk, sep, _ = wav.stem.partition("_")
        if not sep:
            raise DataError(wav, "file name without a speaker prefix (expected <SPEAKER>_<id>.wav)")
        utt2spk[wav.stem], wav_scp[wav.stem] = spk, str(wav.resolve())
    return DataDir(utt2spk=utt2spk, wav_scp=wav_scp)


def _hold_out(data: DataDir, fraction: float, seed: int) -> tuple[DataDir, DataDir]:
    """``(rest, held out)``: a ``fraction`` (at least one utterance) drawn with ``seed``."""
    utts = data.utts
    if len(utts) < 2:
        raise ValueError(f"{len(utts)} utterances: need 2 or more to hold some out")
    held = set(random.Random(seed).sample(utts, max(1, round(fraction * len(utts)))))
    return data.subset([u for u in utts if u not in held]), data.subset([u for u in utts if u in held])


def prepare_release(db_dir: str | os.PathLike, out_dir: str | os.PathLike, *, dev_fraction: float = 0.02,
                    seed: int = 0) -> dict[str, DataDir]:
    """Data dirs of the English release under ``db_dir`` (the folder holding ``english/``)."""
    root = Path(db_dir) / "english"
    if not root.is_dir():
        raise DataError(root, "no such directory (--db-dir must hold the release's english/)")
    found = {name: _scan(root / sub) for name, sub in RELEASE_SETS.items()}
    sets = {"test": found["test"]}
    sets["train_unit"], sets["dev"] = _hold_out(found["train_unit"], dev_fraction, seed)
    sets["train_voice"], sets["dev_voice"] = _hold_out(found["train_voice"], max(dev_fraction, 0.05), seed)
    write_sets(sets, out_dir)
    return sets


def prepare_embedded(corpus_dir: str | os.PathLike, out_dir: str | os.PathLike, *, voice: str) -> dict[str, DataDir]:
    """Data dirs from the espeak corpus's ``train_full``, ``dev`` and ``test`` under ``corpus_dir``."""
    src = {name: DataDir.load(Path(corpus_dir) / name) for name in ("train_full", "dev", "test")}
    speakers = sorted(set(src["train_full"].utt2spk.values()))
    if voice not in speakers:
        raise ValueError(f"--voice must be a training speaker, one of {', '.join(speakers)}: got '{voice}'")
    if len(set(src["test"].utt2spk.values())) < 2:
        raise ValueError("the test set has one speaker: the across-speaker ABX needs two or more "
                         "(make the corpus with more speakers)")

    def of_voice(data: DataDir) -> DataDir:
        return data.subset([u for u, s in data.utt2spk.items() if s == voice])

    def keep(data: DataDir) -> DataDir:  # no text: zero resource
        return data.subset(data.utts, keep_text=False)

    sets = {"train_unit": keep(src["train_full"]), "dev": keep(src["dev"]), "test": keep(src["test"]),
            "train_voice": keep(of_voice(src["train_full"])), "dev_voice": keep(of_voice(src["dev"]))}
    if not sets["dev_voice"].utts:
        raise ValueError(f"no dev utterance of {voice}: make a larger corpus")
    write_sets(sets, out_dir)
    return sets
