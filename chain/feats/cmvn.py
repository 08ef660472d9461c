"""Global cepstral mean and variance normalisation in Kaldi's format.

The stats are a ``(2, D + 1)`` float64 matrix, as Kaldi's ``compute-cmvn-stats``
writes: row 0 holds the per-dimension sums and the frame count in its last column,
row 1 the per-dimension sums of squares and 0. They are stored as a single Kaldi
binary matrix (no key) in a plain file such as ``data/cmvn.ark``, readable by Kaldi's
``copy-matrix`` and by ``kaldiio.load_mat``.

``apply_cmvn``/``invert_cmvn`` work on numpy arrays and on torch tensors (on any
device, in the tensor's dtype): the TTS predicts normalised features and synthesis
de-normalises them. Variances are floored at ``var_floor`` so a constant dimension
does not divide by zero.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable

import numpy as np

VAR_FLOOR = 1e-6  # per-dimension variance floor (log-mel variances are O(1))


class CmvnAccumulator:
    """Running Kaldi-format stats over ``(T, D)`` matrices (sums in float64)."""

    def __init__(self):
        self.stats: np.ndarray | None = None
        self.n_mats = 0

    def add(self, x: np.ndarray, key: str = "") -> None:
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"{key or 'matrix'}: expected (frames, dims), got shape {x.shape}")
        if self.stats is None:
            self.stats = np.zeros((2, x.shape[1] + 1), np.float64)
        elif x.shape[1] != self.stats.shape[1] - 1:
            raise ValueError(f"{key or 'matrix'}: {x.shape[1]} dims, but earlier matrices had "
                             f"{self.stats.shape[1] - 1}")
        x64 = x.astype(np.float64, copy=False)
        self.stats[0, :-1] += x64.sum(0)
        self.stats[1, :-1] += np.einsum("td,td->d", x64, x64)
        self.stats[0, -1] += x.shape[0]
        self.n_mats += 1

    @property
    def frames(self) -> int:
        return 0 if self.stats is None else int(self.stats[0, -1])


def accumulate_cmvn(mats: Iterable[np.ndarray]) -> np.ndarray:
    """Kaldi-format ``(2, D + 1)`` stats of an iterable of ``(T, D)`` matrices."""
    acc = CmvnAccumulator()
    for x in mats:
        acc.add(x)
    if acc.stats is None or acc.frames == 0:
        raise ValueError("no frames to compute CMVN stats from")
    return acc.stats


def cmvn_stats_from_scp(scp: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Stats of every matrix of a Kaldi scp, loaded one at a time: ``(stats, n_utts)``.

    Raises DataError naming the scp line of an unreadable or mismatched matrix.
    """
    import kaldiio

    from chain.data.datadir import DataError, read_kv

    if not os.path.isfile(scp):
        raise DataError(scp, "no such file (expected a feats.scp from stage 1)")
    acc = CmvnAccumulator()
    for n, (key, value) in enumerate(read_kv(scp, check_sorted=False).items(), 1):
        try:
            mat = kaldiio.load_mat(value)
        except Exception as e:  # kaldiio raises OSError, ValueError, struct.error, AssertionError...
            raise DataError(scp, f"'{key}': cannot read the matrix '{value}' "
                            f"({type(e).__name__}: {e}; was stage 1 interrupted?)", n) from None
        try:
            acc.add(mat, key)
        except ValueError as e:
            raise DataError(scp, str(e), n) from None
    if acc.frames == 0:
        raise DataError(scp, "no frames: the scp is empty or every matrix has 0 rows")
    return acc.stats, acc.n_mats


def check_stats(stats: Any, source: str = "stats") -> None:
    shape = tuple(stats.shape)
    if len(shape) != 2 or shape[0] != 2 or shape[1] < 2:
        raise ValueError(f"{source}: CMVN stats must be a (2, D+1) matrix, got shape {shape}")
    if not float(stats[0, -1]) > 0:
        raise ValueError(f"{source}: CMVN stats have a frame count of {float(stats[0, -1])}")


def save_cmvn(path: str | os.PathLike, stats: np.ndarray) -> None:
    """Write the stats as one Kaldi binary double matrix, atomically."""
    import kaldiio

    stats = np.asarray(stats, np.float64)
    check_stats(stats, str(path))
    path = str(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=os.path.dirname(path) or ".")
    os.close(fd)
    try:
        kaldiio.save_mat(tmp, stats)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_cmvn(path: str | os.PathLike) -> np.ndarray:
    """Read stats written by :func:`save_cmvn` or Kaldi's ``compute-cmvn-stats``."""
    import kaldiio

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such CMVN stats file (stage 1 writes it)")
    stats = np.asarray(kaldiio.load_mat(str(path)), np.float64)
    check_stats(stats, str(path))
    return stats


def cmvn_mean_std(stats: np.ndarray, norm_vars: bool = True,
                  var_floor: float = VAR_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation (ones if not ``norm_vars``), float64."""
    stats = np.asarray(stats, np.float64)
    check_stats(stats)
    count = stats[0, -1]
    mean = stats[0, :-1] / count
    if not norm_vars:
        return mean, np.ones_like(mean)
    var = np.maximum(stats[1, :-1] / count - mean ** 2, var_floor)
    return mean, np.sqrt(var)


def _like(v: np.ndarray, x):
    """``v`` as an array/tensor matching ``x`` (torch: same dtype and device)."""
    if isinstance(x, np.ndarray):
        return v.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32)
    import torch

    if isinstance(x, torch.Tensor):
        return torch.as_tensor(v, dtype=x.dtype if x.is_floating_point() else torch.float32,
                               device=x.device)
    raise TypeError(f"expected a numpy array or torch tensor, got {type(x).__name__}")


def _stats_np(stats) -> np.ndarray:
    if not isinstance(stats, np.ndarray) and hasattr(stats, "detach"):  # a torch tensor
        stats = stats.detach().cpu().numpy()
    return np.asarray(stats, np.float64)


def apply_cmvn(x, stats, norm_vars: bool = True, var_floor: float = VAR_FLOOR):
    """``(x - mean) / std`` over the last dimension of ``x (..., D)``."""
    mean, std = cmvn_mean_std(_stats_np(stats), norm_vars, var_floor)
    if x.shape[-1] != mean.shape[0]:
        raise ValueError(f"features have {x.shape[-1]} dims, CMVN stats {mean.shape[0]}")
    return (x - _like(mean, x)) / _like(std, x)


def invert_cmvn(y, stats, norm_vars: bool = True, var_floor: float = VAR_FLOOR):
    """``y * std + mean``: undo :func:`apply_cmvn` (e.g. on the TTS's predicted mel)."""
    mean, std = cmvn_mean_std(_stats_np(stats), norm_vars, var_floor)
    if y.shape[-1] != mean.shape[0]:
        raise ValueError(f"features have {y.shape[-1]} dims, CMVN stats {mean.shape[0]}")
    return y * _like(std, y) + _like(mean, y)
