"""Training of one model (the ASR of stage 3, the TTS of stage 4): a task of the engine.

Models follow the convention ``loss, stats = model(batch)`` (stats: dict of floats).
:func:`train` runs them through :func:`chain.train.engine.fit`, which writes the
experiment dir (``checkpoints/epoch<N>.pt``, ``best.pt``, ``avg<N>.pt``, ``train.log``,
``loss.png``, ``tensorboard/``, ``figures/epoch<N>/``); the model is wrapped in
DistributedDataParallel when distributed.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterable

import torch

from chain.train.device import autocast
from chain.train.engine import ModelOptions, ModelSlot, Task, TrainingError, TrainState, fit, to_device
from chain.train.options import TrainOptions
from chain.train.report import Meter

__all__ = ["TrainingError", "TrainState", "evaluate", "to_device", "train"]

DevMetricFn = Callable[[torch.nn.Module, Iterable[dict]], dict[str, float]]
FiguresFn = Callable[[torch.nn.Module, dict, Path], None]


class ModelTask(Task):
    """One model, its training batches and dev set, optional dev metric and figure hooks."""

    def __init__(self, model: torch.nn.Module, train_loader_factory: Callable[[int], Iterable[dict]],
                 dev_loader: Iterable[dict] | None, options: TrainOptions, exp_dir: Path, *,
                 dev_metric_fn: DevMetricFn | None = None, figures_fn: FiguresFn | None = None) -> None:
        snap = options.snapshot
        self.slots = {"model": ModelSlot(
            "model", model, ModelOptions(options.optim, options.schedule), options.loop.epochs,
            dev_metric=snap.dev_metric, higher_is_better=snap.higher_is_better,
            best_path=exp_dir / "best.pt", ckpt_key=None, init=options.start, ddp=True)}
        self.train_loader_factory, self.dev_loader = train_loader_factory, dev_loader
        self.has_dev = dev_loader is not None
        self.dev_metric_fn, self.figures_fn, self._options = dev_metric_fn, figures_fn, options
        self._len: int | None = None

    def batches(self, epoch: int) -> Iterable[dict]:
        loader = self.train_loader_factory(epoch)
        self._len = len(loader) if hasattr(loader, "__len__") else None
        return loader

    def num_batches(self) -> int | None:
        return self._len

    def step(self, batch: dict):
        return self.slots["model"].wrapped(batch)

    def evaluate(self, device, amp):
        return evaluate(self.slots["model"].module, self.dev_loader, device=device, amp=amp,
                        dev_metric_fn=self.dev_metric_fn)

    def figures(self, out_dir: Path, device) -> None:
        batch = next(iter(self.dev_loader), None)
        if self.figures_fn is None or batch is None:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        self.figures_fn(self.slots["model"].module, to_device(batch, device), out_dir)

    def describe(self) -> str:
        return f"options {dataclasses.asdict(self._options)}"

    def options(self) -> dict:
        return dataclasses.asdict(self._options)


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
    exp_dir = Path(exp_dir)
    task = ModelTask(model, train_loader_factory, dev_loader, options, exp_dir,
                     dev_metric_fn=dev_metric_fn, figures_fn=figures_fn)
    snap = options.snapshot
    return fit(task, options.loop, exp_dir, resume=options.start.resume, n_average=snap.n_average,
               tensorboard=snap.tensorboard, plot=snap.plot)


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
