"""Learning-rate schedules, chosen by name from a small registry.

- ``constant``: ``lr`` throughout;
- ``noam`` (steps each update ``s``, from 1): ``lr * min(s / warmup, sqrt(warmup / s))``,
  linear warmup to ``lr`` then inverse square-root decay;
- ``exponential`` (steps each epoch ``e``): ``max(lr * lr_decay ** e, min_lr)``;
- ``plateau`` (steps each epoch): ``* lr_decay`` after ``patience`` epochs without a
  better dev metric, never below ``min_lr``;
- ``cosine`` (steps each epoch ``e`` of ``E``, from 0): ``min_lr + (lr - min_lr) *
  (1 + cos(pi * e / E)) / 2``, a half cosine from ``lr`` down towards ``min_lr`` over the
  run (``E`` is ``--epochs``: resuming with another ``--epochs`` reshapes the rest).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from chain.train.options import ScheduleOptions


class LRSchedule:
    """A torch scheduler (or none) with the points it steps at made explicit.

    The trainer calls :meth:`step_update` after every optimizer update and
    :meth:`step_epoch` with the dev metric after every epoch; each schedule reacts to one.
    """

    def __init__(self, scheduler=None, *, per_update: bool = False, needs_metric: bool = False):
        self.scheduler, self.per_update, self.needs_metric = scheduler, per_update, needs_metric

    def step_update(self) -> None:
        if self.scheduler is not None and self.per_update:
            self.scheduler.step()

    def step_epoch(self, metric: float | None) -> None:
        if self.scheduler is None or self.per_update:
            return
        if self.needs_metric:
            if metric is None:
                raise ValueError("the plateau schedule needs a dev metric: give a dev set")
            self.scheduler.step(metric)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {} if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


def _constant(optimizer, opts: ScheduleOptions, higher_is_better: bool, epochs: int) -> LRSchedule:
    return LRSchedule()


def _noam(optimizer, opts: ScheduleOptions, higher_is_better: bool, epochs: int) -> LRSchedule:
    warmup = max(1, opts.warmup_steps)

    def factor(done: int) -> float:
        s = done + 1  # LambdaLR counts finished updates; the next one is update s
        return min(s / warmup, math.sqrt(warmup / s))

    return LRSchedule(torch.optim.lr_scheduler.LambdaLR(optimizer, factor), per_update=True)


def _exponential(optimizer, opts: ScheduleOptions, higher_is_better: bool, epochs: int) -> LRSchedule:
    base = optimizer.param_groups[0]["lr"]
    floor = opts.min_lr / base if base > 0 else 0.0
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: max(opts.lr_decay ** epoch, floor))
    return LRSchedule(scheduler)


def _plateau(optimizer, opts: ScheduleOptions, higher_is_better: bool, epochs: int) -> LRSchedule:
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max" if higher_is_better else "min", factor=opts.lr_decay,
        patience=opts.patience, min_lr=opts.min_lr)
    return LRSchedule(scheduler, needs_metric=True)


def _cosine(optimizer, opts: ScheduleOptions, higher_is_better: bool, epochs: int) -> LRSchedule:
    base = optimizer.param_groups[0]["lr"]
    floor = opts.min_lr / base if base > 0 else 0.0

    def factor(epoch: int) -> float:
        return floor + (1 - floor) * (1 + math.cos(math.pi * min(epoch, epochs) / epochs)) / 2

    return LRSchedule(torch.optim.lr_scheduler.LambdaLR(optimizer, factor))


SCHEDULES: dict[str, Callable[..., LRSchedule]] = {
    "constant": _constant, "noam": _noam, "exponential": _exponential, "plateau": _plateau,
    "cosine": _cosine,
}


def build_schedule(optimizer: torch.optim.Optimizer, opts: ScheduleOptions, *,
                   higher_is_better: bool = False, epochs: int = 1) -> LRSchedule:
    """The schedule named ``opts.scheduler`` for a run of ``epochs`` epochs; a bad name
    lists the valid ones."""
    if opts.scheduler not in SCHEDULES:
        raise ValueError(f"--scheduler must be one of {', '.join(SCHEDULES)}: got '{opts.scheduler}'")
    if not 0 < opts.lr_decay <= 1:
        raise ValueError(f"--lr-decay must be in (0, 1]: got {opts.lr_decay}")
    if epochs < 1:
        raise ValueError(f"--epochs must be at least 1: got {epochs}")
    return SCHEDULES[opts.scheduler](optimizer, opts, higher_is_better, epochs)
