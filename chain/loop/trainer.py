"""Speech chain training (Algorithm 1): a task of the engine with two models, each with its
own optimiser, schedule and dev metric, updated together from the combined loss of Eq. (5).

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

Distributed: the gradients of both models are averaged over the ranks by hand (the steps
also call ``greedy``, ``generate`` and ``encode``, which DistributedDataParallel would not
follow; see chain.train.engine).
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Iterable

import torch

from chain.asr.dev_hooks import greedy_cer
from chain.loop.batches import ChainBatches
from chain.loop.speakers import SpeakerPool
from chain.loop.steps import ChainOptions, chain_loss, paired_step, speech_only_step, text_only_step
from chain.train.device import is_main
from chain.train.engine import ModelOptions, ModelSlot, Task, TrainState, backward, fit
from chain.train.experiment import CONFIG
from chain.train.options import LoopOptions
from chain.train.trainer import evaluate

__all__ = ["ChainTask", "ModelOptions", "ModelSlot", "chain_forward_backward", "train_chain"]

MODELS = ("asr", "tts")
DEV_METRICS = {"asr": "cer", "tts": "mel_l2"}  # lower is better for both


class ChainTask(Task):
    """Both models, the interleaved paired / speech-only / text-only batches, the dev set."""

    counters = {"dropped_asr": "transcriptions dropped at the ASR's length cap (or empty)",
                "dropped_tts": "generations dropped at the TTS's length cap"}

    def __init__(self, asr: torch.nn.Module, tts: torch.nn.Module, batches: ChainBatches,
                 dev_loader: Iterable[dict], *, tokenizer, chain: ChainOptions, asr_opts: ModelOptions,
                 tts_opts: ModelOptions, loop: LoopOptions, exp_dir: Path,
                 speakers: SpeakerPool | None = None) -> None:
        self.slots = {name: ModelSlot(name, module, opts, loop.epochs, dev_metric=f"{name}_{DEV_METRICS[name]}",
                                      best_path=exp_dir / name / "best.pt")
                      for name, module, opts in (("asr", asr, asr_opts), ("tts", tts, tts_opts))}
        self.chain_batches, self.dev_loader, self.tokenizer = batches, dev_loader, tokenizer
        self.chain, self.loop, self.speakers = chain, loop, speakers

    def batches(self, epoch: int):
        return self.chain_batches.epoch(epoch)

    def num_batches(self) -> int:
        return len(self.chain_batches)

    def step(self, group: dict[str, list[dict]]):
        return chain_losses(self.slots, group, self.chain, self.speakers)

    def evaluate(self, device, amp) -> dict[str, float]:
        """ASR: dev loss and CER of greedy decoding; TTS: dev loss and teacher-forced mel L2."""
        asr = evaluate(self.slots["asr"].module, self.dev_loader, device=device,
                       dev_metric_fn=lambda model, loader: {"cer": greedy_cer(model, loader, self.tokenizer)})
        tts = evaluate(self.slots["tts"].module, self.dev_loader, device=device)
        return {**{f"asr_{k}": v for k, v in asr.items()}, **{f"tts_{k}": v for k, v in tts.items()}}

    def describe(self) -> str:
        return (f"speech chain: {len(self.chain_batches)} updates per epoch on each process; ratio "
                f"{self.chain_batches.ratio}; options {dataclasses.asdict(self.chain)}")

    def options(self) -> dict:
        return {"chain": dataclasses.asdict(self.chain), "loop": dataclasses.asdict(self.loop)}


def train_chain(asr: torch.nn.Module, tts: torch.nn.Module, batches: ChainBatches,
                dev_loader: Iterable[dict], *, tokenizer, chain: ChainOptions,
                asr_opts: ModelOptions, tts_opts: ModelOptions, loop: LoopOptions, exp_dir,
                asr_exp_dir, tts_exp_dir, resume: bool = False, tensorboard: bool = True,
                plot: bool = True, speakers: SpeakerPool | None = None) -> TrainState:
    """Run ``loop.epochs`` epochs of Algorithm 1 from the given (pretrained) models.

    ``dev_loader`` batches need feats, linear and tokens (the ASR's dev CER and the TTS's
    dev mel L2). ``asr_exp_dir``/``tts_exp_dir`` are the pretraining experiments whose
    config.yaml is copied next to the chain's best.pt of each model. SIGTERM or SIGUSR1
    stop it after the update in progress with ``checkpoints/interrupted.pt``, raising
    :class:`chain.train.preempt.Preempted`. ``speakers``: the references of the text-only
    step of a multi-speaker TTS.
    """
    exp_dir = Path(exp_dir)
    if is_main():
        for name, source in (("asr", asr_exp_dir), ("tts", tts_exp_dir)):
            (exp_dir / name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(source) / CONFIG, exp_dir / name / CONFIG)
    task = ChainTask(asr, tts, batches, dev_loader, tokenizer=tokenizer, chain=chain, asr_opts=asr_opts,
                     tts_opts=tts_opts, loop=loop, exp_dir=exp_dir, speakers=speakers)
    return fit(task, loop, exp_dir, resume=resume, tensorboard=tensorboard, plot=plot)


def chain_losses(models: dict[str, ModelSlot], group: dict[str, list[dict]], chain: ChainOptions,
                 speakers: SpeakerPool | None = None) -> tuple[torch.Tensor | None, dict[str, float]]:
    """The loss of one update's batches, Eq. (5) (Eq. (18) with a multi-speaker TTS; None
    when every output was dropped), and the summed statistics of its steps."""
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
        loss, s = text_only_step(asr, tts, batch, chain, speakers)
        unpaired.append(loss)
        _accumulate(stats, s)
    return chain_loss(paired, unpaired, chain), stats


def chain_forward_backward(models: dict[str, ModelSlot], group: dict[str, list[dict]], chain: ChainOptions,
                           grad_clip: float, speakers: SpeakerPool | None = None
                           ) -> tuple[torch.Tensor | None, dict[str, float], dict[str, torch.Tensor]]:
    """The losses of one update's batches (Eq. 5), their gradients (Eqs. 6-7), clipped per model.

    Returns ``(loss or None when every output was dropped, summed step stats, gradient norm
    before clipping of each model)``; the caller steps the optimisers. In a distributed run
    the gradients are averaged over the ranks before clipping (see
    :func:`chain.train.engine.backward`).
    """
    loss, stats = chain_losses(models, group, chain, speakers)
    loss, norms = backward(models, loss, grad_clip)
    return loss, stats, norms


def _accumulate(stats: dict[str, float], new: dict[str, float]) -> None:
    for key, value in new.items():
        stats[key] = stats.get(key, 0.0) + value
