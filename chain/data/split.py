"""Train/dev/test and paired/speech-only/text-only splits (docs/data.md, Fig. 5 of the paper).

The chain's unpaired sets are separate data dirs: ``train_speech_only`` has no
``text`` and ``train_text_only`` has no ``wav.scp``, so no stage can read what it
must not see. Splits are deterministic given the seed.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

from chain.data.datadir import DataDir

CHAIN_SETS = ("train_paired", "train_speech_only", "train_text_only", "train_full")


def shuffle_split(keys: list[str], fractions: tuple[float, ...], seed: int) -> list[list[str]]:
    """Shuffle ``keys`` with ``seed`` and cut them into consecutive parts by ``fractions``.

    The fractions must sum to 1; the last part takes the rounding remainder. Parts are
    returned sorted in byte order (Kaldi's order).
    """
    if abs(sum(fractions) - 1.0) > 1e-6 or any(f < 0 for f in fractions):
        raise ValueError(f"split fractions must be >= 0 and sum to 1: got {fractions}")
    order = sorted(keys, key=str.encode)
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for i, frac in enumerate(fractions):
        end = len(order) if i == len(fractions) - 1 else start + round(frac * len(order))
        parts.append(sorted(order[start:end], key=str.encode))
        start = end
    return parts


def chain_split(train: DataDir, paired: float = 0.30, speech_only: float = 0.35,
                seed: int = 0) -> dict[str, DataDir]:
    """Cut a paired training set into the chain's sets (paper 000, Fig. 5).

    Returns ``train_paired`` (wav + text), ``train_speech_only`` (wav only),
    ``train_text_only`` (text only; the rest) and ``train_full`` (all of it, the
    upper bound). The three parts do not overlap.
    """
    if train.wav_scp is None or train.text is None:
        raise ValueError("chain_split needs a paired data dir (wav.scp and text)")
    p, s, t = shuffle_split(train.utts, (paired, speech_only, 1.0 - paired - speech_only), seed)
    return {
        "train_paired": train.subset(p),
        "train_speech_only": train.subset(s, keep_text=False),
        "train_text_only": train.subset(t, keep_wav=False),
        "train_full": train,
    }


def write_sets(sets: dict[str, DataDir], root: str | os.PathLike) -> None:
    """Save each data dir as ``root/<name>``."""
    for name, data in sets.items():
        data.save(Path(root) / name)
