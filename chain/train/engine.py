"""The training engine: one loop for every model of the toolkit.

A model plugs in through a :class:`Task`: its :class:`ModelSlot` s (each a module with its
own Adam, learning-rate schedule, dev metric and ``best.pt``), the batches of an epoch,
``step(batch) -> (loss, stats)``, the dev statistics and figures. :func:`fit` owns the rest:
epochs, ``--init``, resume (bit-identical on CPU), preemption, the NaN guard, best and
averaged snapshots, ``train.log``, tensorboard, ``loss.png``, progress, DDP and AMP. The
single-model trainer (:mod:`chain.train.trainer`: ASR, TTS) and the speech chain
(:mod:`chain.loop.trainer`: ASR + TTS) are two tasks of it.

Experiment directory layout (``exp/<dir>``)::

    checkpoints/epoch<N>.pt   full state after epoch N (every slot, RNGs, counters)
    checkpoints/interrupted.pt  full state within an epoch stopped by SIGTERM/SIGUSR1
                              (see chain.train.preempt), until that epoch ends
    <slot best_path>          weights of the epoch with the best dev metric of that slot
    avg<N>.pt                 mean weights of the last N epoch checkpoints (one-slot tasks)
    train.log  loss.png  tensorboard/  figures/epoch<N>/

Checkpoint layout: a slot with ``ckpt_key`` None keeps ``model``, ``optimizer`` and
``schedule`` at the top level (a one-model experiment); others nest them under their key.

Distributed (one process per device, started by torchrun or srun): a slot with ``ddp``
True is called through DistributedDataParallel (``slot.wrapped``), the gradients of the
others are averaged over the ranks after ``backward()`` (:func:`average_gradients`, for
models trained through more methods than ``forward``). Each rank trains on its share of
the batches, every rank evaluates the whole dev set and takes rank 0's statistics, and only
rank 0 writes files.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch

from chain.train.average import average_last
from chain.train.checkpoint import (INTERRUPTED, load_weights, resume_checkpoint, rng_state,
                                    save_checkpoint, seed_everything, set_rng_state)
from chain.train.device import (all_ranks_true, autocast, average_gradients, barrier,
                                broadcast_object, check_amp, check_same, is_main, make_scaler,
                                rank_world, select_device, wrap_model)
from chain.train.options import InitOptions, LoopOptions, OptimOptions, ScheduleOptions
from chain.train.plots import plot_loss_curves
from chain.train.preempt import Interrupted, StopSignal, preempted, resume_epoch
from chain.train.report import (Meter, format_stats, make_writer, progress, progress_enabled,
                                train_logging, write_scalars)
from chain.train.schedule import build_schedule

log = logging.getLogger("chain.train.trainer")


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. too many consecutive non-finite steps)."""


@dataclass
class ModelOptions:
    """Optimiser and schedule of one model."""

    optim: OptimOptions = field(default_factory=OptimOptions)
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)


class ModelSlot:
    """One model of a task with its own Adam and learning-rate schedule.

    ``dev_metric`` names the task's dev statistic that drives the schedule and picks the
    weights written to ``best_path`` (None: neither); ``init`` loads starting weights when
    the run does not resume; ``ddp`` False: gradients averaged by hand instead of DDP.
    """

    def __init__(self, name: str, module: torch.nn.Module, opts: ModelOptions, epochs: int, *,
                 dev_metric: str | None = None, higher_is_better: bool = False,
                 best_path: str | Path | None = None, ckpt_key: str | None = "",
                 init: InitOptions | None = None, ddp: bool = False) -> None:
        o = opts.optim
        self.name, self.module = name, module
        self.optimizer = torch.optim.Adam(module.parameters(), lr=o.lr, betas=(o.adam_beta1, o.adam_beta2),
                                          eps=o.adam_eps, weight_decay=o.weight_decay)
        self.schedule = build_schedule(self.optimizer, opts.schedule, higher_is_better=higher_is_better,
                                       epochs=epochs)
        self.dev_metric, self.higher_is_better = dev_metric, higher_is_better
        self.best_path = Path(best_path) if best_path is not None else None
        self.ckpt_key = name if ckpt_key == "" else ckpt_key
        self.init, self.ddp = init, ddp
        self.wrapped = module  # what a task calls: DistributedDataParallel(module) once fit() runs

    def state(self) -> dict:
        return {"model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict()}

    def load(self, state: dict) -> None:
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])

    def better(self, metric: float | None, best: float | None) -> bool:
        return metric is not None and math.isfinite(metric) and (
            best is None or (metric > best if self.higher_is_better else metric < best))


