"""MCD, F0 RMSE and V/UV error: the formulas on constructed features, and known signal pairs."""
import math

import numpy as np
import pytest

from chain.feats.world import WorldFeatures, world_features
from chain.metrics.world import WorldCounts, mel_cepstral_distortion, utterance_counts
from fixtures.signals import harmonic

FS = 16000


def test_mcd_formula_excludes_c0():
    ref = np.zeros((3, 4))
    mcep = ref.copy()
    mcep[:, 0] = 5.0              # energy: not counted
    mcep[1, 2] = 0.3
    mcep[2, 1:] = [0.1, 0.2, 0.2]
    expected = 10 / math.log(10) * np.sqrt(2 * np.array([0.0, 0.09, 0.09]))
    assert mel_cepstral_distortion(mcep, ref) == pytest.approx(expected)
    with pytest.raises(ValueError, match="aligned"):
        mel_cepstral_distortion(mcep[:2], ref)


def test_counts_on_constructed_voicing():
    """Identical mel-cepstra align frame to frame; F0 error only where both are voiced."""
    mcep = np.random.default_rng(0).standard_normal((6, 5))
    ref = WorldFeatures(f0=np.array([0, 100, 100, 100, 0, 0.0]), mcep=mcep)
    synth = WorldFeatures(f0=np.array([0, 110, 100, 0, 120, 0.0]), mcep=mcep.copy())
    counts = utterance_counts(synth, ref)
    assert counts.mcd == 0.0 and counts.pairs == 6 and counts.voiced_both == 2
    assert counts.f0_rmse == pytest.approx(math.sqrt(100 / 2))
    assert counts.vuv_error == pytest.approx(2 / 6)
    total = WorldCounts()
    total += counts
    total += utterance_counts(ref, ref)
    assert total.utts == 2 and total.vuv_error == pytest.approx(2 / 12)
    assert total.f0_rmse == pytest.approx(math.sqrt(100 / 5))
    assert math.isnan(WorldCounts().f0_rmse)


@pytest.fixture(scope="module")
def tone():
    return world_features(harmonic(150.0), FS)


def test_identical_speech_scores_zero(tone):
    counts = utterance_counts(tone, tone)
    assert counts.mcd == 0.0 and counts.f0_rmse == 0.0 and counts.vuv_error == 0.0


@pytest.mark.parametrize("semitones", [2, -3])
def test_pitch_shifted_copy_gives_the_expected_f0_error(tone, semitones):
    shifted = world_features(harmonic(150.0 * 2 ** (semitones / 12)), FS)
    counts = utterance_counts(shifted, tone)
    expected = abs(150.0 * (2 ** (semitones / 12) - 1))  # 18.4 Hz up 2, 24.0 Hz down 3
    assert counts.f0_rmse == pytest.approx(expected, rel=0.05)
    assert counts.vuv_error < 0.05 and counts.mcd > 1.0
