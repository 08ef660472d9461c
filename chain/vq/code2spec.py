"""Multi-scale codebook-to-spectrogram inverter (section 3 and 4.4.2 of the ZeroSpeech 2019
VQ-VAE paper, Fig. 2 and 3).

Each unit vector ``e[t]`` (a VQ-VAE code, or a K-Means centroid) is copied ``r`` times
(``r = T_s / T_z``, the encoder's stride) to the frame rate; four multi-scale layers
(parallel kernels 1, 3, 5, 7 along time, concatenated) and further stride-1 convolutions,
each with BatchNorm + LeakyReLU, lead to a last convolution that predicts the target voice's
linear spectrogram frame by frame (Eq. (5)), trained with Eq. (6) (+ Eq. (7) with the
discriminator of :mod:`chain.vq.discriminator`). Here the targets are the recipe's
CMVN-normalised log linear magnitudes (``n_fft / 2 + 1`` bins; the paper's 1025 with
``n_fft`` 2048), which Griffin-Lim turns back into a waveform.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from chain.nets.conv1d import MultiScaleConv1d, conv_bn_lrelu


class Code2Spec(nn.Module):
    """Units ``(B, T_z, unit_dim)`` at ``stride`` frames each -> spectrogram ``(B, T_s, out_dim)``."""

    def __init__(self, *,
                 # structure
                 unit_dim: int, out_dim: int, stride: int, channels: int = 256,
                 kernel_sizes: Sequence[int] = (1, 3, 5, 7), multiscale_layers: int = 4,
                 conv_layers: int = 2, kernel_size: int = 5) -> None:
        super().__init__()
        if stride < 1 or multiscale_layers < 1 or conv_layers < 0:
            raise ValueError(f"Code2Spec needs stride >= 1, multiscale_layers >= 1, conv_layers >= 0: "
                             f"got {stride}, {multiscale_layers}, {conv_layers}")
        self.stride = stride
        self.multiscale = nn.Sequential(*[
            MultiScaleConv1d(unit_dim if k == 0 else channels, channels, kernel_sizes)
            for k in range(multiscale_layers)])
        self.convs = nn.Sequential(*[conv_bn_lrelu(channels, channels, kernel_size) for _ in range(conv_layers)])
        self.out = nn.Conv1d(channels, out_dim, 1)  # last layer: no BatchNorm, no activation

    def upsample(self, units: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[e1, e2, ..] -> [e1 x r, e2 x r, ..]`` cut or zero-padded to ``num_frames``: ``(B, T_s, D)``."""
        x = units.repeat_interleave(self.stride, dim=1)[:, :num_frames]
        return nn.functional.pad(x, (0, 0, 0, num_frames - x.shape[1]))

    def forward(self, units: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Eq. (5): ``units (B, T_z, D)`` -> ``M_hat (B, num_frames, out_dim)``."""
        x = self.upsample(units, num_frames).transpose(1, 2)  # (B, D, T_s)
        return self.out(self.convs(self.multiscale(x))).transpose(1, 2)  # (B, T_s, out_dim)
