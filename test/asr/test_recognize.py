"""recognize(): length-sorted batches give the same hypotheses as decoding each utterance alone."""
import math

import pytest
import torch

from chain.asr.beam_search import beam_search
from chain.asr.dev_hooks import DevCER, greedy_cer
from chain.asr.recognize import recognize, write_hyps
from chain.train.checkpoint import find_checkpoint


class Letters:
    """Tokenizer stand-in: id 4 is a space, ids 5.. are letters b, c, ..."""

    pad_id = 0

    def decode(self, ids):
        return "".join(" " if i == 4 else chr(ord("a") + i - 4) for i in ids if i >= 4)


class Utterances:
    """Dataset stand-in: the tiny batch cut into single utterances, in a shuffled key order."""

    has_feats = True

    def __init__(self, batch):
        order = [2, 0, 3, 1]
        self.keys = [batch["utt_ids"][i] for i in order]
        self.lengths = [int(batch["feat_lengths"][i]) for i in order]
        self.items = [{"utt_id": batch["utt_ids"][i],
                       "feats": batch["feats"][i, :int(batch["feat_lengths"][i])]} for i in order]

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, i):
        return self.items[i]


def alone(model, item, beam):
    feats, lengths = item["feats"][None], torch.tensor([item["feats"].shape[0]])
    with torch.no_grad():
        if beam == 1:
            return model.greedy(feats, lengths, max_len_ratio=3.0)[0]
        return beam_search(model, feats, lengths, beam=beam, max_len_ratio=3.0)[0][0][0]


@pytest.mark.parametrize("beam", [1, 3])
def test_batched_recognition_equals_one_by_one(trained_asr, batch, beam):
    data, tokenizer = Utterances(batch), Letters()
    hyps = recognize(trained_asr, data, tokenizer, beam=beam, batch_size=3, max_len_ratio=3.0)
    assert list(hyps) == data.keys
    expected = {item["utt_id"]: " ".join(tokenizer.decode(alone(trained_asr, item, beam)).split())
                for item in data.items}
    assert hyps == expected
    assert any(hyps.values())  # the tiny model says something


def test_utts_select_a_subset_and_unknown_ones_raise(trained_asr, batch):
    data = Utterances(batch)
    hyps = recognize(trained_asr, data, Letters(), beam=1, utts=["d", "a"])
    assert list(hyps) == ["a", "d"]  # dataset order
    with pytest.raises(ValueError, match="not in the dataset, e.g. 'zz'"):
        recognize(trained_asr, data, Letters(), beam=1, utts=["a", "zz"])


def test_write_hyps_sorts_and_writes_empty_hypotheses_as_the_id_alone(tmp_path):
    out = tmp_path / "hyp.1"
    write_hyps(out, {"b": "x y", "a": "", "B": "z"})
    assert out.read_text() == "B z\na\nb x y\n"


def test_greedy_cer_and_every_n_epochs(trained_asr, batch):
    cer = greedy_cer(trained_asr, [batch], Letters())
    assert 0.0 <= cer < 100.0
    metric = DevCER(Letters(), every=2, last_epoch=3)
    results = [metric(trained_asr, [batch])["cer"] for _ in range(3)]  # epochs 1, 2, 3
    assert math.isnan(results[0]) and results[1] == pytest.approx(cer) and results[2] == results[1]


def test_missing_checkpoint_lists_those_present(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "epoch1.pt").write_bytes(b"")
    (tmp_path / "avg2.pt").write_bytes(b"")
    epoch1 = tmp_path / "checkpoints" / "epoch1.pt"
    assert find_checkpoint(tmp_path, "checkpoints/epoch1.pt") == epoch1
    with pytest.raises(FileNotFoundError, match=r"best.pt: no such checkpoint \(found: avg2.pt, "
                                                r"checkpoints/epoch1.pt\)"):
        find_checkpoint(tmp_path, "best.pt")

