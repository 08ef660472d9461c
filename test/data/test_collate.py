import pytest
import torch

from chain.data.collate import collate


def item(utt, frames, n_tokens, *, linear=True, spk=True):
    out = {"utt_id": utt, "feats": torch.randn(frames, 3),
           "tokens": torch.arange(5, 5 + n_tokens, dtype=torch.int64)}
    if linear:
        out["linear"] = torch.randn(frames, 4)
    if spk:
        out["spk_vec"] = torch.randn(2)
    return out


def test_pads_to_the_batch_dict():
    items = [item("a", 4, 2), item("b", 6, 5), item("c", 1, 1)]
    batch = collate(items, pad_id=0)
    assert batch["utt_ids"] == ["a", "b", "c"]
    assert batch["feats"].shape == (3, 6, 3) and batch["linear"].shape == (3, 6, 4)
    assert batch["tokens"].shape == (3, 5) and batch["spk_vecs"].shape == (3, 2)
    assert batch["feat_lengths"].tolist() == [4, 6, 1]
    assert batch["token_lengths"].tolist() == [2, 5, 1]
    assert batch["feat_lengths"].dtype == batch["tokens"].dtype == torch.int64
    for i, it in enumerate(items):
        n, m = it["feats"].shape[0], it["tokens"].shape[0]
        assert torch.equal(batch["feats"][i, :n], it["feats"])
        assert torch.equal(batch["linear"][i, :n], it["linear"])
        assert torch.equal(batch["tokens"][i, :m], it["tokens"])
        assert not batch["feats"][i, n:].any() and not batch["linear"][i, n:].any()
        assert (batch["tokens"][i, m:] == 0).all()
        assert torch.equal(batch["spk_vecs"][i], it["spk_vec"])
    mask = torch.arange(6)[None, :] < batch["feat_lengths"][:, None]
    assert not batch["feats"][~mask].any()


def test_pad_id_is_used_for_tokens():
    batch = collate([item("a", 2, 1), item("b", 2, 3)], pad_id=9)
    assert batch["tokens"][0].tolist() == [5, 9, 9]


def test_speech_only_items_have_no_tokens():
    items = [{"utt_id": u, "feats": torch.randn(n, 3)} for u, n in (("a", 2), ("b", 3))]
    assert set(collate(items)) == {"utt_ids", "feats", "feat_lengths"}


def test_items_with_different_keys_raise():
    with pytest.raises(ValueError, match="differ in keys"):
        collate([item("a", 2, 1), item("b", 2, 1, spk=False)])


def test_linear_and_feats_lengths_must_agree():
    bad = item("b", 3, 1)
    bad["linear"] = torch.randn(2, 4)
    with pytest.raises(ValueError, match="'b': linear has 2 frames, feats 3"):
        collate([item("a", 3, 1), bad])
