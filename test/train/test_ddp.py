"""Distributed training on CPU (gloo): rank 0 alone writes, ranks stop together on a signal and
resume on any world size, and 2 ranks of the tiny ASR reach the parameters of 1 process."""
import shutil
import subprocess
import sys

import pytest
import torch
import yaml
from torch import nn

from chain.train import train
from chain.train.checkpoint import INTERRUPTED, load_checkpoint
from chain.train.device import average_gradients, barrier, broadcast_object
from chain.train.launch import process_group
from chain.train.options import LoopOptions, SnapshotOptions, TrainOptions
from chain.train.preempt import Preempted
from fixtures.distributed import signal_at, spawn
from fixtures.tiny import TINY_ASR

BATCHES = 8  # per epoch, over all ranks


class Regression(nn.Module):
    """``loss, stats = model(batch)`` on ``{"x": (B, 4), "y": (B,)}``; dropout uses the RNG."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 1))

    def forward(self, batch):
        loss = ((self.net(batch["x"]).squeeze(-1) - batch["y"]) ** 2).mean()
        return loss, {}


def batches(epoch: int, rank: int = 0, world_size: int = 1) -> list[dict]:
    """The epoch's batches (fixed by its number), dealt out to the ranks."""
    g = torch.Generator().manual_seed(epoch)
    data = [{"x": torch.randn(4, 4, generator=g), "y": torch.randn(4, generator=g)} for _ in range(BATCHES)]
    return data[rank::world_size]


def options(epochs: int) -> TrainOptions:
    opts = TrainOptions(loop=LoopOptions(epochs=epochs, log_interval=1),
                        snapshot=SnapshotOptions(n_average=2, tensorboard=True, plot=True))
    opts.start.resume = True
    return opts


def figure(model, batch, out_dir):
    (out_dir / "x.txt").write_text("drawn")


def _two_ranks(rank: int, out):
    with process_group(0):
        # the helpers: a gradient missing on a rank counts as 0 there; missing everywhere stays None
        a, b, c = (nn.Parameter(torch.zeros(2)) for _ in range(3))
        a.grad, b.grad = torch.full((2,), rank + 1.0), torch.full((2,), 4.0) if rank == 0 else None
        average_gradients([a, b, c])
        assert a.grad.tolist() == [1.5, 1.5] and b.grad.tolist() == [2.0, 2.0] and c.grad is None
        assert broadcast_object({"rank": rank}) == {"rank": 0}
        # each rank gets an exp dir of its own, to see who writes what; rank 1 alone gets
        # SIGTERM, in its 6th update (epoch 2, batch 2 of 4): both ranks stop there
        exp, dev = out / f"rank{rank}", batches(99)
        model = signal_at(Regression(), 6) if rank == 1 else Regression()
        with pytest.raises(Preempted):
            train(model, lambda e: batches(e, rank, 2), dev, options(3), exp, figures_fn=figure)
        if rank == 0:  # what rank 1 would read on a shared file system
            shutil.copytree(exp, out / "interrupted")
            shutil.copytree(exp / "checkpoints", out / "rank1" / "checkpoints")
        barrier()
        train(Regression(), lambda e: batches(e, rank, 2), dev, options(3), exp, figures_fn=figure)


def test_rank_0_alone_writes_and_every_rank_stops_after_the_same_update(tmp_path):
    assert spawn(_two_ranks, 2, tmp_path) == [0, 0]
    written = sorted(str(p.relative_to(tmp_path / "rank1")) for p in (tmp_path / "rank1").rglob("*"))
    assert written == ["checkpoints", "checkpoints/epoch1.pt", f"checkpoints/{INTERRUPTED}"]  # the copies
    exp = tmp_path / "rank0"
    for name in ("train.log", "best.pt", "avg2.pt", "loss.png", "figures/epoch3/x.txt",
                 "checkpoints/epoch3.pt"):
        assert (exp / name).is_file(), name
    assert any((exp / "tensorboard").glob("events.out.tfevents.*"))
    assert not (exp / "checkpoints" / INTERRUPTED).exists()  # removed once epoch 2 ended
    log = (exp / "train.log").read_text()
    assert log.count("epoch 1: lr") == 1 and "2 processes" in log
    assert "a signal caught by another rank: stopped after 2 batches of epoch 2" in log
    ckpt = load_checkpoint(tmp_path / "interrupted" / "checkpoints" / INTERRUPTED)
    assert ckpt["train_state"]["epoch"] == 1 and ckpt["train_state"]["epoch_batches"] == 4
    # resume on 1 process: skip the 4 batches the 2 ranks did, train the other 4, then epoch 3
    state = train(Regression(), batches, batches(99), options(3), tmp_path / "interrupted")
    assert state.epoch == 3 and state.step == 4 + 2 + 4 + 8
    assert not (tmp_path / "interrupted" / "checkpoints" / INTERRUPTED).exists()


def fixed_length_text_dir(recipe, out, utts: int = 16, chars: int = 10):
    """``utts`` utterances of dump/train_full whose transcripts are cut to ``chars`` letters: every
    batch of the same size has the same number of tokens, so the token-mean loss of one batch of
    16 equals the mean of the losses of its two halves (what DDP averages)."""
    src = recipe / "dump" / "train_full"
    texts = {}
    for line in (src / "text").read_text().splitlines():
        utt, text = line.split(" ", 1)
        letters = "".join(c for c in text if c.isalpha())
        if len(letters) >= chars:
            texts[utt] = letters[:chars]
    keep = sorted(texts)[:utts]
    assert len(keep) == utts
    out.mkdir()
    for name in ("feats.scp", "utt2num_frames"):
        lines = {line.split()[0]: line for line in (src / name).read_text().splitlines()}
        (out / name).write_text("".join(lines[u] + "\n" for u in keep))
    (out / "text").write_text("".join(f"{u} {texts[u]}\n" for u in keep))
    return out


def test_two_ranks_reach_the_parameters_of_one_process_on_the_same_global_batch(espeak_recipe, tmp_path):
    """1 process, batch 16 vs torchrun 2 x batch 8 (one update per epoch, 3 epochs): the same
    weights up to float summation order, atol 1e-5 (lr 1e-2: the weights move by ~2e-2)."""
    conf = tmp_path / "asr.yaml"
    conf.write_text(yaml.safe_dump({**TINY_ASR, "epochs": 3}))
    data = fixed_length_text_dir(espeak_recipe, tmp_path / "data")
    args = ["--config", conf, "--train-dir", data, "--dev-dir", "dump/dev", "--dev-metric", "loss",
            "--dev-cer-every", "0", "--lr", "1e-2", "--n-average", "0", "--plot", "false"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    for exp, launcher, batch in (("one", [sys.executable], 16), ("two", torchrun, 8)):
        proc = subprocess.run([*launcher, "-m", "chain.bin.asr_train", *map(str, args), "--exp-dir",
                               str(tmp_path / exp), "--batch-size", str(batch)],
                              cwd=espeak_recipe, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert "global batch = per-rank batch (batch_size 8) x 2 ranks = batch_size 16; 1 updates" in proc.stderr
    one, two = (load_checkpoint(tmp_path / exp / "checkpoints" / "epoch3.pt")["model"] for exp in ("one", "two"))
    start = load_checkpoint(tmp_path / "one" / "checkpoints" / "epoch1.pt")["model"]
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=0, atol=1e-5)
    assert max(float((one[k] - start[k]).abs().max()) for k in one) > 1e-2  # it trained
    assert (tmp_path / "two" / "train.log").read_text().count("epoch 3: lr") == 1
