"""Frame distances and path-length normalised DTW, batched over many pairs (ZeroSpeech ABX).

The distances of the ZeroSpeech 2019 evaluation (bootphon/zerospeech2020; section 4.3 of the
ZeroSpeech 2019 VQ-VAE paper scores MFCC, K-Means and VQ-VAE codes with "DTW cosine" and
GMM posteriors with "DTW KL"):

- ``cosine``: ``arccos(a.b / (|a| |b|)) / pi`` in [0, 1]; a zero vector is at distance 1
  from a non-zero one and 0 from another zero vector;
- ``kl``: symmetrised Kullback-Leibler divergence ``(KL(p||q) + KL(q||p)) / 2`` of rows
  made probability vectors (rows normalised, machine epsilon added, normalised again).

DTW steps are (i-1, j), (i, j-1), (i-1, j-1) with unit weights; the cost of the best path
is divided by its number of cells. Where predecessors tie, the path takes the diagonal
first, then (i, j-1), then (i-1, j), which fixes the path length. :func:`dtw_batch`
sweeps the anti-diagonals of all pairs at once (one numpy operation per anti-diagonal);
:func:`dtw_reference` is the plain double loop it is tested against.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

DISTANCES = ("cosine", "kl")


def cosine_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Angular distance of the rows: ``(..., N, D), (..., M, D) -> (..., N, M)`` in [0, 1]."""
    nx = np.linalg.norm(x, axis=-1)  # (..., N)
    ny = np.linalg.norm(y, axis=-1)  # (..., M)
    dot = x @ np.swapaxes(y, -1, -2)  # (..., N, M)
    denom = nx[..., :, None] * ny[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(dot / denom, -1.0, 1.0)
    d = np.arccos(cos) / np.pi
    zx, zy = (nx == 0)[..., :, None], (ny == 0)[..., None, :]
    return np.where(zx & zy, 0.0, np.where(zx | zy, 1.0, d))


def _probabilities(x: np.ndarray) -> np.ndarray:
    eps = np.finfo(x.dtype).eps
    x = x / x.sum(-1, keepdims=True)
    x = x + eps
    return x / x.sum(-1, keepdims=True)


def kl_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Symmetrised KL divergence of the rows (non-negative vectors, e.g. posteriors):
    ``(..., N, D), (..., M, D) -> (..., N, M)``."""
    p, q = _probabilities(np.asarray(x, np.float64)), _probabilities(np.asarray(y, np.float64))
    lp, lq = np.log(p), np.log(q)
    pp = (p * lp).sum(-1)  # (..., N)
    qq = (q * lq).sum(-1)  # (..., M)
    kl_pq = pp[..., :, None] - p @ np.swapaxes(lq, -1, -2)  # KL(p_i || q_j)
    kl_qp = qq[..., None, :] - np.swapaxes(q @ np.swapaxes(lp, -1, -2), -1, -2)  # KL(q_j || p_i)
    return 0.5 * (kl_pq + kl_qp)


def frame_distance(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The frame distance called ``name`` (one of :data:`DISTANCES`)."""
    if name == "cosine":
        return cosine_distance
    if name == "kl":
        return kl_distance
    raise ValueError(f"distance must be one of {', '.join(DISTANCES)}: got '{name}'")


def dtw_reference(dist: np.ndarray) -> float:
    """Path-length normalised DTW cost of one distance matrix ``(N, M)``, by a plain double loop."""
    n, m = dist.shape
    cost = np.full((n + 1, m + 1), np.inf)
    length = np.zeros((n + 1, m + 1))
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diag, left, up = cost[i - 1, j - 1], cost[i, j - 1], cost[i - 1, j]
            if diag <= left and diag <= up:
                prev = (i - 1, j - 1)
            elif left <= up:
                prev = (i, j - 1)
            else:
                prev = (i - 1, j)
            cost[i, j] = dist[i - 1, j - 1] + cost[prev]
            length[i, j] = length[prev] + 1
    return float(cost[n, m] / length[n, m])


def dtw_batch(dist: np.ndarray, x_lengths: np.ndarray, y_lengths: np.ndarray) -> np.ndarray:
    """Normalised DTW costs of a batch of padded distance matrices.

    dist: ``(B, N, M)``; x_lengths, y_lengths: ``(B,)`` valid rows and columns of each.
    Returns ``(B,)``: the cost of the best path from (0, 0) to (len_x - 1, len_y - 1)
    divided by its number of cells. Padded cells never feed valid ones (a cell depends
    only on cells with smaller indices), so padding needs no masking.
    """
    b, n, m = dist.shape
    cost = np.full((b, n + 1, m + 1), np.inf)  # cell (i, j) of the paper at [i + 1, j + 1]
    length = np.zeros((b, n + 1, m + 1))
    cost[:, 0, 0] = 0.0
    for k in range(n + m - 1):  # anti-diagonal i + j = k
        i = np.arange(max(0, k - m + 1), min(k, n - 1) + 1)
        j = k - i
        diag, left, up = cost[:, i, j], cost[:, i + 1, j], cost[:, i, j + 1]  # (B, cells)
        take_diag = (diag <= left) & (diag <= up)
        take_left = ~take_diag & (left <= up)
        best = np.where(take_diag, diag, np.where(take_left, left, up))
        best_len = np.where(take_diag, length[:, i, j],
                            np.where(take_left, length[:, i + 1, j], length[:, i, j + 1]))
        cost[:, i + 1, j + 1] = dist[:, i, j] + best
        length[:, i + 1, j + 1] = best_len + 1
    rows = np.arange(b)
    x_lengths, y_lengths = np.asarray(x_lengths), np.asarray(y_lengths)
    return cost[rows, x_lengths, y_lengths] / length[rows, x_lengths, y_lengths]


def dtw_pairs(items: Sequence[np.ndarray], pairs: np.ndarray, distance: str = "cosine",
              chunk: int = 2048) -> np.ndarray:
    """Normalised DTW distances of ``pairs`` ``(P, 2)`` of indices into ``items`` (each ``(T_i, D)``).

    Pairs are sorted by length and padded per chunk of ``chunk`` pairs. Returns ``(P,)``.
    """
    fn = frame_distance(distance)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lengths = np.array([len(x) for x in items])
    if pairs.size and (lengths[pairs] == 0).any():
        raise ValueError("DTW of an empty item: every item needs at least one frame")
    out = np.empty(len(pairs))
    order = np.lexsort((lengths[pairs[:, 1]], lengths[pairs[:, 0]]))
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        a, c = pairs[idx, 0], pairs[idx, 1]
        la, lc = lengths[a], lengths[c]
        xa, xc = _pad([items[i] for i in a], la.max()), _pad([items[i] for i in c], lc.max())
        with np.errstate(all="ignore"):  # padded rows (zero vectors) are never reached
            d = fn(xa, xc)  # (b, Na, Nc)
        out[idx] = dtw_batch(d, la, lc)
    return out


def _pad(mats: list[np.ndarray], length: int) -> np.ndarray:
    dim = mats[0].shape[1]
    out = np.zeros((len(mats), length, dim), np.float64)
    for k, x in enumerate(mats):
        out[k, :len(x)] = x
    return out
