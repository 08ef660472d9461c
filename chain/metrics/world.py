"""Mel-cepstral distortion, F0 RMSE and voicing error between synthesised and reference speech.

Both utterances are analysed with WORLD (:func:`chain.feats.world.world_features`) and their
frames aligned by DTW (``librosa.sequence.dtw``, Euclidean distance between mel-cepstra
without c_0). Over the aligned frame pairs (i, j):

- MCD (dB) of a pair: ``10 / ln(10) * sqrt(2 * sum_{m=1..M} (c_m - c'_m)^2)``, c_0 (energy)
  excluded; an utterance's MCD is the mean over its pairs, the set's the mean over utterances;
- F0 RMSE (Hz): ``sqrt(mean (f0_i - f0'_j)^2)`` over the pairs voiced in both, pooled over
  the set;
- V/UV error: the share of pairs whose voicing decisions (f0 > 0) differ, pooled over the set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import librosa
import numpy as np

from chain.feats.world import WorldFeatures

MCD_SCALE = 10.0 / math.log(10.0)


def mel_cepstral_distortion(mcep: np.ndarray, mcep_ref: np.ndarray) -> np.ndarray:
    """Per-frame MCD in dB of aligned mel-cepstra (T, M + 1) and (T, M + 1), c_0 excluded -> (T,)."""
    if mcep.shape != mcep_ref.shape or mcep.ndim != 2 or mcep.shape[1] < 2:
        raise ValueError(f"need aligned (T, M + 1) mel-cepstra with M >= 1: got {mcep.shape} and {mcep_ref.shape}")
    diff = mcep[:, 1:] - mcep_ref[:, 1:]
    return MCD_SCALE * np.sqrt(2.0 * np.sum(diff * diff, axis=1))


def dtw_path(mcep: np.ndarray, mcep_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices ``(i, j)`` of the DTW path between two mel-cepstra (T1, M + 1), (T2, M + 1),
    first frames to last, on the Euclidean distance without c_0."""
    _, path = librosa.sequence.dtw(X=mcep[:, 1:].T, Y=mcep_ref[:, 1:].T, metric="euclidean")
    path = path[::-1]  # librosa returns it from the end
    return path[:, 0], path[:, 1]


@dataclass
class WorldCounts:
    """Sums behind the scores; add them over utterances, then read the rates."""

    mcd_sum: float = 0.0    # sum over utterances of their mean MCD (dB)
    utts: int = 0
    f0_sq_error: float = 0.0  # sum of squared F0 differences (Hz^2) over pairs voiced in both
    voiced_both: int = 0
    vuv_errors: int = 0     # pairs whose voicing decisions differ
    pairs: int = 0          # aligned frame pairs

    def __iadd__(self, other: "WorldCounts") -> "WorldCounts":
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self

    @property
    def mcd(self) -> float:
        """Mean over utterances of the MCD (dB)."""
        return self.mcd_sum / max(self.utts, 1)

    @property
    def f0_rmse(self) -> float:
        """F0 RMSE (Hz) over the pairs voiced in both; NaN when there are none."""
        return math.sqrt(self.f0_sq_error / self.voiced_both) if self.voiced_both else math.nan

    @property
    def vuv_error(self) -> float:
        """Share of aligned pairs with different voicing decisions, in [0, 1]."""
        return self.vuv_errors / max(self.pairs, 1)


def utterance_counts(synth: WorldFeatures, ref: WorldFeatures) -> WorldCounts:
    """DTW-align ``synth`` to ``ref`` and count MCD, F0 and voicing errors (module docstring)."""
    i, j = dtw_path(synth.mcep, ref.mcep)
    f0, f0_ref = synth.f0[i], ref.f0[j]
    voiced, voiced_ref = f0 > 0, f0_ref > 0
    both = voiced & voiced_ref
    return WorldCounts(mcd_sum=float(mel_cepstral_distortion(synth.mcep[i], ref.mcep[j]).mean()), utts=1,
                       f0_sq_error=float(np.sum((f0[both] - f0_ref[both]) ** 2)),
                       voiced_both=int(both.sum()), vuv_errors=int(np.sum(voiced != voiced_ref)),
                       pairs=len(i))
