"""Speaker verification EER and identification accuracy (chain.metrics.speaker)."""
import numpy as np
import pytest

from chain.metrics.speaker import equal_error_rate, identification_accuracy, speaker_scores


def unit(rows):
    rows = np.asarray(rows, dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_separated_speakers_score_perfectly():
    vectors = unit([[1, 0.1], [1, -0.1], [1, 0], [-1, 0.1], [-1, -0.1], [-1, 0]])
    scores = speaker_scores(vectors, ["a", "a", "a", "b", "b", "b"])
    assert scores.eer == 0.0 and scores.trials == 15
    assert scores.accuracy == 100.0 and scores.tested == 4


def test_eer_of_random_scores_is_near_half():
    rng = np.random.default_rng(0)
    target = rng.random(4000) < 0.3
    assert abs(equal_error_rate(rng.random(4000), target) - 50) < 4
    assert equal_error_rate(np.where(target, 1.0, 0.0), target) == 0.0


def test_identification_picks_the_nearest_enrolled_mean():
    # b's second utterance lies nearer to a's enrolment: one of two is wrong
    vectors = unit([[1, 0], [0, 1], [1, 0.2], [0.9, 0.1]])
    accuracy, tested = identification_accuracy(vectors, ["a", "b", "a", "b"])
    assert tested == 2 and accuracy == 50.0


def test_one_speaker_has_no_eer():
    with pytest.raises(ValueError, match="two speakers"):
        equal_error_rate(np.ones(3), np.ones(3, dtype=bool))
