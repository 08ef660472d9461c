"""Straight-through one-hot token inputs (section V-B of the machine speech chain paper).

The ASR's output distributions become one-hot vectors in the forward pass (Eqs. 28-29,
36-37), while the backward pass treats the discretisation as the identity (Eq. 30), so a
TTS loss computed on those inputs reaches the ASR parameters (Eqs. 31-32).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

ST_MODES = ("none", "argmax", "gumbel")


def st_argmax(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """ST-argmax (V-B1): forward ``onehot(argmax p)``, backward through ``p = softmax(logits / tau)``.

    logits (..., V) -> (..., V), one-hot in value, differentiable w.r.t. ``logits``.
    """
    probs = F.softmax(logits / tau, dim=-1)
    hard = F.one_hot(probs.argmax(-1), probs.size(-1)).to(probs.dtype)
    return hard + probs - probs.detach()


def st_gumbel(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """ST-Gumbel-softmax (V-B2): the argmax of ``(logits + g) / tau`` with g ~ Gumbel(0, 1)
    (Eqs. 33-37), backward through the Gumbel-softmax probabilities (Eq. 30)."""
    return F.gumbel_softmax(logits, tau=tau, hard=True, dim=-1)


def straight_through(logits: torch.Tensor, mode: str, tau: float = 1.0) -> torch.Tensor:
    """One-hot token inputs of ``mode`` argmax or gumbel at temperature ``tau``."""
    if tau <= 0:
        raise ValueError(f"the straight-through temperature must be > 0: got {tau}")
    if mode == "argmax":
        return st_argmax(logits, tau)
    if mode == "gumbel":
        return st_gumbel(logits, tau)
    raise ValueError(f"straight-through mode must be argmax or gumbel: got {mode!r}")
