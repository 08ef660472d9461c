"""Prenet: a stack of fully connected layers with LeakyReLU and dropout.

Tacotron uses one on the character embeddings (the encoder's "FC layers + non-linear
activation") and one on the previous mel frame of the decoder (section III-C of the
machine speech chain paper, Fig. 4). The paper replaces Tacotron's ReLU with LeakyReLU.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class Prenet(nn.Module):
    """FC -> LeakyReLU -> Dropout, once per entry of ``sizes``.

    Dropout follows the module's training mode (off under ``eval()``), so generation
    in eval mode is deterministic.
    """

    def __init__(
        self,
        *,
        # structure
        in_dim: int,
        sizes: Sequence[int] = (256, 128),
        leaky_slope: float = 0.01,
        # training
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if not sizes:
            raise ValueError("Prenet sizes must name at least one layer width: got an empty list")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Prenet dropout must be in [0, 1): got {dropout}")
        dims = [in_dim, *sizes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.act = nn.LeakyReLU(leaky_slope)
        self.dropout = nn.Dropout(dropout)
        self.out_dim = dims[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., in_dim) -> (..., sizes[-1]); acts on the last axis only."""
        for layer in self.layers:
            x = self.dropout(self.act(layer(x)))
        return x
