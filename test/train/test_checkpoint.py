import random

import numpy as np
import pytest
import torch
from torch import nn

from chain.train.average import average_checkpoints, average_last
from chain.train.checkpoint import (CheckpointError, latest_checkpoint, load_checkpoint, load_weights,
                                    resume_checkpoint, rng_state, save_checkpoint, set_rng_state)
from fixtures.bad_checkpoints import write_bad_checkpoints


def test_failing_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "epoch1.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(3)}})

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"model": {"w": torch.zeros(3)}})
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert [p.name for p in path.parent.iterdir()] == ["epoch1.pt"]  # no temp file left


def test_latest_checkpoint_skips_a_damaged_file(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    for epoch in (1, 2, 10):
        save_checkpoint(tmp_path / f"epoch{epoch}.pt", {"epoch": epoch})
    (tmp_path / "epoch11.pt").write_bytes(b"garbage")
    (tmp_path / "best.pt").write_bytes(b"not an epoch")
    path, state = latest_checkpoint(tmp_path)
    assert path.name == "epoch10.pt" and state["epoch"] == 10


def test_load_checkpoint_says_in_one_line_what_is_wrong(tmp_path):
    good = tmp_path / "good.pt"
    save_checkpoint(good, {"model": nn.Linear(2, 3).state_dict()})
    bad = write_bad_checkpoints(good, tmp_path / "bad")
    for case in ("empty", "truncated", "text", "unsafe"):
        path, said = bad[case]
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
        assert str(info.value).startswith(f"{path}: {said}") and "\n" not in str(info.value), case
    assert not (tmp_path / "bad" / "pwned").exists()
    torch.load(bad["unsafe"][0], weights_only=False)  # what weights_only=True prevents
    assert (tmp_path / "bad" / "pwned").exists()
    legacy = tmp_path / "legacy.pt"
    torch.save({"model": {"w": torch.ones(2)}}, legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(load_checkpoint(legacy)["model"]["w"], torch.ones(2))
    torch.save([torch.ones(2)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="list.pt: not a checkpoint \\(holds a list"):
        load_checkpoint(tmp_path / "list.pt")


def test_resume_falls_back_from_a_truncated_interrupted_checkpoint(tmp_path, caplog):
    save_checkpoint(tmp_path / "epoch1.pt", {"epoch": 1})
    (tmp_path / "interrupted.pt").write_bytes((tmp_path / "epoch1.pt").read_bytes()[:100])
    path, state = resume_checkpoint(tmp_path)
    assert path.name == "epoch1.pt" and state["epoch"] == 1
    assert "interrupted.pt: truncated" in caplog.text and "resuming from the last epoch" in caplog.text


def test_rng_state_round_trip_through_a_file(tmp_path):
    save_checkpoint(tmp_path / "rng.pt", {"rng": rng_state()})
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def two_layer():
    return nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))


def test_load_weights_strict_partial_and_prefixes(tmp_path):
    source = two_layer()
    save_checkpoint(tmp_path / "full.pt", {"model": source.state_dict(), "optimizer": {}})
    save_checkpoint(tmp_path / "bare.pt", source.state_dict())
    for name in ("full.pt", "bare.pt"):
        target = two_layer()
        report = load_weights(target, tmp_path / name)
        assert len(report["loaded"]) == 4
        assert all(torch.equal(a, b) for a, b in zip(source.parameters(), target.parameters()))

    other = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2))  # second layer differs in shape
    before = other[1].weight.clone()
    with pytest.raises(ValueError, match="shape mismatch with the model in 2 tensors, e.g. 1.bias .*init_strict false"):
        load_weights(other, tmp_path / "full.pt")
    report = load_weights(other, tmp_path / "full.pt", strict=False)
    assert report["mismatched"] == ["1.bias", "1.weight"]
    assert torch.equal(other[0].weight, source[0].weight) and torch.equal(other[1].weight, before)

    part = two_layer()
    report = load_weights(part, tmp_path / "full.pt", prefixes=("1.",))
    assert report["loaded"] == ["1.bias", "1.weight"]
    assert torch.equal(part[1].weight, source[1].weight)
    assert not torch.equal(part[0].weight, source[0].weight)


def test_average_is_the_mean_and_keeps_integer_buffers(tmp_path):
    states = []
    for epoch in (1, 2, 3):
        model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        model[1].num_batches_tracked.fill_(epoch)
        states.append(model.state_dict())
        save_checkpoint(tmp_path / f"epoch{epoch}.pt", {"model": model.state_dict()})
    assert average_last(tmp_path, 2, tmp_path / "avg2.pt") == [2, 3]
    avg = load_checkpoint(tmp_path / "avg2.pt")["model"]
    torch.testing.assert_close(avg["0.weight"], (states[1]["0.weight"] + states[2]["0.weight"]) / 2)
    assert avg["0.weight"].dtype == torch.float32
    assert int(avg["1.num_batches_tracked"]) == 3


def test_averaging_different_models_raises(tmp_path):
    save_checkpoint(tmp_path / "a.pt", {"model": two_layer().state_dict()})
    save_checkpoint(tmp_path / "b.pt", {"model": nn.Linear(2, 3).state_dict()})
    with pytest.raises(ValueError, match="cannot be averaged"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"])
    with pytest.raises(ValueError, match="no epoch<N>.pt"):
        average_last(tmp_path, 3, tmp_path / "avg3.pt")
