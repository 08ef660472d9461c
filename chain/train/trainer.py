"""The training loop shared by the ASR and the TTS: :func:`train` runs epochs of
:func:`train_one_epoch`, evaluates, and writes checkpoints and reports.

Experiment directory layout (``exp/<dir>``)::

    checkpoints/epoch<N>.pt   full state after epoch N (see chain.train.checkpoint)
    checkpoints/interrupted.pt  full state within an epoch stopped by SIGTERM/SIGUSR1
                              (see chain.train.preempt), until that epoch ends
    best.pt                   model weights of the epoch with the best dev metric
    avg<N>.pt                 mean model weights of the last N epoch checkpoints
    train.log  loss.png  tensorboard/  figures/epoch<N>/

Models follow the convention ``loss, stats = model(batch)`` (stats: dict of floats).

Distributed (one process per device, started by torchrun or srun): the model is wrapped in
DistributedDataParallel, each rank trains on its share of the batches (the loader factory's
sampler splits them), every rank evaluates the whole dev set and takes rank 0's statistics,
and only rank 0 writes files.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch

from chain.train.average import average_last
from chain.train.checkpoint import (INTERRUPTED, load_weights, resume_checkpoint, rng_state,
                                    save_checkpoint, seed_everything, set_rng_state)
from chain.train.device import (all_ranks_true, autocast, barrier, broadcast_object, check_amp,
                                check_same, is_main, make_scaler, rank_world, select_device,
                                wrap_model)
from chain.train.options import LoopOptions, TrainOptions
from chain.train.plots import plot_loss_curves
from chain.train.preempt import Interrupted, StopSignal, preempted, resume_epoch
from chain.train.report import (Meter, format_stats, make_writer, progress, progress_enabled,
                                train_logging, write_scalars)
from chain.train.schedule import LRSchedule, build_schedule

log = logging.getLogger(__name__)

DevMetricFn = Callable[[torch.nn.Module, Iterable[dict]], dict[str, float]]
FiguresFn = Callable[[torch.nn.Module, dict, Path], None]


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. too many consecutive non-finite steps)."""


@dataclass
class TrainState:
    """Counters saved in every checkpoint besides the module states."""

    epoch: int = 0                  # last finished epoch
    step: int = 0                   # optimizer updates done
    bad_steps: int = 0              # non-finite steps skipped, in total
    consecutive_bad_steps: int = 0  # ... in a row, up to now
    overflow_steps: int = 0         # fp16 steps skipped by the gradient scaler
    best_metric: float | None = None
    best_epoch: int = 0
    history: list[dict] = field(default_factory=list)  # one dict of statistics per epoch
    epoch_batches: int = 0          # batches of epoch ``epoch + 1`` done over all ranks
                                    # (non-zero in interrupted.pt only)


