"""Guided attention loss: a diagonal prior that makes a Tacotron attention align early.

Tachibana, Uenoyama, Aihara, "Efficiently trainable text-to-speech system based on deep
convolutional networks with guided attention", ICASSP 2018, Eq. (2): an attention weight
A[t, n] (decoder step t of T, input position n of N) costs W[t, n] = 1 - exp(-(n/N - t/T)^2
/ (2 g^2)). Not part of the machine speech chain paper; off unless its weight is set.
"""
from __future__ import annotations

import torch

from chain.nets.masks import make_non_pad_mask


def check_guided_attention(weight: float, sigma: float) -> None:
    """ValueError unless ``weight`` >= 0 (0: the loss is off) and ``sigma`` > 0."""
    if weight < 0 or sigma <= 0:
        raise ValueError(f"guided_attn_weight must be >= 0 and guided_attn_sigma > 0: got {weight}, {sigma}")


def guided_attention_loss(attn: torch.Tensor, in_lengths: torch.Tensor, out_lengths: torch.Tensor,
                          sigma: float = 0.2) -> torch.Tensor:
    """Mean of W * A over the valid (step, position) cells of each utterance.

    attn (B, T_out, T_in) attention weights, in_lengths (B,) valid input positions,
    out_lengths (B,) valid decoder steps -> scalar.
    """
    steps = torch.arange(attn.size(1), device=attn.device, dtype=attn.dtype)
    positions = torch.arange(attn.size(2), device=attn.device, dtype=attn.dtype)
    t = steps[None, :, None] / out_lengths.to(attn.dtype)[:, None, None]  # (B, T_out, 1)
    n = positions[None, None, :] / in_lengths.to(attn.dtype)[:, None, None]  # (B, 1, T_in)
    weight = 1.0 - torch.exp(-((n - t) ** 2) / (2.0 * sigma ** 2))  # (B, T_out, T_in)
    valid = (make_non_pad_mask(out_lengths, attn.size(1))[:, :, None]
             & make_non_pad_mask(in_lengths, attn.size(2))[:, None, :])  # (B, T_out, T_in)
    return (attn * weight).masked_select(valid).sum() / valid.sum().clamp_min(1)
