"""ABX discriminability of speech representations across speakers (ZeroSpeech 2019).

The task ``byCtxt_acSpkr`` of the 2019 evaluation (bootphon/zerospeech2020; section 4 of the
ZeroSpeech 2019 VQ-VAE paper reports it as "ABX"): an item is a phone in its context
(preceding and following phone) spoken by one speaker. A triplet (A, B, X) has A, B and X
in the same context, A and X the same phone, B another phone, A and B from one speaker and
X from another. It scores 1 when ``d(A, X) < d(B, X)``, 0.5 on a tie, 0 otherwise, with
``d`` the path-length normalised DTW distance of :mod:`chain.metrics.dtw`.

Scores are averaged over the triplets of a cell (context, speaker of A/B, speaker of X,
phone of A, phone of B), then over contexts, then over speaker pairs, then over phone
pairs; the ABX error is ``(1 - mean) x 100``.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from chain.metrics.dtw import dtw_pairs

log = logging.getLogger(__name__)


class Item(NamedTuple):
    """One ABX item: a phone of ``file`` from ``onset`` to ``offset`` seconds."""

    file: str
    onset: float
    offset: float
    phone: str
    context: str
    speaker: str


@dataclass
class AbxResult:
    error: float           # ABX error rate x 100 (lower is better)
    triplets: int          # triplets scored
    cells: int             # (context, speakers, phone pair) cells
    phone_pairs: int       # phone pairs in the final average
    by_phone_pair: dict    # (phone of A/X, phone of B) -> error x 100


def frame_times(num_frames: int, frame_shift: float, stride: int = 1) -> np.ndarray:
    """Centre times (s) of ``num_frames`` units, each ``stride`` frames of ``frame_shift``
    seconds; frame ``i`` is centred at ``i * frame_shift`` (centred STFT)."""
    return (np.arange(num_frames) * stride + (stride - 1) / 2) * frame_shift


def item_features(item: Item, feats: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The frames of ``feats`` (T, D) whose centre ``times`` (T,) lie within the item, or the
    frame nearest the item's middle when none does."""
    inside = (times >= item.onset) & (times <= item.offset)
    if inside.any():
        return feats[inside]
    middle = (item.onset + item.offset) / 2
    return feats[[int(np.argmin(np.abs(times - middle)))]]


def make_cells(items: Sequence[Item]) -> list[tuple[tuple, np.ndarray, np.ndarray, np.ndarray]]:
    """Every cell ``(key, A, B, X)`` of the across-speaker task: ``key`` is (context,
    speaker of A/B, speaker of X, phone of A/X, phone of B); A, B, X index ``items``."""
    groups: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for k, it in enumerate(items):
        groups[it.context][it.phone][it.speaker].append(k)
    cells = []
    for context in sorted(groups):
        by_phone = groups[context]
        for p1 in sorted(by_phone):
            for p2 in sorted(by_phone):
                if p1 == p2:
                    continue
                for spk in sorted(set(by_phone[p1]) & set(by_phone[p2])):
                    for spk_x in sorted(by_phone[p1]):
                        if spk_x != spk:
                            cells.append(((context, spk, spk_x, p1, p2), np.array(by_phone[p1][spk]),
                                          np.array(by_phone[p2][spk]), np.array(by_phone[p1][spk_x])))
    return cells


def abx(items: Sequence[Item], item_feats: Sequence[np.ndarray], distance: str = "cosine", *,
        max_triplets_per_cell: int = 0, seed: int = 0) -> AbxResult:
    """ABX error of the across-speaker task over ``items`` and their features ``(T_i, D)``.

    ``max_triplets_per_cell`` > 0 scores that many triplets drawn (with ``seed``) from a
    larger cell instead of all of them.
    """
    if len(items) != len(item_feats):
        raise ValueError(f"{len(items)} items but {len(item_feats)} feature matrices")
    cells = make_cells(items)
    if not cells:
        raise ValueError("no ABX triplet: needs two phones in one context spoken by one speaker "
                         "and the first of them by another speaker")
    rng = np.random.default_rng(seed)
    # 1. the triplets of each cell: all, or a sample
    triplets = []
    for _, a, b, x in cells:
        if max_triplets_per_cell and len(a) * len(b) * len(x) > max_triplets_per_cell:
            n = max_triplets_per_cell
            triplets.append((rng.choice(a, n), rng.choice(b, n), rng.choice(x, n)))
        else:
            ga, gb, gx = np.meshgrid(a, b, x, indexing="ij")
            triplets.append((ga.ravel(), gb.ravel(), gx.ravel()))
    # 2. the DTW distance of every distinct (A or B, X) pair, once
    n_items = len(items)
    codes = np.concatenate([np.concatenate([a * n_items + x, b * n_items + x]) for a, b, x in triplets])
    unique = np.unique(codes)
    dist = dtw_pairs(item_feats, np.stack([unique // n_items, unique % n_items], 1), distance)

    def d(first, x):
        return dist[np.searchsorted(unique, first * n_items + x)]

    # 3. score of each cell, then the averages over context, speakers and phone pairs
    by_speakers = defaultdict(list)
    total = 0
    for (key, *_), (a, b, x) in zip(cells, triplets):
        dax, dbx = d(a, x), d(b, x)
        score = np.where(dax < dbx, 1.0, np.where(dax == dbx, 0.5, 0.0)).mean()
        by_speakers[key[1:]].append(score)  # (spk, spk_x, p1, p2): over contexts
        total += len(a)
    by_pair = defaultdict(list)
    for (spk, spk_x, p1, p2), scores in by_speakers.items():
        by_pair[p1, p2].append(np.mean(scores))
    pair_means = {pair: float(np.mean(s)) for pair, s in by_pair.items()}
    error = (1.0 - float(np.mean(list(pair_means.values())))) * 100
    return AbxResult(error=error, triplets=total, cells=len(cells), phone_pairs=len(pair_means),
                     by_phone_pair={pair: (1 - m) * 100 for pair, m in sorted(pair_means.items())})


def abx_from_features(items: Sequence[Item], feats: Mapping[str, np.ndarray], *, frame_shift: float,
                      stride: int = 1, distance: str = "cosine", max_triplets_per_cell: int = 0,
                      seed: int = 0) -> AbxResult:
    """ABX of items cut from whole-utterance features ``file -> (T, D)`` (one row per
    ``stride`` frames of ``frame_shift`` seconds). Items of files without features are an error."""
    missing = sorted({it.file for it in items} - set(feats))
    if missing:
        raise ValueError(f"no features for {len(missing)} files of the ABX items, e.g. {missing[0]}")
    cut = [item_features(it, feats[it.file], frame_times(len(feats[it.file]), frame_shift, stride))
           for it in items]
    return abx(items, cut, distance, max_triplets_per_cell=max_triplets_per_cell, seed=seed)
