import subprocess
import sys

import pytest

from chain.data.datadir import write_kv
from chain.metrics.error_rate import chars, score


def test_chars_keep_single_spaces():
    assert chars("  ab  c ") == ["a", "b", " ", "c"]


def test_symbols_are_one_character():
    assert chars("<noise> a<noise>b <x") == ["<noise>", " ", "a", "<noise>", "b", " ", "<", "x"]
    result = score({"u": "<noise> ab"}, {"u": "ab"})
    assert (result.cer.errors, result.cer.ref_len) == (2, 4)  # <noise> and the space


def test_score_counts_edits():
    refs = {"u1": "the cat sat", "u2": "a dog"}
    hyps = {"u1": "the bat sat", "u2": "a dog"}
    s = score(refs, hyps)
    assert (s.cer.errors, s.cer.ref_len) == (1, 16)
    assert (s.wer.errors, s.wer.ref_len) == (1, 5)
    assert s.cer.utts_wrong == 1 and s.wer.rate == pytest.approx(20.0)
    assert s.per_utt == [("u1", 1, 1), ("u2", 0, 0)]


def test_score_empty_hypothesis_is_all_deletions():
    s = score({"u1": "ab c"}, {"u1": ""})
    assert s.cer.errors == 4 and s.wer.errors == 2


def test_score_missing_hypothesis_raises():
    with pytest.raises(ValueError, match="'u2'"):
        score({"u1": "a", "u2": "b"}, {"u1": "a"})


def test_score_cli(tmp_path):
    write_kv(tmp_path / "ref", {"u1": "hello world", "u2": "good day"})
    (tmp_path / "hyp").write_text("u1 hello word\nu2 \n")
    out = tmp_path / "decode"
    subprocess.run([sys.executable, "-m", "chain.bin.score", "--ref", str(tmp_path / "ref"),
                    "--hyp", str(tmp_path / "hyp"), "--out-dir", str(out)], check=True)
    assert (out / "hyp.trn").read_text() == "hello word (u1)\n (u2)\n"
    assert (out / "ref.trn").read_text() == "hello world (u1)\ngood day (u2)\n"
    result = (out / "result.txt").read_text()
    assert result.startswith("CER 47.37% (9 / 19 chars)  WER 75.00% (3 / 4 words)")
