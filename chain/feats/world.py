"""WORLD analysis with pyworld: F0 and mel-cepstra of a waveform (objective TTS scores).

F0 is DIO refined by StoneMask (``dio``, fast) or Harvest (``harvest``, fewer voicing
errors, slower), one value per ``frame_period`` ms, 0 on unvoiced frames. The spectral
envelope is CheapTrick's power spectrum. The mel-cepstrum comes from WORLD's own codec,
``pyworld.code_spectral_envelope``: an orthonormal cosine transform of the log power
envelope sampled on a mel frequency axis, whose coefficient m is ``a / sqrt(2)`` for a log
power ``a cos(m w)`` (w the mel-warped frequency scaled to [0, pi]). Divided by ``sqrt(2)``
it is in the convention of SPTK's ``mcep``, ``ln|H(w)| = c_0 + sum_m c_m cos(m w)`` (log
amplitude), the one the usual mel-cepstral distortion formula assumes
(:func:`chain.metrics.world.mel_cepstral_distortion`). c_0 is the mean log power over the
mel axis divided by ``sqrt(2)`` (a gain g adds ``sqrt(2) ln g``); the distortion excludes it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

with warnings.catch_warnings():  # pyworld imports pkg_resources, which warns on import
    warnings.simplefilter("ignore", UserWarning)
    import pyworld

F0_METHODS = ("dio", "harvest")


@dataclass
class WorldFeatures:
    """WORLD analysis of one waveform, one row per frame."""

    f0: np.ndarray    # (T,) Hz, 0 where unvoiced
    mcep: np.ndarray  # (T, order + 1) mel-cepstrum of the log amplitude envelope, c_0 first


def world_features(wav: np.ndarray, fs: int, *, mcep_order: int = 24, f0_method: str = "dio",
                   frame_period: float = 5.0, f0_floor: float = 71.0, f0_ceil: float = 800.0
                   ) -> WorldFeatures:
    """F0 and mel-cepstrum (orders 0..``mcep_order``) of ``wav`` (N,) sampled at ``fs`` Hz."""
    if f0_method not in F0_METHODS:
        raise ValueError(f"f0_method must be one of {', '.join(F0_METHODS)}: got {f0_method!r}")
    x = np.ascontiguousarray(wav, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty mono waveform (N,): got shape {x.shape}")
    if not 0 < f0_floor < f0_ceil < fs / 2:
        raise ValueError(f"need 0 < f0_floor < f0_ceil < fs/2: got {f0_floor}, {f0_ceil}, fs {fs}")
    fft_size = pyworld.get_cheaptrick_fft_size(fs, f0_floor)
    if not 1 <= mcep_order < fft_size // 2:
        raise ValueError(f"mcep_order must be in 1..{fft_size // 2 - 1} at {fs} Hz: got {mcep_order}")
    if f0_method == "dio":
        f0, times = pyworld.dio(x, fs, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
        f0 = pyworld.stonemask(x, f0, times, fs)
    else:
        f0, times = pyworld.harvest(x, fs, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
    envelope = pyworld.cheaptrick(x, f0, times, fs, f0_floor=f0_floor)  # (T, fft_size/2 + 1)
    coded = pyworld.code_spectral_envelope(envelope, fs, mcep_order + 1)  # (T, order + 1)
    return WorldFeatures(f0=f0, mcep=coded / np.sqrt(2.0))
