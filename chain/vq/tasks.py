"""Training tasks of the ZeroSpeech 2019 recipe on the one engine (chain.train.engine).

The VQ-VAE is a one-model task (:func:`chain.train.trainer.train`) whose dev statistics add
the codebook usage of :func:`codebook_dev_stats`. The Code2Spec inverter and its
discriminator are one task with two slots (:class:`Code2SpecTask`): one forward pass gives
``alpha * L_MSE + beta * L_G`` (Eq. (6), (7)), whose gradient reaches the inverter only,
plus ``L_D`` (Eq. (8)), whose gradient reaches the discriminator only, so the engine's one
backward pass and the two optimisers' steps are the updates of Eq. (9) and (10) (both from
the same batch, simultaneously).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch.func import functional_call

from chain.nets.masks import make_pad_mask
from chain.nets.vector_quantizer import code_usage, perplexity
from chain.train.engine import ModelOptions, ModelSlot, Task
from chain.train.options import TrainOptions
from chain.vq.code2spec import Code2Spec
from chain.vq.discriminator import GAN_TYPES, SpectrogramDiscriminator, discriminator_loss, generator_loss
from chain.vq.vqvae import VQVAE

log = logging.getLogger(__name__)


@torch.no_grad()
def codebook_dev_stats(model: VQVAE, loader: Iterable[dict], collapse_fraction: float = 0.1) -> dict[str, float]:
    """Codes used over the dev set, their share of the codebook and the perplexity; warns of a
    collapse when fewer than ``collapse_fraction`` of the codes (and at most 2) are in use."""
    device = next(model.parameters()).device
    counts = torch.zeros(model.num_codes, dtype=torch.int64, device=device)
    for batch in loader:
        q, code_lengths = model.encode(batch["feats"].to(device), batch["feat_lengths"].to(device))
        counts += code_usage(q.indices, model.num_codes, ~make_pad_mask(code_lengths, q.indices.shape[1]))
    used = int((counts > 0).sum())
    if used <= max(2, collapse_fraction * model.num_codes):
        log.warning("codebook collapse: %d of %d codes used on the dev set (perplexity %.1f); try a "
                    "lower learning rate or a smaller codebook", used, model.num_codes, perplexity(counts))
    return {"codebook_used": float(used), "codebook_usage": used / model.num_codes,
            "codebook_perplexity": perplexity(counts)}


@dataclass
class GanOptions:
    """Adversarial part of the Code2Spec objective."""

    gan_type: str = "lsgan"     # lsgan (Eq. (7), (8) second lines) or wgan (first lines), or none
    mse_weight: float = 1.0     # alpha of Eq. (9)
    adv_weight: float = 1.0     # beta of Eq. (9) (the paper: 1 with LSGAN)
    wgan_clip: float = 0.01     # WGAN: discriminator weights clipped to [-c, c] before each update
    disc_lr: float = 1e-4       # the discriminator's Adam learning rate


class Code2SpecTask(Task):
    """Slots ``generator`` (:class:`Code2Spec`, ``best.pt`` by dev ``mse``) and
    ``discriminator`` (absent with ``gan_type`` none); batches of units + linear targets."""

    def __init__(self, generator: Code2Spec, discriminator: SpectrogramDiscriminator | None,
                 train_loader_factory: Callable[[int], Iterable[dict]], dev_loader: Iterable[dict],
                 options: TrainOptions, gan: GanOptions, exp_dir: Path) -> None:
        if gan.gan_type not in GAN_TYPES + ("none",):
            raise ValueError(f"--gan-type must be one of {', '.join(GAN_TYPES + ('none',))}: got '{gan.gan_type}'")
        epochs = options.loop.epochs
        self.slots = {"generator": ModelSlot("generator", generator, ModelOptions(options.optim, options.schedule),
                                             epochs, dev_metric="mse", best_path=Path(exp_dir) / "best.pt",
                                             init=options.start)}
        if gan.gan_type != "none":
            if discriminator is None:
                raise ValueError(f"--gan-type {gan.gan_type} needs a discriminator")
            disc_optim = dataclasses.replace(options.optim, lr=gan.disc_lr)
            self.slots["discriminator"] = ModelSlot("discriminator", discriminator,
                                                    ModelOptions(disc_optim, options.schedule), epochs)
        self.gan, self.train_loader_factory, self.dev_loader = gan, train_loader_factory, dev_loader
        self._options, self._len = options, None

    def batches(self, epoch: int):
        loader = self.train_loader_factory(epoch)
        self._len = len(loader)
        return loader

    def num_batches(self):
        return self._len

    def _mse(self, batch: dict, generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Eq. (6) over valid frames and bins: ``(mse, M_hat (B, T, F), mask (B, T))``."""
        target = batch["linear"]
        fake = generator(batch["units"], target.shape[1])
        mask = ~make_pad_mask(batch["linear_lengths"], target.shape[1])
        w = mask.unsqueeze(-1).to(fake.dtype)
        return ((fake - target).pow(2) * w).sum() / (w.sum() * target.shape[2]).clamp_min(1.0), fake, mask

    def step(self, batch: dict):
        gan = self.gan
        mse, fake, mask = self._mse(batch, self.slots["generator"].wrapped)
        if gan.gan_type == "none":
            return mse, {"mse": mse.item()}
        disc = self.slots["discriminator"].module
        if gan.gan_type == "wgan":
            with torch.no_grad():
                for p in disc.parameters():
                    p.clamp_(-gan.wgan_clip, gan.wgan_clip)
        # Eq. (7) through a copy of D's weights that takes no gradient: L_G trains the inverter only
        frozen = {name: p.detach() for name, p in disc.named_parameters()}
        loss_g = generator_loss(functional_call(disc, frozen, (fake,)), mask, gan.gan_type)
        # Eq. (8) on a detached M_hat: L_D trains the discriminator only
        loss_d = discriminator_loss(disc(fake.detach()), disc(batch["linear"]), mask, gan.gan_type)
        loss = gan.mse_weight * mse + gan.adv_weight * loss_g + loss_d
        return loss, {"mse": mse.item(), "loss_g": loss_g.item(), "loss_d": loss_d.item()}

    @torch.no_grad()
    def evaluate(self, device, amp):
        total, frames = 0.0, 0.0
        for batch in self.dev_loader:
            batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            mse, _, mask = self._mse(batch, self.slots["generator"].module)
            n = float(mask.sum())
            total, frames = total + mse.item() * n, frames + n
        return {"mse": total / max(frames, 1.0)}

    def describe(self) -> str:
        return f"gan {vars(self.gan)}"

    def options(self) -> dict:
        return {"gan": vars(self.gan)}
