"""Speaker verification and identification scores of speaker embeddings.

Embeddings are unit vectors (Eq. (21) of the machine speech chain paper), so a trial's
score is the cosine of two utterances' vectors.

- Equal error rate (verification): every pair of utterances of the set is a trial, target
  when both have the same speaker; the EER is where the false-acceptance and false-rejection
  rates meet on the ROC curve (scikit-learn's ``roc_curve``; the mean of the two at the
  threshold where they are closest).
- Identification accuracy: each speaker is enrolled with the mean vector of its first
  ``enroll`` utterances (in the given order); every other utterance is assigned the speaker
  of the nearest enrolled mean (cosine) among all speakers of the set.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import roc_curve


@dataclass
class SpeakerScores:
    """EER (%) over ``trials`` pairs and identification accuracy (%) over ``tested`` utterances."""

    eer: float
    trials: int
    accuracy: float
    tested: int

    def line(self) -> str:
        return (f"EER {self.eer:.2f}% ({self.trials} trials), identification accuracy "
                f"{self.accuracy:.2f}% ({self.tested} utterances)")


def equal_error_rate(scores: np.ndarray, target: np.ndarray) -> float:
    """EER in % of trial ``scores`` (N,) with ``target`` (N,) bool (both classes present)."""
    target = np.asarray(target, dtype=bool)
    if target.all() or not target.any():
        raise ValueError("the EER needs target and non-target trials: give at least two speakers, "
                         "one with two utterances")
    fpr, tpr, _ = roc_curve(target, scores)
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float(100 * (fpr[i] + fnr[i]) / 2)


def verification_eer(vectors: np.ndarray, speakers: Sequence[str]) -> tuple[float, int]:
    """``(EER %, trials)`` over all pairs of rows of ``vectors`` (N, Z) unit norm."""
    scores = vectors @ vectors.T  # (N, N) cosines
    upper = np.triu_indices(len(vectors), k=1)
    labels = np.asarray(speakers)
    target = labels[:, None] == labels[None, :]
    return equal_error_rate(scores[upper], target[upper]), len(upper[0])


def identification_accuracy(vectors: np.ndarray, speakers: Sequence[str], enroll: int = 1) -> tuple[float, int]:
    """``(accuracy %, utterances tested)``: nearest enrolled speaker mean (module docstring)."""
    if enroll < 1:
        raise ValueError(f"enroll must be >= 1: got {enroll}")
    names = sorted(set(speakers))
    rows = {s: [i for i, spk in enumerate(speakers) if spk == s] for s in names}
    means = np.stack([vectors[rows[s][:enroll]].mean(0) for s in names])  # (S, Z)
    means /= np.linalg.norm(means, axis=1, keepdims=True).clip(1e-12)
    tested = [(i, k) for k, s in enumerate(names) for i in rows[s][enroll:]]
    if not tested:
        raise ValueError(f"no speaker has more than {enroll} utterance(s) to identify")
    guess = (vectors[[i for i, _ in tested]] @ means.T).argmax(1)
    correct = sum(int(g == k) for g, (_, k) in zip(guess, tested))
    return 100.0 * correct / len(tested), len(tested)


def can_score(speakers: Sequence[str], enroll: int = 1) -> bool:
    """Whether a set of these speakers has an EER and an identification accuracy: two
    speakers at least, one with more than ``enroll`` utterances."""
    counts = Counter(speakers)
    return len(counts) > 1 and max(counts.values()) > max(enroll, 1)


def speaker_scores(vectors: np.ndarray, speakers: Sequence[str], enroll: int = 1) -> SpeakerScores:
    """EER and identification accuracy of utterance ``vectors`` (N, Z) of ``speakers``."""
    eer, trials = verification_eer(vectors, speakers)
    accuracy, tested = identification_accuracy(vectors, speakers, enroll)
    return SpeakerScores(eer, trials, accuracy, tested)
