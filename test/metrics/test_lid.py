"""LID accuracy per token and per utterance (chain.metrics.lid), and the CER without tags."""
import pytest

from chain.metrics.error_rate import chars, score
from chain.metrics.lid import align, score_lid


def test_align_is_a_minimum_edit_alignment():
    pairs = align(list("abcd"), list("axd"))
    assert [(i, j) for i, j in pairs if i is not None and j is not None] in ([(0, 0), (1, 1), (3, 2)],
                                                                             [(0, 0), (2, 1), (3, 2)])
    assert sum(1 for i, j in pairs if j is None) == 1


def test_perfect_hypothesis():
    ref = "<ja>これは<en>still water<ja>ですか？"
    result = score_lid({"u": ref}, {"u": ref})
    assert (result.tokens_correct, result.tokens, result.utts_correct) == (17, 17, 1)


def test_wrong_language_and_deletions_count_per_token():
    ref = "<ja>これは<en>tea<ja>です"
    # 'tea' tagged ja: 3 wrong tokens; the language sequence is ja only
    result = score_lid({"u": ref}, {"u": "<ja>これはteaです"})
    assert (result.tokens_correct, result.tokens) == (5, 8)
    assert result.utts_correct == 0 and result.utt_accuracy == 0.0
    # two characters deleted, languages right: 6 of 8, sequence right
    result = score_lid({"u": ref}, {"u": "<ja>これ<en>te<ja>です"})
    assert (result.tokens_correct, result.tokens, result.utts_correct) == (6, 8, 1)
    assert result.token_accuracy == pytest.approx(75.0)


def test_missing_hypothesis_is_an_error():
    with pytest.raises(ValueError, match="'b' has no hypothesis"):
        score_lid({"a": "<en>x", "b": "<en>y"}, {"a": "<en>x"})


def test_cer_ignores_language_tags():
    assert chars("<ja>これは<en>tea") == list("これはtea")
    assert chars("<noise> ok") == ["<noise>", " ", "o", "k"]  # other symbols stay one character
    result = score({"u": "<ja>これは<en>tea"}, {"u": "これは<en>tea"})
    assert result.cer.errors == 0