class Task:
    """What a model brings to :func:`fit`; subclasses fill in the methods below."""

    slots: dict[str, ModelSlot]
    counters: dict[str, str] = {}  # step statistics summed over the run into TrainState.counts,
                                   # with what they count (for the last log line)
    has_dev: bool = True

    def batches(self, epoch: int) -> Iterable:
        """The training batches of ``epoch`` (the same for the same number: resume relies on it)."""
        raise NotImplementedError

    def num_batches(self) -> int | None:
        """Batches per epoch on this rank, if known (progress and log lines)."""
        return None

    def step(self, batch) -> tuple[torch.Tensor | None, dict[str, float]]:
        """Forward pass of one batch (already on the device): ``(loss, stats)``; loss None when
        the batch gives nothing to learn from (e.g. every generation dropped)."""
        raise NotImplementedError

    def evaluate(self, device: torch.device, amp: str) -> dict[str, float]:
        """Dev statistics, including each slot's ``dev_metric`` ({} without a dev set)."""
        return {}

    def figures(self, out_dir: Path, device: torch.device) -> None:
        """Per-epoch figures (rank 0 only); optional."""

    def describe(self) -> str:
        """One log line about the task at the start of training."""
        return ""

    def options(self) -> dict:
        """Options stored in every checkpoint (for the record)."""
        return {}

    @staticmethod
    def weight(batch) -> float:
        """Weight of a batch in the epoch means: its utterances, or 1."""
        return len(batch["utt_ids"]) if isinstance(batch, dict) and "utt_ids" in batch else 1


@dataclass
class TrainState:
    """Counters saved in every checkpoint besides the module states."""

    epoch: int = 0                  # last finished epoch
    step: int = 0                   # optimizer updates done
    bad_steps: int = 0              # non-finite steps skipped, in total
    consecutive_bad_steps: int = 0  # ... in a row, up to now
    overflow_steps: int = 0         # fp16 steps skipped by the gradient scaler
    best: dict = field(default_factory=dict)         # slot name -> best dev metric
    best_epochs: dict = field(default_factory=dict)  # slot name -> its epoch
    counts: dict = field(default_factory=dict)       # Task.counters summed over the run
    history: list[dict] = field(default_factory=list)  # one dict of statistics per epoch
    epoch_batches: int = 0          # batches of epoch ``epoch + 1`` done over all ranks
    epoch_sums: dict = field(default_factory=dict)   # and their statistics (Meter.state())
                                    # (both non-empty in interrupted.pt only)

    @property
    def best_metric(self) -> float | None:
        """The best dev metric of a one-model run."""
        return next(iter(self.best.values()), None)

    @property
    def best_epoch(self) -> int:
        """The epoch of :attr:`best_metric`."""
        return next(iter(self.best_epochs.values()), 0)

    @classmethod
    def from_dict(cls, d: dict) -> TrainState:
        """From a checkpoint's ``train_state``, also one written before the engine existed."""
        d = dict(d)
        if "best_metric" in d:  # one-model trainer
            metric, epoch = d.pop("best_metric"), d.pop("best_epoch")
            d["best"], d["best_epochs"] = ({"model": metric}, {"model": epoch}) if epoch else ({}, {})
        elif "dropped_asr" in d:  # speech chain trainer
            d["counts"] = {k: d.pop(k) for k in ("dropped_asr", "dropped_tts")}
            d["best_epochs"] = d.pop("best_epoch")
        return cls(**d)


