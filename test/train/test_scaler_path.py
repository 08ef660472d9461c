"""The fp16 loss-scaling path of the loop, run on CPU with a CPU GradScaler."""
import pytest
import torch
from torch import nn

from chain.train.engine import ModelOptions, ModelSlot, Task, TrainState, train_one_epoch
from chain.train.options import LoopOptions, OptimOptions
from chain.train.report import Meter


class HugeLoss(nn.Module):
    """A finite loss of 1e30 whose scaled gradient overflows float32 while the scale is large."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, batch):
        return self.w.sum() * 1e30, {}


def test_scaler_overflow_is_skipped_without_counting_a_bad_step(toy):
    model = HugeLoss()
    train_factory, _ = toy.make_loaders()
    task = Task()
    task.slots = {"model": ModelSlot("model", model, ModelOptions(OptimOptions(lr=0.01)), epochs=1)}
    task.step = model
    # scale 2^127: 1e30 * 2^127 overflows; backoff 1e-20: 1.7e18 overflows too; 1.7e-2 does not
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 127, backoff_factor=1e-20)
    state = TrainState()
    train_one_epoch(task, train_factory(1), state, LoopOptions(max_bad_steps=1), scaler, Meter(),
                    device=torch.device("cpu"), amp="none", epoch=1)
    assert state.overflow_steps == 2 and state.bad_steps == 0  # over max_bad_steps: no error
    assert state.step == 6 - 2
    assert model.w.item() == pytest.approx(1.0 - 4 * 0.01, abs=1e-5)  # 4 Adam steps of -lr