def train(model: torch.nn.Module, train_loader_factory: Callable[[int], Iterable[dict]],
          dev_loader: Iterable[dict] | None, options: TrainOptions, exp_dir, *,
          dev_metric_fn: DevMetricFn | None = None, figures_fn: FiguresFn | None = None) -> TrainState:
    """Train ``model`` for ``options.loop.epochs`` epochs; return the final :class:`TrainState`.

    ``train_loader_factory(epoch)`` returns the batches of that epoch (it sets the sampler's
    epoch, so the order is reproducible on resume). ``dev_metric_fn(model, dev_loader)``
    returns extra dev statistics such as ``{"cer": 0.12}``; ``options.snapshot.dev_metric``
    names the one that picks ``best.pt``. ``figures_fn(model, dev_batch, out_dir)`` draws
    per-epoch figures of the first dev batch. SIGTERM or SIGUSR1 stop it after the update in
    progress with ``checkpoints/interrupted.pt``, raising :class:`chain.train.preempt.Preempted`.
    """
    exp_dir, main = Path(exp_dir), is_main()
    ckpt_dir = exp_dir / "checkpoints"
    world = rank_world()[1]
    with train_logging(exp_dir / "train.log", enabled=main), StopSignal() as stop:
        # 1. device, optimizer, schedule, mixed precision
        device = select_device(options.loop.ngpu)
        amp = check_amp(options.loop.amp, device)
        model.to(device)
        o = options.optim
        optimizer = torch.optim.Adam(model.parameters(), lr=o.lr, betas=(o.adam_beta1, o.adam_beta2),
                                     eps=o.adam_eps, weight_decay=o.weight_decay)
        higher = options.snapshot.higher_is_better
        schedule = build_schedule(optimizer, options.schedule, higher_is_better=higher,
                                  epochs=options.loop.epochs)
        if schedule.needs_metric and dev_loader is None:
            raise ValueError("--scheduler plateau needs a dev set: give one or pick another schedule")
        scaler = make_scaler(device, amp)

        # 2. starting point: --resume (full state) > --init (weights only) > fresh
        state = TrainState()
        found = resume_checkpoint(ckpt_dir) if options.start.resume else None
        if found is not None:
            path, ckpt = found
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            schedule.load_state_dict(ckpt["schedule"])
            if scaler is not None and ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
            state = TrainState(**ckpt["train_state"])
            set_rng_state(ckpt["rng"])
            log.info("resumed from %s (epoch %d and %d batches of the next, %d updates)", path,
                     state.epoch, state.epoch_batches, state.step)
        else:
            seed_everything(options.loop.seed)
            if options.start.init:
                load_weights(model, options.start.init, strict=options.start.init_strict,
                             prefixes=tuple(options.start.init_prefixes))
        check_same((state.epoch, state.epoch_batches, state.step),
                   "the resume point (epoch, batches, updates)")
        wrapped = wrap_model(model, device)
        n_params = sum(p.numel() for p in model.parameters())
        log.info("model %s: %.2fM parameters on %s (amp %s, %d process%s); options %s",
                 type(model).__name__, n_params / 1e6, device, amp, world,
                 "es" if world > 1 else "", dataclasses.asdict(options))

        if dev_loader is None:
            log.warning("no dev set: no dev statistics, best.pt is not written")
        writer = make_writer(exp_dir / "tensorboard", main and options.snapshot.tensorboard)
        try:
            for epoch in range(state.epoch + 1, options.loop.epochs + 1):
                start = time.time()
                # 3. one pass over the training batches (the rest of an interrupted one)
                batches, skipped = train_loader_factory(epoch), 0
                if state.epoch_batches:
                    batches, skipped = resume_epoch(batches, state.epoch_batches, world, ckpt["rng"])
                    state.epoch_batches = 0
                try:
                    train_stats = train_one_epoch(
                        wrapped, model.parameters(), batches, optimizer, schedule, scaler, state,
                        options.loop, device=device, amp=amp, epoch=epoch, writer=writer,
                        main=main, stop=stop)
                except Interrupted as interrupted:
                    state.epoch_batches = (skipped + interrupted.batches) * world
                    if main:
                        _save_epoch(ckpt_dir / INTERRUPTED, model, optimizer, schedule, scaler,
                                    state, options)
                    barrier()
                    done = skipped + interrupted.batches
                    raise preempted(stop, ckpt_dir / INTERRUPTED, f"after {done} batches of epoch "
                                    f"{epoch} ({state.step} updates)") from None
                # 4. dev statistics (rank 0's on every rank) and the dev metric
                dev_stats = {}
                if dev_loader is not None:
                    dev_stats = broadcast_object(evaluate(model, dev_loader, device=device, amp=amp,
                                                          dev_metric_fn=dev_metric_fn))
                metric = _pick_metric(dev_stats, options.snapshot.dev_metric) if dev_stats else None
                # 5. figures of the first dev batch
                if figures_fn is not None and dev_loader is not None and main:
                    _draw_figures(model, dev_loader, figures_fn, exp_dir / "figures" / f"epoch{epoch}",
                                  device)
                # 6. epoch-level learning-rate schedule
                schedule.step_epoch(metric)
                # 7. record the epoch; checkpoint and snapshots on rank 0
                state.epoch = epoch
                improved = metric is not None and math.isfinite(metric) and (
                    state.best_metric is None
                    or (metric > state.best_metric if higher else metric < state.best_metric))
                if improved:
                    state.best_metric, state.best_epoch = metric, epoch
                row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
                       "seconds": round(time.time() - start, 2), "bad_steps": state.bad_steps,
                       **{f"train/{k}": v for k, v in train_stats.items()},
                       **{f"dev/{k}": v for k, v in dev_stats.items()}}
                state.history.append(row)
                log.info("epoch %d: %s", epoch,
                         format_stats({k: v for k, v in row.items() if k != "epoch"}))
                if main:
                    write_scalars(writer, "train", train_stats, epoch)
                    write_scalars(writer, "dev", dev_stats, epoch)
                    _save_epoch(ckpt_dir / f"epoch{epoch}.pt", model, optimizer, schedule, scaler,
                                state, options)
                    (ckpt_dir / INTERRUPTED).unlink(missing_ok=True)
                    if improved:
                        save_checkpoint(exp_dir / "best.pt", {
                            "model": model.state_dict(), "epoch": epoch,
                            "metric": {options.snapshot.dev_metric: metric}})
                        log.info("best %s %.4g at epoch %d: wrote %s", options.snapshot.dev_metric,
                                 metric, epoch, exp_dir / "best.pt")
                    if options.snapshot.plot:
                        plot_loss_curves(state.history, exp_dir / "loss.png")
                if epoch < options.loop.epochs and not all_ranks_true(not stop.requested,
                                                                      device=device)[0]:
                    raise preempted(stop, ckpt_dir / f"epoch{epoch}.pt", f"after epoch {epoch}")
            # 8. average the last N epoch checkpoints
            n = options.snapshot.n_average
            if main and n > 0 and state.epoch > 0:
                epochs = average_last(ckpt_dir, n, exp_dir / f"avg{n}.pt")
                log.info("wrote %s: mean of epochs %s", exp_dir / f"avg{n}.pt", epochs)
        finally:
            if writer is not None:
                writer.close()
        best = "" if state.best_metric is None else (
            f"; best {options.snapshot.dev_metric} {state.best_metric:.4g} at epoch {state.best_epoch}")
        log.info("done: %d epochs, %d updates, %d non-finite steps skipped%s",
                 state.epoch, state.step, state.bad_steps, best)
    return state


