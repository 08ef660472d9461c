"""Preemption: SIGTERM/SIGUSR1 stop training with a checkpoint, and the resumed run ends bit-identical."""
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from chain.train import train
from chain.train.checkpoint import INTERRUPTED, load_checkpoint, resume_checkpoint, rng_state, save_checkpoint
from chain.train.preempt import EXIT_STATUS, Preempted, StopSignal, resume_epoch
from fixtures.distributed import signal_at
from fixtures.recipe import ROOT
from fixtures.tiny import TINY_ASR


def run(toy, exp, model=None, **kw):
    options = toy.options(epochs=2)
    options.start.resume = True
    torch.manual_seed(0)
    model = model if model is not None else toy.TinyModel()
    train_factory, dev_loader = toy.make_loaders()
    return model, train(model, train_factory, dev_loader, options, exp, **kw)


def test_sigterm_mid_epoch_writes_a_checkpoint_and_the_resumed_run_is_bit_identical(toy, tmp_path, caplog):
    straight, _ = run(toy, tmp_path / "straight")
    torch.manual_seed(0)
    with pytest.raises(Preempted) as stopped:  # 6 batches per epoch: the 9th is batch 3 of epoch 2
        run(toy, tmp_path / "split", signal_at(toy.TinyModel(), 9))
    assert stopped.value.code == EXIT_STATUS == 143
    ckpt_dir = tmp_path / "split" / "checkpoints"
    assert sorted(p.name for p in ckpt_dir.iterdir()) == ["epoch1.pt", INTERRUPTED]
    state = load_checkpoint(ckpt_dir / INTERRUPTED)["train_state"]
    assert (state["epoch"], state["epoch_batches"], state["step"]) == (1, 3, 9)
    assert "SIGTERM: stopped after 3 batches of epoch 2 (9 updates)" in (tmp_path / "split" / "train.log").read_text()
    with caplog.at_level(logging.INFO, logger="chain"):
        resumed, state = run(toy, tmp_path / "split")
    assert "resumed from" in caplog.text and INTERRUPTED in caplog.text
    assert state.epoch == 2 and state.step == 12 and len(state.history) == 2
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    assert not (ckpt_dir / INTERRUPTED).exists()  # the epoch it belonged to has ended


def test_signal_during_the_dev_pass_stops_after_the_epoch_checkpoint(toy, tmp_path):
    def dev_metric(model, loader):
        os.kill(os.getpid(), signal.SIGUSR1)
        return {}

    with pytest.raises(Preempted):
        run(toy, tmp_path, dev_metric_fn=dev_metric)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch1.pt"]
    assert "SIGUSR1: stopped after epoch 1; resume from" in (tmp_path / "train.log").read_text()
    _, state = run(toy, tmp_path)
    assert state.epoch == 2 and state.step == 12


def test_stop_signal_catches_and_restores_the_handlers():
    before = signal.getsignal(signal.SIGUSR1)
    with StopSignal() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGUSR1)
        assert stop.signum == signal.SIGUSR1 and stop.requested
    assert signal.getsignal(signal.SIGUSR1) is before


def test_resume_epoch_drops_the_batches_done_then_restores_the_rng(caplog):
    saved = rng_state()
    expected = torch.rand(3)
    remaining, skip = resume_epoch(range(10), 6, 2, saved)
    assert skip == 3 and list(remaining) == [3, 4, 5, 6, 7, 8, 9]
    assert torch.equal(torch.rand(3), expected)
    with caplog.at_level(logging.WARNING):
        _, skip = resume_epoch(range(10), 6, 4, saved)
    assert skip == 1 and "on 4 ranks 2 of them are trained again" in caplog.text


def test_resume_checkpoint_prefers_an_interrupted_epoch_over_older_ones_only(tmp_path, caplog):
    def write(name, epoch, batches=0):
        save_checkpoint(tmp_path / name, {"train_state": {"epoch": epoch, "epoch_batches": batches}})

    assert resume_checkpoint(tmp_path) is None
    write("epoch1.pt", 1)
    write(INTERRUPTED, 1, 4)  # within epoch 2
    assert resume_checkpoint(tmp_path)[0].name == INTERRUPTED
    write("epoch2.pt", 2)  # epoch 2 ended (the stale file stayed: killed before removing it)
    assert resume_checkpoint(tmp_path)[0].name == "epoch2.pt"
    (tmp_path / INTERRUPTED).write_bytes(b"half a file")
    with caplog.at_level(logging.WARNING):
        assert resume_checkpoint(tmp_path)[0].name == "epoch2.pt"
    assert f"{INTERRUPTED}: not a checkpoint" in caplog.text and "resuming from the last epoch" in caplog.text


def test_run_pl_passes_sigterm_to_asr_train_which_resumes_bit_identically(espeak_recipe, tmp_path):
    """The local backend's job runner forwards SIGTERM and waits: the trainer writes its
    checkpoint, run.pl exits 143 after the log footer, and --resume true ends where an
    uninterrupted run ends."""
    conf = tmp_path / "asr.yaml"
    conf.write_text(yaml.safe_dump(TINY_ASR))
    args = ["-m", "chain.bin.asr_train", "--config", str(conf), "--train-dir", "dump/train_full",
            "--dev-dir", "dump/dev", "--batch-size", "1", "--log-interval", "1", "--dev-metric", "loss",
            "--dev-cer-every", "0", "--n-average", "0", "--plot", "false"]
    straight = subprocess.run([sys.executable, *args, "--exp-dir", str(tmp_path / "straight")],
                              cwd=espeak_recipe, capture_output=True, text=True)
    assert straight.returncode == 0, straight.stderr[-3000:]
    exp = tmp_path / "split"
    run_pl = [str(ROOT / "utils" / "run.pl"), str(exp / "log" / "train.log"), sys.executable, *args,
              "--exp-dir", str(exp), "--resume", "true"]
    job = subprocess.Popen(run_pl, cwd=espeak_recipe, stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # 36 updates per epoch: signal after the 2nd
        if (exp / "train.log").is_file() and "update 2:" in (exp / "train.log").read_text():
            break
        time.sleep(0.05)
    job.terminate()
    assert job.wait(timeout=60) == 143
    assert "got SIGTERM, passed it on to 1 running job(s)" in job.stderr.read()
    assert "# ended with exit status 143" in (exp / "log" / "train.log").read_text()
    assert "SIGTERM: stopped after" in (exp / "train.log").read_text()
    assert load_checkpoint(exp / "checkpoints" / INTERRUPTED)["train_state"]["epoch_batches"] > 0
    resumed = subprocess.run(run_pl, cwd=espeak_recipe, capture_output=True, text=True)
    assert resumed.returncode == 0, (exp / "log" / "train.log").read_text()[-3000:]
    a, b = (load_checkpoint(d / "checkpoints" / "epoch1.pt")["model"] for d in (tmp_path / "straight", exp))
    assert all(torch.equal(a[k], b[k]) for k in a)
