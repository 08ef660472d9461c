"""WORLD analysis (pyworld): F0 of known signals, voicing of silence, mel-cepstrum scale."""
import numpy as np
import pytest

from chain.feats.world import world_features
from fixtures.signals import harmonic

FS = 16000


@pytest.mark.parametrize("method", ["dio", "harvest"])
def test_f0_of_a_harmonic_signal_and_silence_unvoiced(method):
    feats = world_features(harmonic(180.0, silence=0.3), FS, f0_method=method)
    assert feats.mcep.shape == (len(feats.f0), 25)
    voiced = feats.f0 > 0
    assert voiced.mean() == pytest.approx(0.5, abs=0.06)  # 0.6 s of tone in 1.2 s
    assert not voiced[:40].any() and not voiced[-40:].any()  # the first and last 0.2 s
    assert np.median(feats.f0[voiced]) == pytest.approx(180.0, rel=0.01)


def test_gain_moves_only_c0():
    x = np.random.default_rng(0).standard_normal(FS // 2) * 0.1
    quiet, loud = world_features(x, FS), world_features(2 * x, FS)
    assert np.allclose(loud.mcep[:, 1:], quiet.mcep[:, 1:], atol=1e-6)
    assert np.mean(loud.mcep[:, 0] - quiet.mcep[:, 0]) == pytest.approx(np.sqrt(2) * np.log(2), rel=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(f0_method="yin"), "dio, harvest: got 'yin'"),
    (dict(mcep_order=0), "mcep_order"),
    (dict(f0_floor=900.0), "f0_floor"),
])
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        world_features(harmonic(100.0), FS, **kwargs)


def test_bad_waveform_raises():
    with pytest.raises(ValueError, match="mono waveform"):
        world_features(np.zeros((2, 100)), FS)
