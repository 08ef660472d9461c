"""Waveforms from magnitude spectrograms: Griffin-Lim in torch, inverse pre-emphasis, wav output.

Section III-C of the machine speech chain paper: the TTS predicts a log-magnitude
linear spectrogram and the phase is estimated with the Griffin-Lim algorithm (ref. [41])
before the inverse STFT. The iteration is the "fast Griffin-Lim" of Perraudin et al.
(2013): with ``momentum`` a > 0 each projection is extrapolated from the previous one,
``c_n = P(c_{n-1}) - a / (1 + a) * P(c_{n-2})`` with the phase then renormalised
(``momentum=0`` is the original algorithm). It runs with torch.stft/istft, so on the
device of its input (GPU included), and on batches.

The STFT parameters must be those of the feature extractor (``chain.feats.fbank``):
``log_linear_to_wav`` reads them from the ``FbankConfig`` used at stage 1.
"""
from __future__ import annotations

import os

import numpy as np
import torch

WINDOWS = {
    "hann": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "rectangular": lambda n, **kw: torch.ones(n, **kw),
}


def stft_window(name: str, win_length: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Periodic analysis window (as scipy.signal.get_window and the feature extractor)."""
    if name not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}: got {name!r}")
    return WINDOWS[name](win_length, dtype=dtype, device=device)


def griffin_lim(magnitude: torch.Tensor, *, n_fft: int, hop_length: int, win_length: int | None = None,
                window: str = "hann", center: bool = True, n_iter: int = 60, momentum: float = 0.99,
                length: int | None = None, seed: int = 0) -> torch.Tensor:
    """Estimate a signal whose STFT magnitude is ``magnitude``.

    magnitude (T, F) or (B, T, F), frames first as the features, F = n_fft // 2 + 1,
    linear magnitude (not log, not power) -> signal (N,) or (B, N) on the same device,
    N = ``length`` or (T - 1) * hop_length (center) / (T - 1) * hop_length + n_fft.
    Phases start random (``seed`` makes it reproducible). One centred frame spans no
    samples: N = 0 (a TTS may stop after its first frame), and so does an empty input.
    """
    win_length = n_fft if win_length is None else win_length
    if magnitude.size(-1) != n_fft // 2 + 1:
        raise ValueError(f"magnitude has {magnitude.size(-1)} bins, n_fft={n_fft} needs {n_fft // 2 + 1}: "
                         "pass the n_fft of the feature extractor")
    if n_iter < 0 or not 0 <= momentum < 1:
        raise ValueError(f"need n_iter >= 0 and 0 <= momentum < 1: got {n_iter}, {momentum}")
    single = magnitude.dim() == 2
    spec = magnitude[None] if single else magnitude  # (B, T, F)
    spec = spec.transpose(1, 2).to(torch.float32)  # (B, F, T)
    frames = spec.size(-1)
    if length is None:
        length = (frames - 1) * hop_length + (0 if center else n_fft)
    if length <= 0 or frames == 0:
        empty = spec.new_zeros(spec.size(0), max(length, 0))
        return empty[0] if single else empty
    win = stft_window(window, win_length, device=spec.device)
    stft_kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=win, center=center)

    def istft(x: torch.Tensor) -> torch.Tensor:
        return torch.istft(x, length=length, **stft_kw)  # (B, N)

    def stft(y: torch.Tensor) -> torch.Tensor:
        x = torch.stft(y, pad_mode="constant", return_complex=True, **stft_kw)  # (B, F, T')
        return x[..., :frames]

    gen = torch.Generator(device=spec.device).manual_seed(seed)
    angles = torch.exp(2j * torch.pi * torch.rand(spec.shape, generator=gen, device=spec.device))
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = stft(istft(spec * angles))  # projection onto consistent spectrograms
        angles = rebuilt - (momentum / (1 + momentum)) * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    signal = istft(spec * angles)
    return signal[0] if single else signal


def spectral_convergence(magnitude: torch.Tensor, signal: torch.Tensor, *, n_fft: int, hop_length: int,
                         win_length: int | None = None, window: str = "hann", center: bool = True) -> float:
    """||S - |STFT(y)|||_F / ||S||_F for a magnitude S (T, F) and a signal y (N,)."""
    win_length = n_fft if win_length is None else win_length
    win = stft_window(window, win_length, device=signal.device)
    rebuilt = torch.stft(signal, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=win,
                         center=center, pad_mode="constant", return_complex=True).abs().T  # (T', F)
    frames = min(rebuilt.size(0), magnitude.size(0))
    diff = torch.linalg.norm(magnitude[:frames] - rebuilt[:frames]) / torch.linalg.norm(magnitude[:frames])
    return float(diff)


def inverse_preemphasis(x, coef: float = 0.97) -> np.ndarray:
    """IIR filter 1 / (1 - coef z^-1): y[n] = x[n] + coef * y[n-1], zero initial state.

    Inverts ``chain.feats.fbank.preemphasis`` (y[n] = x[n] - coef x[n-1]) exactly up to
    float rounding. x (N,) or (B, N) numpy or torch -> float64 numpy.
    """
    from scipy.signal import lfilter

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, np.float64)
    return lfilter([1.0], [1.0, -coef], x, axis=-1) if coef else x


def log_linear_to_wav(log_linear, cfg, *, cmvn_stats=None, power: float = 1.0, n_iter: int = 60,
                      momentum: float = 0.99, peak: float | None = None, seed: int = 0) -> np.ndarray:
    """The TTS's log-linear output (T, F) -> waveform (N,) float32 at ``cfg.fs``.

    cfg: the ``chain.feats.fbank.FbankConfig`` the targets were extracted with (n_fft,
    hop, window, centring, pre-emphasis). cmvn_stats: Kaldi-format stats of the linear
    features when the model predicts normalised features (inverted first). power: the
    magnitude is raised to it before Griffin-Lim (1.0-1.5 sharpens formants). peak: if
    given, the waveform is scaled so its largest absolute sample equals it.
    """
    x = torch.as_tensor(log_linear).detach()
    if cmvn_stats is not None:
        from chain.feats.cmvn import invert_cmvn

        x = invert_cmvn(x, cmvn_stats)
    magnitude = torch.exp(x.to(torch.float32)) ** power  # (T, F)
    signal = griffin_lim(magnitude, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length,
                         window=cfg.window, center=cfg.center, n_iter=n_iter, momentum=momentum, seed=seed)
    wav = inverse_preemphasis(signal, cfg.preemph)
    if peak is not None and wav.size:
        wav = wav * (peak / max(float(np.abs(wav).max()), 1e-8))
    return wav.astype(np.float32)


def write_wav(path: str | os.PathLike, samples, fs: int) -> int:
    """Write mono 16-bit PCM ``path`` atomically (temp file + rename); samples (N,) in [-1, 1].

    Samples outside [-1, 1] are clipped; returns how many were.
    """
    import soundfile as sf

    from chain.fileio import atomic_write

    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    samples = np.asarray(samples, np.float64).reshape(-1)
    clipped = int(np.count_nonzero(np.abs(samples) > 1.0))
    with atomic_write(path, "wb") as f:
        # the temp name does not end in .wav, so the format is given explicitly
        sf.write(f, np.clip(samples, -1.0, 1.0), fs, format="WAV", subtype="PCM_16")
    return clipped