def train_one_epoch(wrapped: torch.nn.Module, params: Iterable[torch.Tensor], loader: Iterable[dict],
                    optimizer: torch.optim.Optimizer, schedule: LRSchedule,
                    scaler: torch.amp.GradScaler | None, state: TrainState, loop: LoopOptions, *,
                    device: torch.device, amp: str, epoch: int, writer=None,
                    main: bool = True, stop: StopSignal | None = None) -> dict[str, float]:
    """One pass over ``loader``; updates ``state`` in place; returns the epoch's mean stats.

    Raises :class:`Interrupted` after the batch during which any rank caught ``stop``'s signal.
    """
    params = [p for p in params if p.requires_grad]
    wrapped.train()
    epoch_meter, interval_meter = Meter(), Meter()
    batches = progress(loader, desc=f"epoch {epoch}", enabled=progress_enabled(main))
    for done, batch in enumerate(batches, 1):
        batch = to_device(batch, device)
        # 1. forward
        with autocast(device, amp):
            loss, stats = wrapped(batch)
        # 2. backward, also for a non-finite loss (every DDP rank must run the same all-reduces)
        optimizer.zero_grad(set_to_none=True)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        # 3. gradient norm (before clipping) and clipping
        if scaler is not None:
            scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(
            params, loop.grad_clip if loop.grad_clip > 0 else math.inf)
        # 4. decisions every rank shares: finite loss and gradient, no stop signal anywhere
        loss_ok, grad_ok, go_on = all_ranks_true(
            bool(torch.isfinite(loss)), bool(torch.isfinite(grad_norm)),
            stop is None or not stop.requested, device=device)
        if scaler is not None and loss_ok and not grad_ok:
            scaler.step(optimizer)  # fp16 overflow: the scaler skips the update, lowers its scale
            scaler.update()
            state.overflow_steps += 1
        elif not (loss_ok and grad_ok):
            # 5a. NaN/Inf guard: skip the update, count it, give up after max_bad_steps in a row
            _skip_step(optimizer, scaler, state, loop, epoch, batch, loss_ok, loss, grad_norm)
        else:
            # 5b. update the weights and the per-update schedule
            state.consecutive_bad_steps = 0
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            schedule.step_update()
            state.step += 1
            # 6. statistics and periodic logging
            stats = {"loss": loss.item(), **{k: float(v) for k, v in stats.items()},
                     "grad_norm": float(grad_norm)}
            weight = len(batch["utt_ids"]) if "utt_ids" in batch else 1
            epoch_meter.add(stats, weight)
            interval_meter.add(stats, weight)
            if state.step % loop.log_interval == 0:
                means = {**interval_meter.means(), "lr": optimizer.param_groups[0]["lr"]}
                log.info("epoch %d update %d: %s", epoch, state.step, format_stats(means))
                if main:
                    write_scalars(writer, "train_update", means, state.step)
                interval_meter = Meter()
        # 7. stop here when a rank caught SIGTERM/SIGUSR1
        if not go_on:
            raise Interrupted(done)
    return epoch_meter.means()


