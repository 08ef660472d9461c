import kaldiio
import numpy as np
import pytest
import torch

from chain.data.datadir import DataError
from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.feats.cmvn import accumulate_cmvn, save_cmvn

UTTS = {"spk1-a": 7, "spk1-b": 3, "spk2-c": 5}
TEXT = {"spk1-a": "ab ba", "spk1-b": "c", "spk2-c": "abc"}


class Chars:
    """Tokenizer stand-in: a=5, b=6, ..., space=4 (the duck type the dataset needs)."""

    pad_id = 0

    def encode(self, text):
        return [4 if c == " " else 5 + ord(c) - ord("a") for c in text]


def write_kv(path, table):
    path.write_text("".join(f"{k} {v}\n" for k, v in table.items()))


def write_mats(path, mats):
    with kaldiio.WriteHelper(f"ark,scp:{path}.ark,{path}.scp") as writer:
        for key, mat in mats.items():
            writer(key, mat)


@pytest.fixture
def recipe(tmp_path):
    rng = np.random.default_rng(0)
    mel = {k: rng.normal(3.0, 2.0, size=(n, 6)).astype(np.float32) for k, n in UTTS.items()}
    linear = {k: rng.normal(size=(n, 9)).astype(np.float32) for k, n in UTTS.items()}
    dump, data = tmp_path / "dump" / "train", tmp_path / "data" / "train"
    dump.mkdir(parents=True)
    data.mkdir(parents=True)
    write_mats(dump / "feats", mel)
    write_mats(dump / "linear", linear)
    write_kv(dump / "utt2num_frames", UTTS)
    write_kv(data / "text", TEXT)
    save_cmvn(tmp_path / "data" / "cmvn.ark", accumulate_cmvn(mel.values()))
    return tmp_path, mel, linear


def test_reads_features_text_and_applies_cmvn(recipe):
    root, mel, linear = recipe
    ds = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=root / "data/train",
                                     tokenizer=Chars(), cmvn=root / "data/cmvn.ark", use_linear=True)
    assert ds.keys == list(UTTS) and ds.lengths == list(UTTS.values()) and ds.feat_dim == 6
    item = ds[0]
    assert item["utt_id"] == "spk1-a"
    assert item["tokens"].tolist() == [5, 6, 4, 6, 5]
    assert item["feats"].dtype == torch.float32 and item["feats"].shape == (7, 6)
    torch.testing.assert_close(item["linear"], torch.from_numpy(linear["spk1-a"]))
    everything = np.concatenate(list(mel.values()))
    expected = (mel["spk1-a"] - everything.mean(0)) / everything.std(0)
    np.testing.assert_allclose(item["feats"].numpy(), expected, rtol=1e-4, atol=1e-4)
    normalised = torch.cat([ds[i]["feats"] for i in range(len(ds))])
    np.testing.assert_allclose(normalised.mean(0).numpy(), 0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(0, unbiased=False).numpy(), 1, atol=1e-4)


def test_loader_batches_the_dataset(recipe):
    root, _, _ = recipe
    ds = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=root / "data/train",
                                     tokenizer=Chars())
    sampler = BucketBatchSampler(ds.lengths, batch_bins=12 * ds.feat_dim, dim=ds.feat_dim)
    batches = list(loader_factory(ds, sampler)(1))
    assert sorted(u for b in batches for u in b["utt_ids"]) == sorted(UTTS)
    for b in batches:
        assert b["feats"].shape[0] * b["feats"].shape[1] * 6 <= 12 * 6
        assert b["tokens"].dtype == torch.int64 and b["feat_lengths"].dtype == torch.int64


def test_speaker_vectors(recipe):
    root, _, _ = recipe
    vecs = {k: np.full(3, i, dtype=np.float32) for i, k in enumerate(UTTS)}
    write_mats(root / "spk", vecs)
    ds = SpeechTextDataset(feats_scp=root / "dump/train/feats.scp", spk_vecs_scp=root / "spk.scp")
    assert ds[2]["spk_vec"].tolist() == [2.0, 2.0, 2.0]


def test_speech_only_and_text_only_sets(recipe):
    root, _, _ = recipe
    (root / "data/speech/").mkdir()
    speech = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=root / "data/speech")
    assert set(speech[1]) == {"utt_id", "feats"}
    text = SpeechTextDataset.from_dirs(dump_dir=None, data_dir=root / "data/train", tokenizer=Chars())
    assert set(text[1]) == {"utt_id", "tokens"}
    assert text.lengths == [5, 1, 3] and text.feat_dim == 1


def test_mismatched_keys_name_both_files(recipe):
    root, _, _ = recipe
    write_kv(root / "data/train/text", {"spk1-a": "ab", "spk2-c": "abc"})
    with pytest.raises(DataError) as e:
        SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=root / "data/train",
                                    tokenizer=Chars())
    message = str(e.value)
    assert "spk1-b" in message and "feats.scp" in message and "text" in message
    ds = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=root / "data/train",
                                     tokenizer=Chars(), skip_missing=True)
    assert ds.keys == ["spk1-a", "spk2-c"] and ds.skipped == 1


def test_stale_utt2num_frames_raises(recipe):
    root, _, _ = recipe
    write_kv(root / "dump/train/utt2num_frames", {**UTTS, "spk1-b": 4})
    ds = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=None)
    with pytest.raises(DataError, match="spk1-b.*re-run stage 1"):
        ds[1]


def test_missing_files_and_bad_arguments_raise(recipe, tmp_path):
    root, _, _ = recipe
    with pytest.raises(DataError, match="feats.scp: no such file"):
        SpeechTextDataset.from_dirs(dump_dir=tmp_path / "nowhere", data_dir=None)
    (root / "dump/train/linear.scp").unlink()
    with pytest.raises(DataError, match="linear.scp"):
        SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=None, use_linear=True)
    with pytest.raises(ValueError, match="tokenizer"):
        SpeechTextDataset(text=root / "data/train/text")
    with pytest.raises(ValueError, match="neither"):
        SpeechTextDataset()


def test_linear_cmvn_normalises_linear_only_and_checks_dims(recipe):
    root, mel, linear = recipe
    save_cmvn(root / "data/cmvn_linear.ark", accumulate_cmvn(linear.values()))
    ds = SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=None, use_linear=True,
                                     linear_cmvn=root / "data/cmvn_linear.ark")
    assert ds.linear_dim == 9
    everything = np.concatenate(list(linear.values()))
    expected = (linear["spk2-c"] - everything.mean(0)) / everything.std(0)
    np.testing.assert_allclose(ds[2]["linear"].numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ds[2]["feats"].numpy(), mel["spk2-c"])  # no mel stats given
    with pytest.raises(DataError, match="linear spectrograms have 9 dims, CMVN stats 6"):
        SpeechTextDataset.from_dirs(dump_dir=root / "dump/train", data_dir=None, use_linear=True,
                                    linear_cmvn=root / "data/cmvn.ark")
    with pytest.raises(ValueError, match="linear_cmvn given without linear_scp"):
        SpeechTextDataset(feats_scp=root / "dump/train/feats.scp", linear_cmvn=root / "data/cmvn.ark")
