import numpy as np
import pytest
import scipy.signal

from chain.feats.fbank import Fbank, FbankConfig, hz_to_mel, log_linear, log_mel, mel_filterbank, mel_to_hz


def signal(n, fs=16000, seed=0):
    """Noise plus a chirp and a tone: energy in every band, well above the log floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = 0.1 * rng.standard_normal(n) + 0.3 * scipy.signal.chirp(t, 100, t[-1], fs / 2.5)
    return (x + 0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def librosa_features(x, cfg):
    """Direct librosa computation on the pre-emphasised signal (float64)."""
    import librosa

    y = scipy.signal.lfilter([1.0, -cfg.preemph], [1.0], x.astype(np.float64))
    window = "boxcar" if cfg.window == "rectangular" else cfg.window
    mag = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length,
                              window=window, center=cfg.center, pad_mode=cfg.pad_mode))
    mel = librosa.feature.melspectrogram(S=mag, sr=cfg.fs, n_fft=cfg.n_fft, n_mels=cfg.n_mels,
                                         fmin=cfg.fmin, fmax=cfg.fmax)
    floor = cfg.log_floor
    return np.log(np.maximum(mel, floor)).T, np.log(np.maximum(mag, floor)).T


@pytest.mark.parametrize("kw, n", [
    ({}, 16000 + 123),  # the paper's features
    ({"pad_mode": "reflect"}, 12345),
    ({"center": False}, 9000),
    ({"window": "hamming", "fmin": 80.0, "fmax": 7600.0, "n_mels": 40}, 7001),
    ({"fs": 22050, "n_fft": 1024, "win_length_ms": 46.0, "hop_length_ms": 11.6}, 22050),
    ({"n_fft": 512, "win_length_ms": 25.0, "hop_length_ms": 10.0, "window": "rectangular"}, 4000),
])
def test_features_equal_librosa(kw, n):
    cfg = FbankConfig(**kw)
    x = signal(n, cfg.fs)
    mel, linear = Fbank(cfg)(x)
    ref_mel, ref_linear = librosa_features(x, cfg)
    assert mel.dtype == np.float32 and linear.dtype == np.float32
    assert mel.shape == ref_mel.shape == (ref_mel.shape[0], cfg.n_mels)
    assert linear.shape == ref_linear.shape == (ref_mel.shape[0], cfg.n_fft // 2 + 1)
    assert np.abs(mel - ref_mel).max() < 1e-4
    assert np.abs(linear - ref_linear).max() < 1e-4


def test_paper_shapes_and_frame_count():
    cfg = FbankConfig()
    assert (cfg.win_length, cfg.hop_length, cfg.n_bins) == (800, 200, 1025)
    x = signal(16000)
    mel, linear = Fbank(cfg)(x)
    assert mel.shape == (81, 80) and linear.shape == (81, 1025)  # 1 + 16000 // 200
    np.testing.assert_array_equal(log_mel(x), mel)
    np.testing.assert_array_equal(log_linear(x), linear)


def test_silence_and_short_input():
    fb = Fbank(FbankConfig())
    mel, linear = fb(np.zeros(100, np.float32))
    assert mel.shape == (1, 80)
    np.testing.assert_allclose(mel, np.log(1e-5), rtol=1e-6)
    np.testing.assert_allclose(linear, np.log(1e-5), rtol=1e-6)
    mel, linear = fb(signal(300), linear=False)
    assert mel.shape == (2, 80) and linear is None
    assert Fbank(FbankConfig(center=False))(signal(1000))[0].shape == (0, 80)


def test_mel_filterbank_equals_librosa():
    import librosa

    for kw in ({}, {"fmin": 55.0, "fmax": 7000.0, "n_mels": 64}, {"fs": 24000, "n_fft": 1024, "win_length_ms": 40.0}):
        cfg = FbankConfig(**kw)
        ref = librosa.filters.mel(sr=cfg.fs, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin,
                                  fmax=cfg.fmax, dtype=np.float64)
        np.testing.assert_allclose(mel_filterbank(cfg), ref, rtol=0, atol=1e-12)
    f = np.array([0.0, 500.0, 1000.0, 4321.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)


@pytest.mark.parametrize("kw, what", [
    ({"n_fft": 512}, "more than n_fft 512"),
    ({"fmax": 9000.0}, "fmax"),
    ({"window": "kaiser"}, "window must be one of hann, hamming, blackman, rectangular: got 'kaiser'"),
    ({"pad_mode": "edge"}, "pad_mode must be one of"),
    ({"preemph": 1.0}, "preemph"),
    ({"log_floor": 0.0}, "log_floor"),
])
def test_bad_config(kw, what):
    with pytest.raises(ValueError, match=what):
        FbankConfig(**kw)


def test_config_from_yaml(tmp_path):
    path = tmp_path / "fbank.yaml"
    path.write_text("fs: 16000\nn_fft: 1024\nwin-length-ms: 40\nfmax: null\ncenter: false\n")
    cfg = FbankConfig.from_yaml(path)
    assert (cfg.n_fft, cfg.win_length, cfg.fmax, cfg.center) == (1024, 640, None, False)
    path.write_text("n_fft: 1024\nn_mel: 40\n")
    with pytest.raises(ValueError, match=f"{path}: unknown key.*'n_mel'.*valid keys: fs,"):
        FbankConfig.from_yaml(path)


def test_reflect_padding_needs_enough_samples():
    with pytest.raises(ValueError, match="pad_mode 'reflect' needs more than"):
        Fbank(FbankConfig(pad_mode="reflect"))(signal(300))
