"""Padding masks and length-aware sequence helpers shared by the models.

Batches are padded at the end of the time axis: item b is valid on ``[0, lengths[b])``.
Two mask conventions exist and are named by what is True:
``make_pad_mask`` (True on padding, for ``masked_fill``) and
``make_non_pad_mask`` (True on valid positions, the convention of the attention layers).
"""
from __future__ import annotations

import torch


def make_pad_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """lengths (B,) int -> mask (B, T) bool, True on padded positions.

    T is ``max_len`` when given (it must be at least ``lengths.max()``), else ``lengths.max()``.
    """
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be a 1-D tensor (B,): got shape {tuple(lengths.shape)}")
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_len is None:
        max_len = longest
    elif max_len < longest:
        raise ValueError(f"max_len={max_len} is shorter than the longest length {longest}: "
                         "pass max_len >= lengths.max() or leave it out")
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] >= lengths[:, None]  # (B, T)


def make_non_pad_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """lengths (B,) int -> mask (B, T) bool, True on valid positions (see ``make_pad_mask``)."""
    return ~make_pad_mask(lengths, max_len)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of x (B, T, ...) within its own length; padding stays in place.

    Used to run the backward direction of a bidirectional RNN over padded input: the
    reversed sequence starts with its last valid frame, so padding is read last and
    never changes the outputs of valid positions. Applying it twice gives back x.
    """
    steps = torch.arange(x.size(1), device=x.device)[None, :]  # (1, T)
    last = lengths.to(x.device)[:, None] - 1  # (B, 1)
    index = torch.where(steps <= last, last - steps, steps)  # (B, T)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)  # (B, T, ...)
    return x.gather(1, index)


def subsample_lengths(lengths: torch.Tensor, factor: int) -> torch.Tensor:
    """Lengths (B,) after keeping frames 0, f, 2f, ... (f = ``factor``): ceil(len / f)."""
    return torch.div(lengths + factor - 1, factor, rounding_mode="floor")
