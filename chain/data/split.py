"""Train/dev/test and paired/speech-only/text-only splits (docs/data.md, Fig. 5 of the paper).

:func:`split_corpus` cuts one paired corpus into the six data dirs the stages read.
The chain's unpaired sets are separate data dirs: ``train_speech_only`` has no
``text`` and ``train_text_only`` has no ``wav.scp``, so no stage can read what it
must not see. Splits are deterministic given the seed and do not overlap.
"""
from __future__ import annotations

import logging
import os
import random
from pathlib import Path

from chain.data.datadir import DataDir, replace_dir

logger = logging.getLogger(__name__)

SETS = ("train_full", "train_paired", "train_speech_only", "train_text_only", "dev", "test")


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


def _utts_of(data: DataDir, speakers: list[str]) -> list[str]:
    keep = set(speakers)
    return [utt for utt, spk in data.utt2spk.items() if spk in keep]


def chain_split(train: DataDir, paired: float = 0.30, speech_only: float = 0.35,
                seed: int = 0, by_speaker: bool = False) -> dict[str, DataDir]:
    """Cut a paired training set into the chain's sets (Fig. 5 of the paper).

    Returns ``train_paired`` (wav + text), ``train_speech_only`` (wav only),
    ``train_text_only`` (text only; the rest) and ``train_full`` (all of it, the
    upper bound). The three parts do not overlap; with ``by_speaker`` the fractions
    are of the speakers, and no speaker is in two parts.
    """
    if train.wav_scp is None or train.text is None:
        raise ValueError("chain_split needs a paired data dir (wav.scp and text)")
    fractions = (paired, speech_only, 1.0 - paired - speech_only)
    if by_speaker:
        parts = [_utts_of(train, spks) for spks in
                 shuffle_split(sorted(set(train.utt2spk.values())), fractions, seed)]
    else:
        parts = shuffle_split(train.utts, fractions, seed)
    p, s, t = parts
    return {
        "train_paired": train.subset(p),
        "train_speech_only": train.subset(s, keep_text=False),
        "train_text_only": train.subset(t, keep_wav=False),
        "train_full": train,
    }


def split_corpus(corpus: DataDir, *, dev: float = 0.03, test: float = 0.03,
                 paired: float = 0.30, speech_only: float = 0.35, seed: int = 0,
                 by_speaker: bool = False, dev_set: DataDir | None = None,
                 test_set: DataDir | None = None) -> dict[str, DataDir]:
    """The six sets of :data:`SETS` from one paired corpus.

    The utterances (with ``by_speaker``, the speakers) are shuffled with ``seed``;
    ``dev`` and ``test`` take ``max(1, round(fraction x count))`` of them, in that order,
    and the rest is ``train_full``, cut by :func:`chain_split`. A ``dev_set`` or
    ``test_set`` given is used as it is instead of being cut; its utterances (with
    ``by_speaker``, all utterances of its speakers) are left out of training.
    Raises ValueError for fractions out of range or a set that would be empty.
    """
    if corpus.wav_scp is None or corpus.text is None:
        raise ValueError("the corpus must be paired: it needs wav.scp and text")
    for name, value in (("dev", dev), ("test", test), ("paired", paired), ("speech-only", speech_only)):
        if not 0 <= value < 1:
            raise ValueError(f"--{name} must be a fraction within [0, 1): got {value}")
    if paired + speech_only > 1:
        raise ValueError(f"--paired + --speech-only must be at most 1 (the rest is text-only): "
                         f"got {paired} + {speech_only}")
    given = {name: data for name, data in (("dev", dev_set), ("test", test_set)) if data is not None}
    held_utts = {utt for data in given.values() for utt in data.utts}
    held_spks = {spk for data in given.values() for spk in data.utt2spk.values()} if by_speaker else set()
    pool = [utt for utt, spk in corpus.utt2spk.items() if utt not in held_utts and spk not in held_spks]
    if len(pool) < len(corpus.utts):
        logger.info("%d of %d utterances left out of training: %s the given %s set",
                    len(corpus.utts) - len(pool), len(corpus.utts),
                    "speakers of" if by_speaker else "in", " and ".join(given))
    pool_data = corpus.subset(pool)
    units = sorted(set(pool_data.utt2spk.values())) if by_speaker else pool
    what = "speakers" if by_speaker else "utterances"
    if not units:
        raise ValueError(f"no {what} left for training")
    to_cut = [name for name in ("dev", "test") if name not in given]
    counts = [max(1, round({"dev": dev, "test": test}[name] * len(units))) for name in to_cut]
    if sum(counts) >= len(units):
        raise ValueError(f"{len(units)} {what} are too few for --dev {dev} --test {test}: "
                         "nothing would be left for training")
    *cut, train = shuffle_split(units, (*(n / len(units) for n in counts),
                                        1 - sum(counts) / len(units)), seed)
    if by_speaker:
        cut, train = [_utts_of(pool_data, spks) for spks in cut], _utts_of(pool_data, train)
    sets = chain_split(pool_data.subset(train), paired=paired, speech_only=speech_only, seed=seed,
                       by_speaker=by_speaker)
    sets.update(given)
    sets.update((name, pool_data.subset(utts)) for name, utts in zip(to_cut, cut))
    empty = [name for name in SETS if not sets[name].utts]
    if empty:
        raise ValueError(f"{len(units)} {what} are too few for these fractions: "
                         f"{', '.join(empty)} would be empty")
    return {name: sets[name] for name in SETS}


def write_sets(sets: dict[str, DataDir], root: str | os.PathLike) -> None:
    """Save each data dir as ``root/<name>`` (:func:`chain.data.datadir.replace_dir`)."""
    for name, data in sets.items():
        replace_dir(data, Path(root) / name)
