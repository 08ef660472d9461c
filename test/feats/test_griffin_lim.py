"""Griffin-Lim in torch, inverse pre-emphasis, log-linear -> wav, atomic wav writing."""
import numpy as np
import pytest
import soundfile as sf
import torch

from chain.feats.cmvn import accumulate_cmvn, apply_cmvn
from chain.feats.fbank import Fbank, FbankConfig, preemphasis
from chain.feats.griffin_lim import (griffin_lim, inverse_preemphasis, log_linear_to_wav,
                                     spectral_convergence, stft_window, write_wav)

torch.set_num_threads(1)

FS, N_FFT, HOP, WIN = 16000, 512, 64, 256
KW = dict(n_fft=N_FFT, hop_length=HOP, win_length=WIN)
T = np.arange(FS // 2) / FS  # 0.5 s


def signals():
    sines = (0.3 * np.sin(2 * np.pi * 220 * T) + 0.2 * np.sin(2 * np.pi * 660 * T + 1)
             + 0.1 * np.sin(2 * np.pi * 1500 * T))
    chirp = 0.5 * np.sin(2 * np.pi * (200 * T + 1500 * T ** 2))  # 200 Hz -> 1700 Hz
    return {"sines": sines, "chirp": chirp}


def magnitude(x):
    x = torch.as_tensor(x, dtype=torch.float32)
    spec = torch.stft(x, window=stft_window("hann", WIN), center=True, pad_mode="constant",
                      return_complex=True, **KW)
    return spec.abs().T  # (T, F)


@pytest.mark.parametrize("name", ["sines", "chirp"])
def test_griffin_lim_recovers_a_consistent_signal(name):
    # measured: 100 fast-GL iterations give 0.044 (sines) and 0.023 (chirp); random phase 0.73-0.76
    S = magnitude(signals()[name])
    start = spectral_convergence(S, griffin_lim(S, n_iter=0, **KW), **KW)
    y = griffin_lim(S, n_iter=100, **KW)
    assert y.shape == (len(T),)
    assert spectral_convergence(S, y, **KW) < 0.1 < start
    # plain Griffin-Lim (no momentum) converges too, more slowly (measured 0.077 / 0.053)
    assert spectral_convergence(S, griffin_lim(S, n_iter=100, momentum=0.0, **KW), **KW) < 0.15


def test_griffin_lim_batches_and_is_reproducible():
    mags = torch.stack([magnitude(x) for x in signals().values()])  # (2, T, F)
    y = griffin_lim(mags, n_iter=30, **KW)
    assert y.shape == (2, len(T))
    assert torch.equal(y, griffin_lim(mags, n_iter=30, **KW))
    for i in range(2):
        assert spectral_convergence(mags[i], y[i], **KW) < 0.15


def test_one_centred_frame_gives_an_empty_signal():
    # a TTS may stop after one frame: (T - 1) * hop = 0 samples, not an error inside istft
    S = magnitude(signals()["sines"])
    assert griffin_lim(S[:1], n_iter=2, **KW).shape == (0,)
    assert griffin_lim(torch.stack([S[:1], S[1:2]]), n_iter=2, **KW).shape == (2, 0)
    assert griffin_lim(S[:2], n_iter=2, **KW).shape == (HOP,)
    cfg = FbankConfig(fs=FS, win_length_ms=WIN / FS * 1000, hop_length_ms=HOP / FS * 1000, n_fft=N_FFT, n_mels=20)
    assert log_linear_to_wav(np.zeros((1, N_FFT // 2 + 1)), cfg, n_iter=2, peak=0.9).shape == (0,)


def test_inverse_preemphasis_inverts_preemphasis_exactly():
    x = np.random.default_rng(0).standard_normal(5000)
    y = preemphasis(x, 0.97)
    assert np.abs(inverse_preemphasis(y, 0.97) - x).max() < 1e-12
    assert np.abs(inverse_preemphasis(torch.tensor(y), 0.97) - x).max() < 1e-12
    assert np.array_equal(inverse_preemphasis(y, 0.0), y)


def test_log_linear_to_wav_from_extracted_features_with_and_without_cmvn():
    cfg = FbankConfig(fs=FS, win_length_ms=WIN / FS * 1000, hop_length_ms=HOP / FS * 1000, n_fft=N_FFT, n_mels=20)
    x = signals()["chirp"]
    _, lin = Fbank(cfg)(x)
    wav = log_linear_to_wav(lin, cfg, n_iter=60)
    assert wav.dtype == np.float32 and wav.shape == x.shape
    # the extractor's magnitudes are taken after pre-emphasis; the wav is de-emphasised again
    assert spectral_convergence(magnitude(x), torch.tensor(wav), **KW) < 0.1
    stats = accumulate_cmvn([lin])
    wav_cmvn = log_linear_to_wav(apply_cmvn(lin, stats), cfg, cmvn_stats=stats, n_iter=60)
    assert np.allclose(wav_cmvn, wav, atol=1e-3)
    loud = log_linear_to_wav(lin, cfg, n_iter=5, peak=0.9)
    assert np.abs(loud).max() == pytest.approx(0.9, rel=1e-5)


def test_write_wav_is_atomic_16bit_and_counts_clipping(tmp_path):
    samples = np.concatenate([0.5 * np.sin(np.linspace(0, 100, 1000)), [1.5, -2.0]])
    path = tmp_path / "out" / "utt1.wav"
    assert write_wav(path, samples, FS) == 2
    data, fs = sf.read(path)
    assert fs == FS and sf.info(path).subtype == "PCM_16" and len(data) == 1002
    assert np.abs(data[:1000] - samples[:1000]).max() < 1e-4
    assert data[-2] == pytest.approx(1.0, abs=1e-4) and data[-1] == -1.0
    assert sorted(p.name for p in path.parent.iterdir()) == ["utt1.wav"]


def test_bad_arguments_raise():
    S = magnitude(signals()["sines"])
    with pytest.raises(ValueError, match="n_fft=1024 needs 513"):
        griffin_lim(S, n_fft=1024, hop_length=HOP)
    with pytest.raises(ValueError, match="hann, hamming, blackman, rectangular"):
        griffin_lim(S, window="kaiser", **KW)
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(S, momentum=1.0, **KW)
