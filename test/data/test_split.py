import pytest

from chain.data.datadir import DataDir
from chain.data.split import chain_split, shuffle_split, write_sets


def test_shuffle_split_sizes_disjoint_deterministic():
    keys = [f"u{i:03d}" for i in range(200)]
    parts = shuffle_split(keys, (0.94, 0.03, 0.03), seed=1)
    assert [len(p) for p in parts] == [188, 6, 6]
    assert sorted(sum(parts, []), key=str.encode) == keys
    assert parts == shuffle_split(list(reversed(keys)), (0.94, 0.03, 0.03), seed=1)
    assert parts != shuffle_split(keys, (0.94, 0.03, 0.03), seed=2)


def test_shuffle_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="sum to 1"):
        shuffle_split(["a"], (0.5, 0.6), seed=0)


def test_chain_split(tmp_path):
    utts = [f"spk1-{i:03d}" for i in range(100)]
    full = DataDir(utt2spk={u: "spk1" for u in utts}, wav_scp={u: f"/w/{u}.wav" for u in utts},
                   text={u: f"text {u}" for u in utts})
    sets = chain_split(full, seed=0)
    paired, speech, text = (set(sets[n].utts) for n in
                            ("train_paired", "train_speech_only", "train_text_only"))
    assert (len(paired), len(speech), len(text)) == (30, 35, 35)
    assert not (paired & speech or paired & text or speech & text)
    assert sets["train_speech_only"].text is None
    assert sets["train_text_only"].wav_scp is None
    write_sets(sets, tmp_path)
    assert not (tmp_path / "train_speech_only" / "text").exists()
    assert not (tmp_path / "train_text_only" / "wav.scp").exists()
    assert DataDir.load(tmp_path / "train_full").utts == utts
