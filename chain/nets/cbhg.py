"""CBHG: 1-D Convolution Bank + Highway network + bidirectional GRU.

The block of Tacotron used twice by the TTS of the machine speech chain paper
(section III-C, Fig. 4): on the character side (encoder, K = 8 banks, section III-D2)
and on the predicted mel spectrogram (post-net, predicting the linear spectrogram).
All sizes are arguments; the TTS builds its two instances.

Padding never changes the outputs of valid positions: padded frames are zeroed
before every convolution (so a valid frame sees exactly the zero padding it would
see alone), the max-pool looks one frame back instead of ahead, batch normalisation
takes its statistics over valid frames only, and the backward RNN reads each
sequence reversed within its own length (a gather by lengths) instead of reading the
padding first. Padded output frames are zero.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from chain.nets.masks import make_non_pad_mask, reverse_padded

RNN_TYPES = {"gru": nn.GRU, "lstm": nn.LSTM}


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d over (B, C, T) whose training statistics use valid frames only."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, T), mask (B, T) bool -> (B, C, T)."""
        if mask is None or not self.training:
            return super().forward(x)
        m = mask[:, None, :].to(x.dtype)  # (B, 1, T)
        count = m.sum().clamp_min(2.0)
        mean = (x * m).sum(dim=(0, 2)) / count  # (C,)
        var = (((x - mean[None, :, None]) * m) ** 2).sum(dim=(0, 2)) / count  # (C,)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(var.detach() * count / (count - 1), self.momentum)
        y = (x - mean[None, :, None]) * torch.rsqrt(var[None, :, None] + self.eps)
        return y * self.weight[None, :, None] + self.bias[None, :, None]


class ConvNorm(nn.Module):
    """Conv1d ('same' length) -> masked BatchNorm -> optional LeakyReLU, on (B, C, T)."""

    def __init__(self, *, in_channels: int, out_channels: int, kernel_size: int,
                 activation: bool = True, leaky_slope: float = 0.01) -> None:
        super().__init__()
        # an even kernel takes one more frame on the right than on the left
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, bias=False)
        self.norm = MaskedBatchNorm1d(out_channels)
        self.act = nn.LeakyReLU(leaky_slope) if activation else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, T), mask (B, T) -> (B, C_out, T)."""
        x = nn.functional.pad(x * mask[:, None, :].to(x.dtype), self.pad)  # (B, C_in, T + k - 1)
        return self.act(self.norm(self.conv(x), mask))


class Highway(nn.Module):
    """Highway layer: y = H(x) * T(x) + x * (1 - T(x)), T a sigmoid gate (bias -1 at start)."""

    def __init__(self, *, dim: int, leaky_slope: float = 0.01) -> None:
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)
        nn.init.constant_(self.gate.bias, -1.0)
        self.act = nn.LeakyReLU(leaky_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., dim) -> (..., dim)."""
        g = torch.sigmoid(self.gate(x))
        return self.act(self.transform(x)) * g + x * (1.0 - g)


class PaddedBiRNN(nn.Module):
    """Bidirectional GRU/LSTM over padded input whose valid outputs ignore the padding.

    Two unidirectional RNNs; the backward one reads each sequence reversed within its
    length (``reverse_padded``). Padded RNN calls are used instead of packed sequences
    because they are much faster on CPU (DESIGN.md section 3).
    """

    def __init__(self, *, input_dim: int, hidden_dim: int, rnn_type: str = "gru") -> None:
        super().__init__()
        if rnn_type not in RNN_TYPES:
            raise ValueError(f"rnn_type must be one of {', '.join(RNN_TYPES)}: got {rnn_type!r}")
        rnn = RNN_TYPES[rnn_type]
        self.forward_rnn = rnn(input_dim, hidden_dim, batch_first=True)
        self.backward_rnn = rnn(input_dim, hidden_dim, batch_first=True)
        self.out_dim = 2 * hidden_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, D), lengths (B,), mask (B, T) -> (B, T, 2H), zero on padded frames."""
        fwd, _ = self.forward_rnn(x)  # (B, T, H)
        bwd, _ = self.backward_rnn(reverse_padded(x, lengths))  # (B, T, H), reversed time
        out = torch.cat([fwd, reverse_padded(bwd, lengths)], dim=-1)  # (B, T, 2H)
        return out * mask[:, :, None].to(out.dtype)


class CBHG(nn.Module):
    """Conv bank (kernels 1..K) -> max-pool -> conv projections (+ residual) -> highway -> BiRNN.

    Tacotron's CBHG, as used in section III-C of the machine speech chain paper
    (K = 8 filter banks, LeakyReLU instead of ReLU, section III-D2).
    """

    def __init__(
        self,
        *,
        # structure
        in_dim: int,
        bank_size: int = 8,
        bank_channels: int = 128,
        proj_channels: Sequence[int] = (128, 128),
        proj_kernel: int = 3,
        highway_layers: int = 4,
        highway_dim: int = 128,
        rnn_dim: int = 128,
        rnn_type: str = "gru",
        leaky_slope: float = 0.01,
    ) -> None:
        super().__init__()
        if bank_size < 1:
            raise ValueError(f"CBHG bank_size must be >= 1: got {bank_size}")
        if not proj_channels or proj_channels[-1] != in_dim:
            raise ValueError(
                f"CBHG proj_channels must end with in_dim={in_dim} for the residual connection: "
                f"got {list(proj_channels)}")
        self.bank = nn.ModuleList(
            ConvNorm(in_channels=in_dim, out_channels=bank_channels, kernel_size=k, leaky_slope=leaky_slope)
            for k in range(1, bank_size + 1))
        dims = [bank_size * bank_channels, *proj_channels]
        self.projections = nn.ModuleList(
            ConvNorm(in_channels=a, out_channels=b, kernel_size=proj_kernel,
                     activation=i < len(proj_channels) - 1, leaky_slope=leaky_slope)
            for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])))
        self.pre_highway = nn.Linear(in_dim, highway_dim, bias=False) if in_dim != highway_dim else nn.Identity()
        self.highways = nn.ModuleList(Highway(dim=highway_dim, leaky_slope=leaky_slope) for _ in range(highway_layers))
        self.rnn = PaddedBiRNN(input_dim=highway_dim, hidden_dim=rnn_dim, rnn_type=rnn_type)
        self.out_dim = self.rnn.out_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, T, in_dim), lengths (B,) -> (B, T, 2 * rnn_dim), zero on padded frames."""
        mask = make_non_pad_mask(lengths, x.size(1))  # (B, T)
        residual = x
        y = x.transpose(1, 2)  # (B, in_dim, T)
        y = torch.cat([conv(y, mask) for conv in self.bank], dim=1)  # (B, K * C, T)
        # max-pool, width 2, stride 1, looking back: frame t = max(t - 1, t); frame 0 kept
        y = torch.maximum(y, torch.cat([y[:, :, :1], y[:, :, :-1]], dim=2))  # (B, K * C, T)
        for conv in self.projections:
            y = conv(y, mask)  # (B, C_i, T)
        y = y.transpose(1, 2) + residual  # (B, T, in_dim)
        y = self.pre_highway(y)  # (B, T, highway_dim)
        for layer in self.highways:
            y = layer(y)
        return self.rnn(y, lengths, mask)
