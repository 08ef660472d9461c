"""1-D convolution blocks of the VQ-VAE and the Code2Spec inverter (ZeroSpeech 2019 paper,
Fig. 3): convolution -> batch normalisation -> LeakyReLU, and the multi-scale layer whose
parallel kernels of several widths along time are concatenated on the channel axis."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def conv_bn_lrelu(in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                  transpose: bool = False, slope: float = 0.2) -> nn.Sequential:
    """Conv1d (or ConvTranspose1d, ``transpose``) -> BatchNorm1d -> LeakyReLU on ``(B, C, T)``.

    Odd kernels with stride 1 keep the length ("same" padding); stride ``s`` with kernel
    ``2 s`` divides (multiplies, ``transpose``) a length that is a multiple of ``s`` by ``s``.
    """
    if stride == 1:
        if kernel_size % 2 == 0:
            raise ValueError(f"a stride-1 convolution needs an odd kernel for 'same' padding: got {kernel_size}")
        padding = kernel_size // 2
    elif kernel_size == 2 * stride:
        padding = stride // 2
    else:
        raise ValueError(f"a stride-{stride} convolution needs kernel {2 * stride}: got {kernel_size}")
    conv = (nn.ConvTranspose1d if transpose else nn.Conv1d)(in_channels, out_channels, kernel_size,
                                                            stride=stride, padding=padding)
    return nn.Sequential(conv, nn.BatchNorm1d(out_channels), nn.LeakyReLU(slope))


class MultiScaleConv1d(nn.Module):
    """Parallel stride-1 convolutions with kernels ``kernel_sizes`` along time, each giving
    ``out_channels // len(kernel_sizes)`` channels, concatenated, then BatchNorm + LeakyReLU
    (the K:[1,3,5,7] layers of the Code2Spec inverter, Fig. 3 of the ZeroSpeech 2019 paper)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: Sequence[int] = (1, 3, 5, 7),
                 *, slope: float = 0.2) -> None:
        super().__init__()
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"kernel_sizes must be odd and positive: got {list(kernel_sizes)}")
        if out_channels % len(kernel_sizes):
            raise ValueError(f"out_channels ({out_channels}) must be a multiple of the number of "
                             f"kernels ({len(kernel_sizes)})")
        width = out_channels // len(kernel_sizes)
        self.convs = nn.ModuleList(nn.Conv1d(in_channels, width, k, padding=k // 2) for k in kernel_sizes)
        self.norm = nn.BatchNorm1d(out_channels)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, T) -> (B, C_out, T)``."""
        return self.act(self.norm(torch.cat([conv(x) for conv in self.convs], 1)))
