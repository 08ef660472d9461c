"""The engine with a task of two models (as the chain; a generator and a discriminator):
per-slot optimisers and best.pt, NaN guard, resume, whole-epoch statistics after a resume."""
import pytest
import torch

from chain.train.checkpoint import INTERRUPTED, load_checkpoint
from chain.train.engine import ModelOptions, ModelSlot, Task, TrainState, fit
from chain.train.options import LoopOptions, OptimOptions
from chain.train.preempt import Preempted
from fixtures.distributed import signal_at


class TwoModels(Task):
    """Two classifiers on the toy data; the loss is the sum of theirs. ``nan_at``: 0-based
    steps whose loss is NaN; ``sigterm_at``: SIGTERM during that training forward of "a"."""

    counters = {"seen": "utterances seen"}

    def __init__(self, toy, exp, *, epochs=2, nan_at=(), sigterm_at=0):
        train_factory, self.dev = toy.make_loaders()
        self.train_factory, self.nan_at, self.calls = train_factory, set(nan_at), 0
        self.slots = {name: ModelSlot(name, model, ModelOptions(OptimOptions(lr=lr)), epochs,
                                      dev_metric=f"{name}_loss", best_path=exp / name / "best.pt")
                      for name, model, lr in (("a", toy.TinyModel(), 0.02),
                                              ("b", toy.TinyModel(), 0.005))}
        if sigterm_at:
            signal_at(self.slots["a"].module, sigterm_at)

    def batches(self, epoch):
        return self.train_factory(epoch)

    def step(self, batch):
        loss_a, _ = self.slots["a"].module(batch)
        loss_b, _ = self.slots["b"].module(batch)
        loss = loss_a + loss_b
        if self.calls in self.nan_at:
            loss = loss * float("nan")
        self.calls += 1
        return loss, {"seen": len(batch["utt_ids"])}

    def evaluate(self, device, amp):
        out = {}
        for name, slot in self.slots.items():
            losses = [slot.module(batch)[0].item() for batch in self.dev]
            out[f"{name}_loss"] = sum(losses) / len(losses)
        return out


def run(toy, exp, *, resume=True, **kw):
    torch.manual_seed(0)
    task = TwoModels(toy, exp, **kw)
    state = fit(task, LoopOptions(epochs=kw.get("epochs", 2), log_interval=1), exp, resume=resume,
                tensorboard=False, plot=False)
    return task, state


def test_each_model_has_its_optimiser_and_its_best_checkpoint(toy, tmp_path):
    task, state = run(toy, tmp_path)
    assert state.epoch == 2 and state.step == 12 and state.counts == {"seen": 2 * 48}
    for name in ("a", "b"):
        best = load_checkpoint(tmp_path / name / "best.pt")
        losses = [row[f"dev/{name}_loss"] for row in state.history]
        assert best["epoch"] == state.best_epochs[name] == 1 + losses.index(min(losses))
        assert set(best["model"]) == set(task.slots[name].module.state_dict())
    ckpt = load_checkpoint(tmp_path / "checkpoints" / "epoch2.pt")
    assert ckpt["a"]["optimizer"]["param_groups"][0]["lr"] == 0.02
    assert ckpt["b"]["optimizer"]["param_groups"][0]["lr"] == 0.005
    assert {"train/a_grad_norm", "train/b_grad_norm", "a_lr", "b_lr"} <= set(state.history[-1])


def test_a_nan_step_is_skipped_and_counted_for_both_models(toy, tmp_path):
    _, state = run(toy, tmp_path, nan_at=(1, 4))
    assert state.bad_steps == 2 and state.step == 12 - 2
    log = (tmp_path / "train.log").read_text()
    assert "non-finite loss" in log and "2 non-finite steps skipped" in log


def test_sigterm_and_resume_equal_an_uninterrupted_run_and_its_epoch_statistics(toy, tmp_path):
    straight, straight_state = run(toy, tmp_path / "straight")
    with pytest.raises(Preempted):  # during the 3rd update of epoch 1 (6 per epoch)
        run(toy, tmp_path / "split", sigterm_at=3)
    ckpt = load_checkpoint(tmp_path / "split" / "checkpoints" / INTERRUPTED)
    assert ckpt["train_state"]["epoch_batches"] == 3 and ckpt["train_state"]["epoch_sums"]
    torch.manual_seed(123)  # a new process: resume restores the RNGs
    resumed, state = run(toy, tmp_path / "split")
    for name in ("a", "b"):
        a, b = straight.slots[name].module.state_dict(), resumed.slots[name].module.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    # the resumed epoch's statistics cover all its batches, not only those after the resume
    assert state.history[0]["train/loss"] == pytest.approx(straight_state.history[0]["train/loss"], rel=1e-6)
    assert state.counts == straight_state.counts


def test_train_states_of_the_trainers_before_the_engine_still_load():
    single = TrainState.from_dict({"epoch": 3, "step": 9, "best_metric": 0.5, "best_epoch": 2, "history": []})
    assert single.best_metric == 0.5 and single.best_epoch == 2
    chain = TrainState.from_dict({"epoch": 1, "dropped_asr": 2, "dropped_tts": 0,
                                  "best": {"asr": 3.0, "tts": None}, "best_epoch": {"asr": 1, "tts": 0}})
    assert chain.counts == {"dropped_asr": 2, "dropped_tts": 0} and chain.best_epochs["asr"] == 1
    with pytest.raises(TypeError):
        TrainState.from_dict({"epoch": 1, "unknown": 1})