def fit(task: Task, loop: LoopOptions, exp_dir, *, resume: bool = False, n_average: int = 0,
        tensorboard: bool = True, plot: bool = True) -> TrainState:
    """Train ``task`` for ``loop.epochs`` epochs; return the final :class:`TrainState`.

    ``resume``: continue from ``checkpoints/interrupted.pt`` or the newest complete
    ``epoch<N>.pt`` (else start afresh: seed, then each slot's ``init``). SIGTERM or
    SIGUSR1 stop it after the update in progress with ``checkpoints/interrupted.pt``,
    raising :class:`chain.train.preempt.Preempted`.
    """
    exp_dir, main = Path(exp_dir), is_main()
    ckpt_dir = exp_dir / "checkpoints"
    world = rank_world()[1]
    slots = task.slots
    with train_logging(exp_dir / "train.log", enabled=main), StopSignal() as stop:
        # 1. device, mixed precision
        device = select_device(loop.ngpu)
        amp = check_amp(loop.amp, device)
        for slot in slots.values():
            slot.module.to(device)
            if slot.schedule.needs_metric and not (task.has_dev and slot.dev_metric):
                raise ValueError("--scheduler plateau needs a dev set: give one or pick another schedule")
        scaler = make_scaler(device, amp)

        # 2. starting point: resume (full state) > each slot's init (weights only) > fresh
        state = TrainState()
        found = resume_checkpoint(ckpt_dir) if resume else None
        if found is not None:
            path, ckpt = found
            for slot in slots.values():
                slot.load(ckpt if slot.ckpt_key is None else ckpt[slot.ckpt_key])
            if scaler is not None and ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
            state = TrainState.from_dict(ckpt["train_state"])
            set_rng_state(ckpt["rng"])
            log.info("resumed from %s (epoch %d and %d batches of the next, %d updates)", path,
                     state.epoch, state.epoch_batches, state.step)
        else:
            seed_everything(loop.seed)
            for slot in slots.values():
                if slot.init is not None and slot.init.init:
                    load_weights(slot.module, slot.init.init, strict=slot.init.init_strict,
                                 prefixes=tuple(slot.init.init_prefixes))
        check_same((state.epoch, state.epoch_batches, state.step),
                   "the resume point (epoch, batches, updates)")
        for slot in slots.values():
            slot.wrapped = wrap_model(slot.module, device) if slot.ddp else slot.module
        log.info("%s: %s on %s (amp %s, %d process%s); %s", type(task).__name__,
                 ", ".join(f"{n} {type(s.module).__name__} {_millions(s.module):.2f}M parameters"
                           for n, s in slots.items()),
                 device, amp, world, "es" if world > 1 else "", task.describe())
        if not task.has_dev:
            log.warning("no dev set: no dev statistics, best.pt is not written")
        writer = make_writer(exp_dir / "tensorboard", main and tensorboard)
        save = _saver(task, scaler, state)
        try:
            for epoch in range(state.epoch + 1, loop.epochs + 1):
                start = time.time()
                # 3. one pass over the training batches (the rest of an interrupted one)
                batches, skipped, meter = task.batches(epoch), 0, Meter.from_state(state.epoch_sums)
                if state.epoch_batches:
                    batches, skipped = resume_epoch(batches, state.epoch_batches, world, ckpt["rng"])
                    state.epoch_batches, state.epoch_sums = 0, {}
                try:
                    train_stats = train_one_epoch(task, batches, state, loop, scaler, meter,
                                                  device=device, amp=amp, epoch=epoch,
                                                  writer=writer if main else None, stop=stop,
                                                  first=skipped + 1)
                except Interrupted as interrupted:
                    done = skipped + interrupted.batches
                    state.epoch_batches, state.epoch_sums = done * world, meter.state()
                    if main:
                        save(ckpt_dir / INTERRUPTED)
                    barrier()
                    raise preempted(stop, ckpt_dir / INTERRUPTED, f"after {done} batches of epoch "
                                    f"{epoch} ({state.step} updates)") from None
                # 4. dev statistics (rank 0's on every rank)
                dev_stats = broadcast_object(_evaluate(task, device, amp)) if task.has_dev else {}
                # 5. figures
                if main and task.has_dev:
                    _figures(task, exp_dir / "figures" / f"epoch{epoch}", device)
                # 6. per slot: epoch-level schedule, best dev metric
                state.epoch = epoch
                row, improved = {"epoch": epoch}, []
                for name, slot in slots.items():
                    metric = _pick_metric(dev_stats, slot.dev_metric) if dev_stats and slot.dev_metric else None
                    slot.schedule.step_epoch(metric)
                    row[_key(slots, name, "lr")] = slot.optimizer.param_groups[0]["lr"]
                    if slot.better(metric, state.best.get(name)):
                        state.best[name], state.best_epochs[name] = metric, epoch
                        improved.append(slot)
                row.update({"seconds": round(time.time() - start, 2), "bad_steps": state.bad_steps,
                            **{f"train/{k}": v for k, v in train_stats.items()},
                            **{f"dev/{k}": v for k, v in dev_stats.items()}})
                state.history.append(row)
                log.info("epoch %d: %s", epoch, format_stats({k: v for k, v in row.items() if k != "epoch"}))
                # 7. checkpoint and snapshots on rank 0
                if main:
                    write_scalars(writer, "train", train_stats, epoch)
                    write_scalars(writer, "dev", dev_stats, epoch)
                    save(ckpt_dir / f"epoch{epoch}.pt")
                    (ckpt_dir / INTERRUPTED).unlink(missing_ok=True)
                    for slot in improved:
                        if slot.best_path is not None:
                            metric = state.best[slot.name]
                            save_checkpoint(slot.best_path, {"model": slot.module.state_dict(), "epoch": epoch,
                                                             "metric": {slot.dev_metric: metric}})
                            log.info("best %s %.4g at epoch %d: wrote %s", _key(slots, slot.name, slot.dev_metric,
                                     " dev "), metric, epoch, slot.best_path)
                    if plot:
                        plot_loss_curves(state.history, exp_dir / "loss.png")
                if epoch < loop.epochs and not all_ranks_true(not stop.requested, device=device)[0]:
                    raise preempted(stop, ckpt_dir / f"epoch{epoch}.pt", f"after epoch {epoch}")
            # 8. average the last N epoch checkpoints
            if main and n_average > 0 and state.epoch > 0:
                if any(slot.ckpt_key is not None for slot in slots.values()):
                    raise ValueError("averaging checkpoints needs a one-model task")
                epochs = average_last(ckpt_dir, n_average, exp_dir / f"avg{n_average}.pt")
                log.info("wrote %s: mean of epochs %s", exp_dir / f"avg{n_average}.pt", epochs)
        finally:
            if writer is not None:
                writer.close()
        log.info("done: %d epochs, %d updates, %d non-finite steps skipped%s%s", state.epoch, state.step,
                 state.bad_steps, "".join(f", {v} {task.counters[k]}" for k, v in state.counts.items()),
                 "".join(f"; best {_key(slots, n, slots[n].dev_metric, ' dev ')} {m:.4g} at epoch "
                         f"{state.best_epochs[n]}" for n, m in state.best.items() if m is not None))
    return state


