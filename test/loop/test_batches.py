"""ChainBatches: ratio per update, the lead stream sets the epoch, the others cycle reproducibly."""
import pytest

from chain.loop.batches import ChainBatches


def fake_loader(name, n):
    """epoch -> n batches named (name, pass, i), the pass being the sampler epoch."""
    class Loader(list):
        pass

    return lambda epoch: Loader((name, epoch, i) for i in range(n))


def test_each_update_takes_ratio_batches_and_the_lead_stream_ends_the_epoch():
    loaders = {"paired": fake_loader("p", 4), "speech": fake_loader("s", 3), "text": fake_loader("t", 1)}
    batches = ChainBatches(loaders, {"paired": 1, "speech": 2, "text": 1})
    groups = list(batches.epoch(2))
    assert len(groups) == len(batches) == 4
    assert [g["paired"] for g in groups] == [[("p", 2, i)] for i in range(4)]
    speech = [b for g in groups for b in g["speech"]]  # 8 batches: passes 2000, 2001, 2002 of 3 each
    assert speech == [("s", 2000 + k // 3, k % 3) for k in range(8)]
    assert [g["text"] for g in groups] == [[("t", 2000 + k, 0)] for k in range(4)]
    assert list(batches.epoch(2)) == groups  # reproducible from the epoch number alone


def test_a_switched_off_branch_is_never_read_and_the_next_one_leads():
    batches = ChainBatches({"speech": fake_loader("s", 5), "text": fake_loader("t", 2)},
                           {"paired": 0, "speech": 2, "text": 1})
    groups = list(batches.epoch(1))
    assert batches.lead == "speech" and len(groups) == 2 and set(groups[0]) == {"speech", "text"}


def test_bad_ratios():
    with pytest.raises(ValueError, match="switched off"):
        ChainBatches({}, {"paired": 0, "speech": 0, "text": 0})
    with pytest.raises(ValueError, match="no data for the enabled branch"):
        ChainBatches({"paired": fake_loader("p", 1)}, {"paired": 1, "text": 1})
    with pytest.raises(ValueError, match="counts >= 0"):
        ChainBatches({"paired": fake_loader("p", 1)}, {"paired": -1})