def _skip_step(optimizer, scaler, state: TrainState, loop: LoopOptions, epoch: int, batch: dict,
               loss_ok: bool, loss: torch.Tensor, grad_norm: torch.Tensor) -> None:
    """Drop the gradients of a non-finite step and count it; raise after too many in a row."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.update()
    state.bad_steps += 1
    state.consecutive_bad_steps += 1
    log.warning("epoch %d update %d: non-finite %s (loss %s, grad norm %s): step skipped "
                "(%d in a row, %d in total)", epoch, state.step + 1,
                "loss" if not loss_ok else "gradient", loss.item(), grad_norm.item(),
                state.consecutive_bad_steps, state.bad_steps)
    if state.consecutive_bad_steps >= loop.max_bad_steps:
        raise TrainingError(
            f"{state.consecutive_bad_steps} consecutive steps with a non-finite loss or "
            f"gradient (epoch {epoch}, after update {state.step}; max_bad_steps "
            f"{loop.max_bad_steps}): lower --lr, set --grad-clip, or check the data of "
            f"utterances {batch.get('utt_ids', [])[:3]}")


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: Iterable[dict], *, device: torch.device,
             amp: str = "none", dev_metric_fn: DevMetricFn | None = None) -> dict[str, float]:
    """Mean dev statistics (weighted by utterances) plus those of ``dev_metric_fn``."""
    model.eval()
    meter = Meter()
    try:
        for batch in loader:
            batch = to_device(batch, device)
            with autocast(device, amp):
                loss, stats = model(batch)
            meter.add({"loss": loss.item(), **{k: float(v) for k, v in stats.items()}},
                      len(batch["utt_ids"]) if "utt_ids" in batch else 1)
        out = meter.means()
        if dev_metric_fn is not None:
            out.update({k: float(v) for k, v in dev_metric_fn(model, loader).items()})
    finally:
        model.train()
    return out


def to_device(batch: dict, device: torch.device) -> dict:
    """Move the tensors of a batch dict to ``device`` (lists such as utt_ids stay)."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()}


def _pick_metric(dev_stats: dict[str, float], name: str) -> float:
    if name not in dev_stats:
        raise ValueError(f"--dev-metric '{name}' is not among the dev statistics "
                         f"{', '.join(sorted(dev_stats))} (add it with dev_metric_fn)")
    return dev_stats[name]


@torch.no_grad()
def _draw_figures(model, dev_loader, figures_fn: FiguresFn, out_dir: Path, device) -> None:
    batch = next(iter(dev_loader), None)
    if batch is None:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    try:
        figures_fn(model, to_device(batch, device), out_dir)
    finally:
        model.train()


def _save_epoch(path: Path, model, optimizer, schedule: LRSchedule, scaler, state: TrainState,
                options: TrainOptions) -> None:
    save_checkpoint(path, {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "rng": rng_state(), "train_state": dataclasses.asdict(state),
        "options": dataclasses.asdict(options)})