def train_one_epoch(task: Task, batches: Iterable, state: TrainState, loop: LoopOptions,
                    scaler: torch.amp.GradScaler | None, meter: Meter, *, device: torch.device,
                    amp: str, epoch: int, writer=None, stop: StopSignal | None = None,
                    first: int = 1) -> dict[str, float]:
    """One pass over ``batches`` (the ``first``-th of the epoch onwards); updates ``state`` and
    ``meter`` (the epoch's running means) in place; returns the epoch's mean statistics.

    Raises :class:`Interrupted` after the batch during which any rank caught ``stop``'s signal.
    """
    slots = task.slots
    for slot in slots.values():
        slot.module.train()
    interval, total = Meter(), task.num_batches()
    of = f"/{total}" if total else ""
    batches = progress(batches, desc=f"epoch {epoch}", enabled=progress_enabled(is_main()))
    for done, batch in enumerate(batches, first):
        batch = to_device(batch, device)
        # 1. forward
        with autocast(device, amp):
            loss, stats = task.step(batch)
        for key in task.counters:
            state.counts[key] = state.counts.get(key, 0) + int(stats.get(key, 0))
        # 2. backward, gradients averaged over the ranks, clipped per slot
        loss, norms = backward(slots, loss, loop.grad_clip, scaler)
        # 3. decisions every rank shares: finite loss and gradients, no stop signal anywhere
        loss_ok, grad_ok, go_on = all_ranks_true(
            loss is None or bool(torch.isfinite(loss)),
            all(bool(torch.isfinite(n)) for n in norms.values()),
            stop is None or not stop.requested, device=device)
        if loss is None:
            pass  # nothing to learn from this batch on any rank
        elif scaler is not None and loss_ok and not grad_ok:
            for slot in slots.values():  # fp16 overflow: the scaler skips the update, lowers its scale
                scaler.step(slot.optimizer)
            scaler.update()
            state.overflow_steps += 1
        elif not (loss_ok and grad_ok):
            # 4a. NaN/Inf guard: skip the update, count it, give up after max_bad_steps in a row
            _skip_step(task, scaler, state, loop, epoch, batch, loss_ok, loss, norms)
        else:
            # 4b. update the weights and the per-update schedules
            state.consecutive_bad_steps = 0
            for slot in slots.values():
                if scaler is not None:
                    scaler.step(slot.optimizer)
                else:
                    slot.optimizer.step()
                slot.schedule.step_update()
            if scaler is not None:
                scaler.update()
            state.step += 1
            # 5. statistics and periodic logging
            stats = {"loss": loss.item(), **{k: float(v) for k, v in stats.items()},
                     **{_key(slots, n, "grad_norm"): float(v) for n, v in norms.items()}}
            meter.add(stats, task.weight(batch))
            interval.add(stats, task.weight(batch))
            if state.step % loop.log_interval == 0:
                means = {**interval.means(),
                         **{_key(slots, n, "lr"): s.optimizer.param_groups[0]["lr"] for n, s in slots.items()}}
                log.info("epoch %d batch %d%s, update %d: %s", epoch, done, of, state.step,
                         format_stats(means))
                write_scalars(writer, "train_update", means, state.step)
                interval = Meter()
        # 6. stop here when a rank caught SIGTERM/SIGUSR1
        if not go_on:
            raise Interrupted(done - first + 1)
    return meter.means()


