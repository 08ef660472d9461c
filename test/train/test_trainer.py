import math

import pytest
import torch

from chain.train import TrainingError, train
from chain.train.checkpoint import load_checkpoint


def run(toy, exp, options, model=None, **kw):
    torch.manual_seed(0)
    model = model if model is not None else toy.TinyModel()
    train_factory, dev_loader = toy.make_loaders()
    state = train(model, train_factory, dev_loader, options, exp, **kw)
    return model, state


def test_loss_falls_and_every_output_is_written(toy, tmp_path):
    options = toy.options(epochs=4)
    options.optim.lr = 0.02
    options.snapshot.tensorboard = options.snapshot.plot = True
    model, state = run(toy, tmp_path, options)
    dev_losses = [row["dev/loss"] for row in state.history]
    assert dev_losses[-1] < 0.6 * dev_losses[0]
    assert state.history[-1]["train/loss"] < state.history[0]["train/loss"]
    assert state.epoch == 4 and state.step == 4 * 6 and state.bad_steps == 0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        f"epoch{n}.pt" for n in range(1, 5)]
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    log = (tmp_path / "train.log").read_text()
    assert "epoch 4:" in log and "dev/loss" in log and "wrote" in log
    # best.pt: the epoch with the lowest dev loss
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == 1 + dev_losses.index(min(dev_losses)) == state.best_epoch
    assert best["metric"]["loss"] == pytest.approx(min(dev_losses))
    # avg2.pt: the mean of the last two epochs' weights
    avg = load_checkpoint(tmp_path / "avg2.pt")
    assert avg["epochs"] == [3, 4]
    e3, e4 = (load_checkpoint(tmp_path / f"checkpoints/epoch{n}.pt")["model"] for n in (3, 4))
    for name, value in avg["model"].items():
        torch.testing.assert_close(value, (e3[name] + e4[name]) / 2, rtol=0, atol=1e-7)
    assert torch.equal(e4["net.0.weight"], model.state_dict()["net.0.weight"])


def test_resume_is_bit_identical_to_an_uninterrupted_run(toy, tmp_path):
    def options(epochs):
        o = toy.options(epochs=epochs)
        o.optim.lr = 0.01
        o.schedule.scheduler, o.schedule.warmup_steps = "noam", 4
        o.start.resume = True
        return o

    straight, _ = run(toy, tmp_path / "straight", options(2))
    run(toy, tmp_path / "split", options(1))
    torch.manual_seed(123)  # the process restarts with different RNG state: resume restores it
    resumed, state = run(toy, tmp_path / "split", options(2), model=toy.TinyModel())
    assert state.epoch == 2 and state.step == 12 and len(state.history) == 2
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    opt_a = load_checkpoint(tmp_path / "straight/checkpoints/epoch2.pt")["optimizer"]
    opt_b = load_checkpoint(tmp_path / "split/checkpoints/epoch2.pt")["optimizer"]
    assert all(torch.equal(opt_a["state"][k]["exp_avg_sq"], opt_b["state"][k]["exp_avg_sq"])
               for k in opt_a["state"])
    assert opt_a["param_groups"][0]["lr"] == opt_b["param_groups"][0]["lr"]


def test_nan_guard_skips_and_counts(toy, tmp_path):
    model, state = run(toy, tmp_path, toy.options(epochs=1), model=toy.TinyModel(poison=(1, 3, 4)))
    assert state.bad_steps == 3 and state.step == 6 - 3
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert "non-finite loss" in (tmp_path / "train.log").read_text()
    assert math.isfinite(state.history[0]["train/loss"])


def test_nan_guard_stops_after_max_bad_steps_in_a_row(toy, tmp_path):
    with pytest.raises(TrainingError, match="3 consecutive steps"):
        run(toy, tmp_path, toy.options(epochs=1, max_bad_steps=3),
            model=toy.TinyModel(poison=tuple(range(100))))
    assert not (tmp_path / "checkpoints").exists()


def test_init_loads_weights_only(toy, tmp_path):
    source, _ = run(toy, tmp_path / "source", toy.options(epochs=1))
    options = toy.options(epochs=1)
    options.optim.lr = 0.0  # the weights stay as loaded
    options.start.init = str(tmp_path / "source/checkpoints/epoch1.pt")
    model, state = run(toy, tmp_path / "target", options, model=toy.TinyModel())
    for (name, a), (_, b) in zip(source.state_dict().items(), model.state_dict().items()):
        assert torch.equal(a, b), name
    ckpt = load_checkpoint(tmp_path / "target/checkpoints/epoch1.pt")
    assert ckpt["train_state"]["epoch"] == 1 and ckpt["train_state"]["step"] == 6
    assert all(int(s["step"]) == 6 for s in ckpt["optimizer"]["state"].values())  # fresh Adam


def test_dev_metric_fn_picks_best_and_figures_are_drawn(toy, tmp_path):
    calls = []

    def dev_metric_fn(model, loader):
        return {"epoch_score": float(len(calls) % 2)}  # 0, 1: higher is better -> epoch 2

    def figures_fn(model, batch, out_dir):
        calls.append(out_dir.name)
        assert not model.training and batch["feats"].shape[0] == 6
        (out_dir / "attention.png").write_bytes(b"x")

    options = toy.options(epochs=2)
    options.snapshot.dev_metric, options.snapshot.higher_is_better = "epoch_score", True
    _, state = run(toy, tmp_path, options, dev_metric_fn=dev_metric_fn, figures_fn=figures_fn)
    assert calls == ["epoch1", "epoch2"]
    assert (tmp_path / "figures/epoch2/attention.png").is_file()
    assert [row["dev/epoch_score"] for row in state.history] == [0.0, 1.0]
    assert state.best_epoch == 2 and load_checkpoint(tmp_path / "best.pt")["epoch"] == 2


def test_unknown_dev_metric_lists_the_available_ones(toy, tmp_path):
    options = toy.options(epochs=1)
    options.snapshot.dev_metric = "cer"
    with pytest.raises(ValueError, match="'cer' is not among the dev statistics accuracy, loss"):
        run(toy, tmp_path, options)
