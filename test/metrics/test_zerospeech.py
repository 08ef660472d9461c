import numpy as np
import pytest
import yaml

from chain.metrics.abx import Item
from sklearn.metrics import mutual_info_score

from chain.metrics.zerospeech import (bitrate, entropy_bits, items_from_ctm, read_item_file, read_submission,
                                      speaker_information, write_item_file, write_submission)


def test_bitrate_of_known_sequences():
    # symbols 0 0 1 2 over 2 s: H = 0.5 * 1 + 2 * 0.25 * 2 = 1.5 bits, N / D = 2 per second
    assert entropy_bits([2, 1, 1]) == pytest.approx(1.5)
    assert bitrate([np.array([0, 0]), np.array([1, 2])], 2.0) == pytest.approx(3.0)
    # rows are the symbols: 4 rows, 2 distinct equally frequent ones -> 1 bit each, over 4 s
    rows = np.array([[0.5, 1.0], [0.5, 1.0], [1.0, 0.5], [1.0, 0.5]])
    assert bitrate([rows], 4.0) == pytest.approx(1.0)
    assert bitrate([np.zeros((10, 3))], 1.0) == 0.0  # one symbol carries nothing
    with pytest.raises(ValueError, match="positive"):
        bitrate([rows], 0.0)


def test_speaker_information_of_known_cases():
    utt2spk = {"a1": "a", "a2": "a", "b1": "b"}
    # disjoint symbols per speaker: the unit tells the speaker
    assert speaker_information({"a1": np.array([0, 1]), "a2": np.array([1]), "b1": np.array([2, 3, 2])},
                               utt2spk) == pytest.approx(1.0)
    # one distribution for every speaker: nothing
    assert speaker_information({"a1": np.array([0, 1]), "a2": np.array([0, 1]), "b1": np.array([1, 0, 0, 1])},
                               utt2spk) == pytest.approx(0.0)
    # one speaker: no speaker entropy, 0 by definition
    assert speaker_information({"a1": np.array([0, 1])}, {"a1": "a"}) == 0.0
    # rows are the symbols, as in the bitrate; a partial case against scikit-learn's mutual information
    units = {"a1": np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), "b1": np.array([[0.0, 1.0], [0.5, 0.5]])}
    syms, spks = [0, 1, 0, 0, 2], ["a", "a", "a", "b", "b"]
    expected = mutual_info_score(spks, syms) / mutual_info_score(spks, spks)
    assert 0.0 < expected < 1.0
    assert speaker_information(units, {"a1": "a", "b1": "b"}) == pytest.approx(expected)
    with pytest.raises(ValueError, match="no speaker for 1 utterances, e.g. b1"):
        speaker_information(units, {"a1": "a"})


def test_item_file_round_trip_and_official_header(tmp_path):
    path = tmp_path / "byCtxt_acSpkr.item"
    path.write_text("#file onset offset #phone prev-phone next-phone speaker\n"
                    "s01_001 0.1200 0.2300 AH B T s01\n"
                    "s02_004 1.0000 1.1000 T AH SIL s02\n")
    items = read_item_file(path)
    assert items == [Item("s01_001", 0.12, 0.23, "AH", "B_T", "s01"),
                     Item("s02_004", 1.0, 1.1, "T", "AH_SIL", "s02")]
    write_item_file(tmp_path / "copy.item", items)
    assert read_item_file(tmp_path / "copy.item") == items
    (tmp_path / "bad.item").write_text(path.read_text() + "s03 0.1 AH B T s03\n")
    with pytest.raises(ValueError, match="bad.item:4: expected 7 columns"):
        read_item_file(tmp_path / "bad.item")


def test_items_from_ctm_are_triphones_without_pauses(tmp_path):
    ctm = tmp_path / "phones.ctm"
    ctm.write_text("u1 1 0.000 0.100 _\nu1 1 0.100 0.050 h\nu1 1 0.150 0.080 @\n"
                   "u1 1 0.230 0.070 l\nu1 1 0.300 0.100 oU\nu2 1 0.0 0.1 a\n")
    items = items_from_ctm(ctm, {"u1": "spkA"})
    assert items == [Item("u1", 0.15, pytest.approx(0.23), "@", "h_l", "spkA"),
                     Item("u1", 0.23, pytest.approx(0.30), "l", "@_oU", "spkA")]


def test_submission_layout(tmp_path):
    units = {"u1": np.array([[1, 2], [3, 4]]), "u2": np.array([[0.5, 0.25]])}
    test_dir = write_submission(tmp_path / "sub", units, {"author": "x", "open source": True})
    assert sorted(p.name for p in test_dir.iterdir()) == ["u1.txt", "u2.txt"]
    assert test_dir == tmp_path / "sub" / "english" / "test"
    assert (test_dir / "u1.txt").read_text() == "1 2\n3 4\n"
    assert yaml.safe_load((tmp_path / "sub" / "metadata.yaml").read_text())["open source"] is True
    back = read_submission(test_dir)
    np.testing.assert_array_equal(back["u1"], units["u1"])
    np.testing.assert_array_equal(back["u2"], units["u2"])