def backward(slots: dict[str, ModelSlot], loss: torch.Tensor | None, grad_clip: float,
             scaler: torch.amp.GradScaler | None = None) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
    """Gradients of ``loss`` for every slot, averaged over the ranks, clipped per slot.

    Returns ``(loss, gradient norm of each slot before clipping)``. Every rank runs the same
    collectives, also for a non-finite loss. ``loss`` None on this rank: its gradients count
    as zero in the average; the loss returned is None only when no rank had one (a zero
    loss otherwise).
    """
    for slot in slots.values():
        slot.optimizer.zero_grad(set_to_none=True)
    if loss is not None:
        (scaler.scale(loss) if scaler is not None else loss).backward()
    params = [p for s in slots.values() if not s.ddp for p in s.module.parameters()]
    average_gradients(params)
    if loss is None:
        every = [p for s in slots.values() for p in s.module.parameters()]
        if all(p.grad is None for p in every):
            return None, {}
        loss = torch.zeros((), device=every[0].device)
    norms = {}
    for name, slot in slots.items():
        if scaler is not None:
            scaler.unscale_(slot.optimizer)
        norms[name] = torch.nn.utils.clip_grad_norm_(
            [p for p in slot.module.parameters() if p.requires_grad], grad_clip if grad_clip > 0 else math.inf)
    return loss, norms


