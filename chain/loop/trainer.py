"""Speech chain training (Algorithm 1): two models, each with its own optimiser, schedule
and dev metric, updated together from the combined loss of Eq. (5).

Experiment directory layout (``exp/chain_<name>``)::

    checkpoints/epoch<N>.pt   both models, optimisers, schedules, RNGs, counters
    checkpoints/interrupted.pt  the same within an epoch stopped by SIGTERM/SIGUSR1
                              (see chain.train.preempt), until that epoch ends
    asr/best.pt  asr/config.yaml   the ASR of the epoch with the lowest dev CER
    tts/best.pt  tts/config.yaml   the TTS of the epoch with the lowest dev mel L2
    train.log  loss.png  tensorboard/

``asr/`` and ``tts/`` are experiment dirs of their own (config.yaml copied from the
pretrained models), so ``asr_recog``, ``tts_decode`` and ``tts_eval`` read them like
those of stages 3 and 4.

Distributed (one process per device, started by torchrun or srun): each rank runs the
steps on its share of the batches and the gradients of both models are averaged over the
ranks before clipping (:func:`chain.train.device.average_gradients`: the steps also call
``greedy``, ``generate`` and ``encode``, which DistributedDataParallel would not follow).
Every rank evaluates the whole dev set and takes rank 0's statistics; only rank 0 writes files.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch

from chain.asr.dev_hooks import greedy_cer
from chain.loop.batches import ChainBatches
from chain.loop.steps import ChainOptions, chain_loss, paired_step, speech_only_step, text_only_step
from chain.train.checkpoint import (INTERRUPTED, resume_checkpoint, rng_state, save_checkpoint, seed_everything,
                                    set_rng_state)
from chain.train.device import (all_ranks_true, average_gradients, barrier, broadcast_object, check_same, is_main,
                                rank_world, select_device)
from chain.train.experiment import CONFIG
from chain.train.options import LoopOptions, OptimOptions, ScheduleOptions
from chain.train.plots import plot_loss_curves
from chain.train.preempt import Interrupted, StopSignal, preempted, resume_epoch
from chain.train.report import Meter, format_stats, make_writer, progress, progress_enabled, train_logging, write_scalars
from chain.train.schedule import build_schedule
from chain.train.trainer import TrainingError, evaluate, to_device

log = logging.getLogger(__name__)

MODELS = ("asr", "tts")
DEV_METRICS = {"asr": "cer", "tts": "mel_l2"}  # lower is better for both


@dataclass
class ModelOptions:
    """Optimiser and schedule of one of the two models."""

    optim: OptimOptions = field(default_factory=OptimOptions)
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)


@dataclass
class ChainState:
    """Counters saved in every checkpoint."""

    epoch: int = 0
    step: int = 0
    bad_steps: int = 0
    consecutive_bad_steps: int = 0
    dropped_asr: int = 0   # transcriptions dropped at the ASR's length cap (or empty)
    dropped_tts: int = 0   # generations dropped at the TTS's length cap
    best: dict = field(default_factory=lambda: {m: None for m in MODELS})
    best_epoch: dict = field(default_factory=lambda: {m: 0 for m in MODELS})
    history: list[dict] = field(default_factory=list)
    epoch_batches: int = 0  # updates of epoch ``epoch + 1`` done x ranks (non-zero in interrupted.pt only)


class ModelSlot:
    """One of the two models with its own optimiser and schedule."""

    def __init__(self, name: str, module: torch.nn.Module, opts: ModelOptions, epochs: int) -> None:
        o = opts.optim
        self.name, self.module = name, module
        self.optimizer = torch.optim.Adam(module.parameters(), lr=o.lr, betas=(o.adam_beta1, o.adam_beta2),
                                          eps=o.adam_eps, weight_decay=o.weight_decay)
        self.schedule = build_schedule(self.optimizer, opts.schedule, higher_is_better=False,
                                       epochs=epochs)

    def state(self) -> dict:
        return {"model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict()}

    def load(self, state: dict) -> None:
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])


def train_chain(asr: torch.nn.Module, tts: torch.nn.Module, batches: ChainBatches,
                dev_loader: Iterable[dict], *, tokenizer, chain: ChainOptions,
                asr_opts: ModelOptions, tts_opts: ModelOptions, loop: LoopOptions, exp_dir,
                asr_exp_dir, tts_exp_dir, resume: bool = False, tensorboard: bool = True,
                plot: bool = True) -> ChainState:
    """Run ``loop.epochs`` epochs of Algorithm 1 from the given (pretrained) models.

    ``dev_loader`` batches need feats, linear and tokens (the ASR's dev CER and the TTS's
    dev mel L2). ``asr_exp_dir``/``tts_exp_dir`` are the pretraining experiments whose
    config.yaml is copied next to the chain's best.pt of each model. SIGTERM or SIGUSR1
    stop it after the update in progress with ``checkpoints/interrupted.pt``, raising
    :class:`chain.train.preempt.Preempted`.
    """
    exp_dir, main = Path(exp_dir), is_main()
    ckpt_dir = exp_dir / "checkpoints"
    world = rank_world()[1]
    device = select_device(loop.ngpu)
    with train_logging(exp_dir / "train.log", enabled=main), StopSignal() as stop:
        for name, source in (("asr", asr_exp_dir), ("tts", tts_exp_dir)) if main else ():
            (exp_dir / name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(source) / CONFIG, exp_dir / name / CONFIG)
        models = {"asr": ModelSlot("asr", asr.to(device), asr_opts, loop.epochs),
                  "tts": ModelSlot("tts", tts.to(device), tts_opts, loop.epochs)}
        state = ChainState()
        found = resume_checkpoint(ckpt_dir) if resume else None
        if found is not None:
            path, ckpt = found
            for name, m in models.items():
                m.load(ckpt[name])
            state = ChainState(**ckpt["train_state"])
            set_rng_state(ckpt["rng"])
            log.info("resumed from %s (epoch %d and %d updates x ranks of the next, %d updates)", path,
                     state.epoch, state.epoch_batches, state.step)
        else:
            seed_everything(loop.seed)
        check_same((state.epoch, state.epoch_batches, state.step), "the resume point (epoch, batches, updates)")
        log.info("speech chain: %s; %d updates per epoch on each of %d process%s; ratio %s; options %s",
                 ", ".join(f"{n} {sum(p.numel() for p in m.module.parameters()) / 1e6:.2f}M"
                           for n, m in models.items()),
                 len(batches), world, "es" if world > 1 else "", batches.ratio, dataclasses.asdict(chain))
        writer = make_writer(exp_dir / "tensorboard", main and tensorboard)
        try:
            for epoch in range(state.epoch + 1, loop.epochs + 1):
                start = time.time()
                groups, skipped = batches.epoch(epoch), 0
                if state.epoch_batches:  # the rest of an interrupted epoch
                    groups, skipped = resume_epoch(groups, state.epoch_batches, world, ckpt["rng"])
                    state.epoch_batches = 0
                try:
                    train_stats = _train_epoch(models, groups, chain, loop, state, epoch, device,
                                               writer if main else None, total=len(batches), stop=stop)
                except Interrupted as interrupted:
                    state.epoch_batches = (skipped + interrupted.batches) * world
                    if main:
                        _save(ckpt_dir / INTERRUPTED, models, state, chain, loop)
                    barrier()
                    raise preempted(stop, ckpt_dir / INTERRUPTED, f"after {skipped + interrupted.batches} of "
                                    f"{len(batches)} updates of epoch {epoch}") from None
                dev_stats = broadcast_object(_dev_stats(models, dev_loader, tokenizer, device))
                state.epoch = epoch
                row = {"epoch": epoch, "seconds": round(time.time() - start, 2),
                       **{f"train/{k}": v for k, v in train_stats.items()},
                       **{f"dev/{k}": v for k, v in dev_stats.items()}}
                for name, m in models.items():
                    metric = dev_stats[f"{name}_{DEV_METRICS[name]}"]
                    m.schedule.step_epoch(metric)
                    row[f"{name}_lr"] = m.optimizer.param_groups[0]["lr"]
                    improved = math.isfinite(metric) and (state.best[name] is None or metric < state.best[name])
                    if improved:
                        state.best[name], state.best_epoch[name] = metric, epoch
                    if improved and main:
                        save_checkpoint(exp_dir / name / "best.pt", {
                            "model": m.module.state_dict(), "epoch": epoch,
                            "metric": {DEV_METRICS[name]: metric}})
                        log.info("best %s dev %s %.4g at epoch %d: wrote %s", name, DEV_METRICS[name],
                                 metric, epoch, exp_dir / name / "best.pt")
                state.history.append(row)
                log.info("epoch %d: %s", epoch, format_stats({k: v for k, v in row.items() if k != "epoch"}))
                if main:
                    write_scalars(writer, "train", train_stats, epoch)
                    write_scalars(writer, "dev", dev_stats, epoch)
                    _save(ckpt_dir / f"epoch{epoch}.pt", models, state, chain, loop)
                    (ckpt_dir / INTERRUPTED).unlink(missing_ok=True)
                    if plot:
                        plot_loss_curves(state.history, exp_dir / "loss.png")
                if epoch < loop.epochs and not all_ranks_true(not stop.requested, device=device)[0]:
                    raise preempted(stop, ckpt_dir / f"epoch{epoch}.pt", f"after epoch {epoch}")
        finally:
            if writer is not None:
                writer.close()
        log.info("done: %d epochs, %d updates, %d non-finite steps skipped, %d transcriptions and "
                 "%d generations dropped at their length caps; best dev CER %s at epoch %d, best dev "
                 "mel L2 %s at epoch %d", state.epoch, state.step, state.bad_steps, state.dropped_asr,
                 state.dropped_tts, _fmt(state.best["asr"]), state.best_epoch["asr"],
                 _fmt(state.best["tts"]), state.best_epoch["tts"])
    return state


def _train_epoch(models: dict[str, ModelSlot], groups, chain: ChainOptions, loop: LoopOptions,
                 state: ChainState, epoch: int, device, writer, total: int,
                 stop: StopSignal | None = None) -> dict[str, float]:
    """One epoch of updates; each update runs the enabled steps of Algorithm 1 on its group.

    Raises :class:`Interrupted` after the update during which any rank caught ``stop``'s signal.
    """
    for m in models.values():
        m.module.train()
    epoch_meter, interval_meter = Meter(), Meter()
    for done, group in enumerate(progress(groups, desc=f"chain epoch {epoch}", enabled=progress_enabled(is_main())), 1):
        group = {name: [to_device(b, device) for b in batches] for name, batches in group.items()}
        loss, stats, norms = chain_forward_backward(models, group, chain, loop.grad_clip)
        state.dropped_asr += int(stats.get("dropped_asr", 0))
        state.dropped_tts += int(stats.get("dropped_tts", 0))
        finite = loss is None or bool(torch.isfinite(loss) and all(torch.isfinite(n) for n in norms.values()))
        finite, go_on = all_ranks_true(finite, stop is None or not stop.requested, device=device)
        if loss is None:
            pass  # every output of this group was dropped
        elif not finite:
            _skip(models, state, loop, epoch, float(loss.detach()))
        else:
            state.consecutive_bad_steps = 0
            for m in models.values():  # Eqs. (8)-(9)
                m.optimizer.step()
                m.schedule.step_update()
            state.step += 1
            stats = {"loss": float(loss.detach()), **stats, **{f"{n}_grad_norm": float(v) for n, v in norms.items()}}
            epoch_meter.add(stats)
            interval_meter.add(stats)
            if state.step % loop.log_interval == 0:
                log.info("epoch %d batch %d/%d (update %d): %s", epoch, done, total, state.step,
                         format_stats(interval_meter.means()))
                write_scalars(writer, "train_update", interval_meter.means(), state.step)
                interval_meter = Meter()
        if not go_on:
            raise Interrupted(done)
    return epoch_meter.means()


def chain_forward_backward(models: dict[str, ModelSlot], group: dict[str, list[dict]], chain: ChainOptions,
                           grad_clip: float) -> tuple[torch.Tensor | None, dict[str, float], dict[str, torch.Tensor]]:
    """The losses of one update's batches (Eq. 5), their gradients (Eqs. 6-7), clipped per model.

    Returns ``(loss or None when every output was dropped, summed step stats, gradient norm
    before clipping of each model)``; the caller steps the optimisers. In a distributed run
    the gradients are averaged over the ranks before clipping, and the loss is None only when
    every output of every rank was dropped (a rank whose own outputs were all dropped returns
    a zero loss and the averaged gradients).
    """
    asr, tts = models["asr"].module, models["tts"].module
    stats: dict[str, float] = {}
    paired, unpaired = [], []
    for batch in group.get("paired", []):
        loss_asr, loss_tts, s = paired_step(asr, tts, batch, chain)
        paired += [loss_asr, loss_tts]
        _accumulate(stats, s)
    for batch in group.get("speech", []):
        loss, s = speech_only_step(asr, tts, batch, chain)
        unpaired.append(loss)
        _accumulate(stats, s)
    for batch in group.get("text", []):
        loss, s = text_only_step(asr, tts, batch, chain)
        unpaired.append(loss)
        _accumulate(stats, s)
    loss = chain_loss(paired, unpaired, chain)  # Eq. (5)
    for m in models.values():
        m.optimizer.zero_grad(set_to_none=True)
    if loss is not None:
        loss.backward()  # Eqs. (6)-(7)
    params = [p for m in models.values() for p in m.module.parameters()]
    average_gradients(params)
    if loss is None:
        if all(p.grad is None for p in params):
            return None, stats, {}
        loss = torch.zeros((), device=params[0].device)
    norms = {m.name: torch.nn.utils.clip_grad_norm_(m.module.parameters(), grad_clip if grad_clip > 0 else math.inf)
             for m in models.values()}
    return loss, stats, norms


def _save(path: Path, models: dict[str, ModelSlot], state: ChainState, chain: ChainOptions, loop: LoopOptions) -> None:
    save_checkpoint(path, {
        **{name: m.state() for name, m in models.items()}, "rng": rng_state(), "train_state": dataclasses.asdict(state),
        "options": {"chain": dataclasses.asdict(chain), "loop": dataclasses.asdict(loop)}})


def _accumulate(stats: dict[str, float], new: dict[str, float]) -> None:
    for key, value in new.items():
        stats[key] = stats.get(key, 0.0) + value


def _skip(models, state: ChainState, loop: LoopOptions, epoch: int, loss: float) -> None:
    for m in models.values():
        m.optimizer.zero_grad(set_to_none=True)
    state.bad_steps += 1
    state.consecutive_bad_steps += 1
    log.warning("epoch %d update %d: non-finite loss or gradient (loss %s): step skipped (%d in a row)",
                epoch, state.step + 1, loss, state.consecutive_bad_steps)
    if state.consecutive_bad_steps >= loop.max_bad_steps:
        raise TrainingError(f"{state.consecutive_bad_steps} consecutive non-finite chain steps (epoch "
                            f"{epoch}): lower the learning rates or set --grad-clip")


def _dev_stats(models: dict[str, ModelSlot], dev_loader, tokenizer, device) -> dict[str, float]:
    """ASR: dev loss and CER of greedy decoding; TTS: dev loss and teacher-forced mel L2."""
    asr = evaluate(models["asr"].module, dev_loader, device=device,
                   dev_metric_fn=lambda model, loader: {"cer": greedy_cer(model, loader, tokenizer)})
    tts = evaluate(models["tts"].module, dev_loader, device=device)
    return {**{f"asr_{k}": v for k, v in asr.items()}, **{f"tts_{k}": v for k, v in tts.items()}}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
