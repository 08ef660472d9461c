"""Baseline representations of section 4.3 of the ZeroSpeech 2019 VQ-VAE paper.

- direct features (4.3.1): MFCC (13 + deltas + delta-deltas, 25 ms / 10 ms, librosa) or log-mel,
  one vector per frame;
- K-Means (4.3.2): scikit-learn's MiniBatchKMeans on MFCC frames; a frame is represented by its
  nearest centroid (scored with DTW cosine);
- GMM (4.3.3): scikit-learn's GaussianMixture with diagonal covariances on MFCC frames; a
  frame is represented by its posteriors ``p(z|x) ~ p(x|z) p(z)`` (scored with DTW KL).

Time reduction ``nT`` (the tables' 1T/2T/4T) averages each run of ``n`` frames before
clustering and encoding, so one unit stands for ``n`` frames as a stride-``n`` VQ-VAE code does.
Fitted models are stored as plain arrays (``.npz``), never pickles.
"""
from __future__ import annotations

import os

import numpy as np

METHODS = ("mfcc", "logmel", "kmeans", "gmm")


def mfcc(samples: np.ndarray, fs: int, *, win_length_ms: float = 25.0, hop_length_ms: float = 10.0,
         n_mfcc: int = 13) -> np.ndarray:
    """MFCC + deltas + delta-deltas ``(1 + N // hop, 3 n_mfcc)`` float32 of a mono signal, with
    frames centred on multiples of the hop (as :class:`chain.feats.fbank.Fbank`'s)."""
    import librosa

    win = int(round(fs * win_length_ms / 1000))
    hop = int(round(fs * hop_length_ms / 1000))
    n_fft = 1 << (win - 1).bit_length()
    c = librosa.feature.mfcc(y=np.asarray(samples, np.float32), sr=fs, n_mfcc=n_mfcc, n_fft=n_fft,
                             win_length=win, hop_length=hop, center=True)  # (n_mfcc, T)
    width = min(9, c.shape[1] - (1 - c.shape[1] % 2))  # delta window: odd, at most the frames
    if width < 3:
        d1 = d2 = np.zeros_like(c)
    else:
        d1 = librosa.feature.delta(c, width=width, order=1)
        d2 = librosa.feature.delta(c, width=width, order=2)
    return np.concatenate([c, d1, d2]).T.astype(np.float32)


def pool_frames(x: np.ndarray, stride: int) -> np.ndarray:
    """Means of runs of ``stride`` frames: ``(T, D) -> (ceil(T / stride), D)`` (the last run may be shorter)."""
    if stride == 1:
        return x
    starts = np.arange(0, len(x), stride)
    sums = np.add.reduceat(x.astype(np.float64), starts, axis=0)
    counts = np.diff(np.append(starts, len(x)))[:, None]
    return (sums / counts).astype(np.float32)


def fit(method: str, frames: np.ndarray, clusters: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Fit K-Means or a diagonal GMM to ``frames (N, D)``; returns its arrays (for :func:`encode`)."""
    if method == "kmeans":
        from sklearn.cluster import MiniBatchKMeans

        km = MiniBatchKMeans(n_clusters=clusters, random_state=seed, batch_size=1024, n_init=3).fit(frames)
        return {"centroids": km.cluster_centers_.astype(np.float32)}
    if method == "gmm":
        from sklearn.mixture import GaussianMixture

        gmm = GaussianMixture(n_components=clusters, covariance_type="diag", random_state=seed,
                              max_iter=50, reg_covar=1e-3).fit(frames)
        return {"weights": gmm.weights_, "means": gmm.means_, "variances": gmm.covariances_}
    raise ValueError(f"only kmeans and gmm are fitted: got '{method}'")


def encode(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Units of frames ``x (T, D)``: nearest centroids ``(T, D)`` (K-Means) or posteriors
    ``(T, C)`` (GMM)."""
    x = np.asarray(x, np.float64)
    if "centroids" in model:
        c = model["centroids"].astype(np.float64)
        d = (x ** 2).sum(1, keepdims=True) - 2 * x @ c.T + (c ** 2).sum(1)
        return model["centroids"][d.argmin(1)]
    means, var, weights = model["means"], model["variances"], model["weights"]
    # log p(x|z) + log p(z) of diagonal Gaussians, normalised over z (Bayes' rule)
    log_joint = (np.log(weights) - 0.5 * np.log(2 * np.pi * var).sum(1)
                 - 0.5 * (((x[:, None, :] - means) ** 2) / var).sum(2))  # (T, C)
    log_joint -= log_joint.max(1, keepdims=True)
    post = np.exp(log_joint)
    return (post / post.sum(1, keepdims=True)).astype(np.float32)


def save(path: str | os.PathLike, model: dict[str, np.ndarray]) -> None:
    np.savez(path, **model)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
