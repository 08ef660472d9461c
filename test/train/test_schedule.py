import math

import pytest
import torch

from chain.train.options import ScheduleOptions
from chain.train.schedule import SCHEDULES, build_schedule


# The schedules are driven without training here; torch warns when they step before Adam.
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler")


def optimizer(lr=1.0):
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def lr_of(opt):
    return opt.param_groups[0]["lr"]


def test_constant_never_changes():
    opt = optimizer(0.3)
    schedule = build_schedule(opt, ScheduleOptions())
    for _ in range(3):
        schedule.step_update()
        schedule.step_epoch(1.0)
    assert lr_of(opt) == 0.3


def test_noam_warms_up_to_lr_then_decays():
    opt = optimizer(1.0)
    schedule = build_schedule(opt, ScheduleOptions(scheduler="noam", warmup_steps=4))
    lrs = [lr_of(opt)]
    for _ in range(15):
        schedule.step_update()
        lrs.append(lr_of(opt))
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[15] == pytest.approx(math.sqrt(4 / 16))
    schedule.step_epoch(None)  # per-update schedule: epochs do not move it
    assert lr_of(opt) == pytest.approx(lrs[15])


def test_exponential_decays_per_epoch_down_to_min_lr():
    opt = optimizer(1.0)
    schedule = build_schedule(opt, ScheduleOptions(scheduler="exponential", lr_decay=0.5, min_lr=0.2))
    schedule.step_update()
    assert lr_of(opt) == 1.0
    lrs = []
    for _ in range(4):
        schedule.step_epoch(None)
        lrs.append(lr_of(opt))
    assert lrs == pytest.approx([0.5, 0.25, 0.2, 0.2])


@pytest.mark.parametrize("higher_is_better,metrics", [(False, [3.0, 2.0, 2.5, 2.5]),
                                                      (True, [1.0, 2.0, 1.5, 1.5])])
def test_plateau_decays_when_the_dev_metric_stalls(higher_is_better, metrics):
    opt = optimizer(1.0)
    schedule = build_schedule(opt, ScheduleOptions(scheduler="plateau", patience=0, lr_decay=0.5),
                              higher_is_better=higher_is_better)
    lrs = []
    for metric in metrics:
        schedule.step_epoch(metric)
        lrs.append(lr_of(opt))
    assert lrs == [1.0, 1.0, 0.5, 0.25]
    with pytest.raises(ValueError, match="needs a dev metric"):
        schedule.step_epoch(None)


def test_state_round_trip():
    opt = optimizer(1.0)
    schedule = build_schedule(opt, ScheduleOptions(scheduler="noam", warmup_steps=10))
    for _ in range(5):
        schedule.step_update()
    opt2 = optimizer(1.0)
    restored = build_schedule(opt2, ScheduleOptions(scheduler="noam", warmup_steps=10))
    restored.load_state_dict(schedule.state_dict())
    schedule.step_update()
    restored.step_update()
    assert lr_of(opt2) == lr_of(opt)


def test_cosine_falls_from_lr_to_min_lr_over_the_epochs():
    opt = optimizer(1.0)
    schedule = build_schedule(opt, ScheduleOptions(scheduler="cosine", min_lr=0.2), epochs=4)
    schedule.step_update()
    lrs = [lr_of(opt)]
    for _ in range(5):
        schedule.step_epoch(None)
        lrs.append(lr_of(opt))
    half = [(1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert lrs == pytest.approx([0.2 + 0.8 * h for h in half] + [0.2])
    assert lrs[2] == pytest.approx(0.6)  # half way: the mean of lr and min_lr


def test_bad_options_raise():
    with pytest.raises(ValueError, match="must be one of " + ", ".join(SCHEDULES) + ": got 'linear'"):
        build_schedule(optimizer(), ScheduleOptions(scheduler="linear"))
    with pytest.raises(ValueError, match="lr-decay"):
        build_schedule(optimizer(), ScheduleOptions(scheduler="exponential", lr_decay=2.0))
    with pytest.raises(ValueError, match="--epochs must be at least 1"):
        build_schedule(optimizer(), ScheduleOptions(scheduler="cosine"), epochs=0)