def _skip_step(task: Task, scaler, state: TrainState, loop: LoopOptions, epoch: int, batch,
               loss_ok: bool, loss: torch.Tensor, norms: dict[str, torch.Tensor]) -> None:
    """Drop the gradients of a non-finite step and count it; raise after too many in a row."""
    for slot in task.slots.values():
        slot.optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.update()
    state.bad_steps += 1
    state.consecutive_bad_steps += 1
    log.warning("epoch %d update %d: non-finite %s (loss %s, grad norm %s): step skipped "
                "(%d in a row, %d in total)", epoch, state.step + 1,
                "loss" if not loss_ok else "gradient", loss.item(),
                ", ".join(f"{n} {v.item():.4g}" for n, v in norms.items()),
                state.consecutive_bad_steps, state.bad_steps)
    if state.consecutive_bad_steps >= loop.max_bad_steps:
        utts = batch.get("utt_ids", [])[:3] if isinstance(batch, dict) else []
        raise TrainingError(
            f"{state.consecutive_bad_steps} consecutive steps with a non-finite loss or "
            f"gradient (epoch {epoch}, after update {state.step}; max_bad_steps "
            f"{loop.max_bad_steps}): lower the learning rate, set --grad-clip, or check the data"
            + (f" of utterances {utts}" if utts else ""))


def _evaluate(task: Task, device, amp: str) -> dict[str, float]:
    for slot in task.slots.values():
        slot.module.eval()
    try:
        with torch.no_grad():
            return task.evaluate(device, amp)
    finally:
        for slot in task.slots.values():
            slot.module.train()


def _figures(task: Task, out_dir: Path, device) -> None:
    for slot in task.slots.values():
        slot.module.eval()
    try:
        with torch.no_grad():
            task.figures(out_dir, device)
    finally:
        for slot in task.slots.values():
            slot.module.train()


def _saver(task: Task, scaler, state: TrainState):
    """``save(path)``: the full state of ``task`` and ``state`` to ``path`` (atomically)."""
    def save(path: Path) -> None:
        ckpt = {}
        for slot in task.slots.values():
            ckpt.update(slot.state()) if slot.ckpt_key is None else ckpt.update({slot.ckpt_key: slot.state()})
        save_checkpoint(path, {**ckpt, "scaler": scaler.state_dict() if scaler is not None else {},
                               "rng": rng_state(), "train_state": dataclasses.asdict(state),
                               "options": task.options()})
    return save


def _key(slots: dict, name: str, stat: str, sep: str = "_") -> str:
    """``stat`` of a one-slot task, ``<slot><sep><stat>`` of a task with several."""
    return stat if len(slots) == 1 else f"{name}{sep}{stat}"


def _pick_metric(dev_stats: dict[str, float], name: str) -> float:
    if name not in dev_stats:
        raise ValueError(f"--dev-metric '{name}' is not among the dev statistics "
                         f"{', '.join(sorted(dev_stats))} (add it with dev_metric_fn)")
    return dev_stats[name]


def _millions(module: torch.nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def to_device(batch, device: torch.device):
    """Move the tensors of a batch (dicts and lists of them, nested) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list) and batch and isinstance(batch[0], (dict, torch.Tensor)):
        return [to_device(b, device) for b in batch]
    return batch
