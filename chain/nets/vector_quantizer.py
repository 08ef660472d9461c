"""Nearest-codebook quantisation with the straight-through gradient (VQ-VAE).

Section 2 of the ZeroSpeech 2019 VQ-VAE paper: Eq. (1) picks the codebook vector closest
(L2) to the encoder output, Eq. (2) takes it as the latent, Eq. (3) adds the codebook loss
``||sg(z) - e||^2`` (moves the codebook) and the commitment loss ``||z - sg(e)||^2``
(scaled by gamma by the caller; moves the encoder), with ``sg`` the stop-gradient of
Eq. (4). The decoder sees ``z + sg(e - z)``: the value of ``e``, the gradient of ``z``.
Two guards against codebook collapse, not in the paper: with ``init="data"`` the first
training batch's encoder outputs become the codebook, so that every code starts near some
output; with ``restart_threshold`` > 0, a code whose running share of the training frames
(exponential average, decay ``usage_decay``) falls below ``restart_threshold / K`` is moved
to a random encoder output of the current batch.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


CODEBOOK_INITS = ("data", "uniform")


class Quantized(NamedTuple):
    latent: torch.Tensor      # (B, T, D): e_c forward, gradient passed straight to z
    indices: torch.Tensor     # (B, T) int64: c of Eq. (1)
    codebook_loss: torch.Tensor    # ||sg(z) - e_c||^2, mean over valid frames
    commitment_loss: torch.Tensor  # ||z - sg(e_c)||^2, mean over valid frames


class VectorQuantizer(nn.Module):
    """Codebook ``E (K, D)`` of Eq. (1)-(4) of the ZeroSpeech 2019 VQ-VAE paper."""

    def __init__(self, *, num_codes: int, code_dim: int, init: str = "data", restart_threshold: float = 0.0,
                 usage_decay: float = 0.95) -> None:
        super().__init__()
        if num_codes < 2 or code_dim < 1:
            raise ValueError(f"VectorQuantizer needs num_codes >= 2 and code_dim >= 1: "
                             f"got {num_codes} and {code_dim}")
        if init not in CODEBOOK_INITS:
            raise ValueError(f"codebook init must be one of {', '.join(CODEBOOK_INITS)}: got '{init}'")
        self.codebook = nn.Embedding(num_codes, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / num_codes, 1.0 / num_codes)
        # init "data": the first training batch's encoder outputs replace the uniform codebook
        # (codes far from every output are never picked, a common cause of codebook collapse)
        self.register_buffer("initialised", torch.tensor(init != "data"))
        self.restart_threshold, self.usage_decay = restart_threshold, usage_decay
        self.register_buffer("usage", torch.full((num_codes,), 1.0 / num_codes))  # running share of frames

    @torch.no_grad()
    def _init_from(self, z: torch.Tensor) -> None:
        """Codebook vectors drawn from the valid encoder outputs ``z (N, D)``."""
        pick = torch.randint(len(z), (self.num_codes,), device=z.device) if len(z) < self.num_codes \
            else torch.randperm(len(z), device=z.device)[:self.num_codes]
        self.codebook.weight.copy_(z[pick])
        self.initialised.fill_(True)

    @torch.no_grad()
    def _restart_dead(self, z: torch.Tensor) -> None:
        """Move the codes used less than ``restart_threshold / K`` to random outputs of ``z (N, D)``."""
        dead = (self.usage < self.restart_threshold / self.num_codes).nonzero().squeeze(1)
        if len(dead) and len(z):
            self.codebook.weight[dead] = z[torch.randint(len(z), (len(dead),), device=z.device)]
            self.usage[dead] = 1.0 / self.num_codes

    @property
    def num_codes(self) -> int:
        return self.codebook.num_embeddings

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Eq. (1): index of the closest codebook vector, ``(..., D) -> (...)``."""
        e = self.codebook.weight  # (K, D)
        dist = z.pow(2).sum(-1, keepdim=True) - 2 * z @ e.t() + e.pow(2).sum(-1)  # (..., K)
        return dist.argmin(-1)

    def forward(self, z: torch.Tensor, mask: torch.Tensor | None = None) -> Quantized:
        """z ``(B, T, D)``, mask ``(B, T)`` bool (True: a valid frame) -> :class:`Quantized`."""
        if mask is None:
            mask = torch.ones(z.shape[:2], dtype=torch.bool, device=z.device)
        if self.training and not bool(self.initialised):
            self._init_from(z.detach()[mask])
        if self.training and self.restart_threshold > 0:
            self._restart_dead(z.detach()[mask])
        indices = self.nearest(z.detach())  # (B, T)
        if self.training:
            with torch.no_grad():
                share = code_usage(indices, self.num_codes, mask).to(self.usage.dtype)
                self.usage.mul_(self.usage_decay).add_(share / share.sum().clamp_min(1), alpha=1 - self.usage_decay)
        e = self.codebook(indices)  # (B, T, D), Eq. (2)
        per_frame = lambda a, b: (a - b).pow(2).sum(-1)  # noqa: E731  (B, T)
        codebook = per_frame(z.detach(), e)
        commitment = per_frame(z, e.detach())
        weight = mask.to(z.dtype)
        count = weight.sum().clamp_min(1.0)
        latent = z + (e - z).detach()  # straight-through: value e, gradient to z
        return Quantized(latent, indices, (codebook * weight).sum() / count, (commitment * weight).sum() / count)


def code_usage(indices: torch.Tensor, num_codes: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Counts ``(K,)`` of each code among the valid entries of ``indices``."""
    flat = indices[mask] if mask is not None else indices.reshape(-1)
    return torch.bincount(flat.reshape(-1), minlength=num_codes)


def perplexity(counts: torch.Tensor) -> float:
    """``exp(entropy)`` of the code distribution given by ``counts``: 1 when one code is used,
    K when all K are used equally."""
    p = counts.double() / counts.sum().clamp_min(1)
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))
