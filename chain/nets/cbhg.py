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
from torch.autograd.function import once_differentiable

from chain.nets.batchnorm import MaskedBatchNorm1d
from chain.nets.gru import group_gru
from chain.nets.kernels import KernelChoice
from chain.nets.masks import make_non_pad_mask, reverse_padded

RNN_TYPES = {"gru": nn.GRU, "lstm": nn.LSTM}


class _LookBackMaxPool(torch.autograd.Function):
    """Max-pool of width 2, stride 1, looking back: y_t = max(x_{t-1}, x_t), y_0 = x_0, on
    (B, C, T). Written out because on the conv bank's output, the largest tensor of the
    CBHG, autograd's version (a shifted copy, torch.maximum, whose backward splits the
    gradient of ties) spent more time in memory allocation and copies than in the pooling;
    here a tie gives its gradient to frame t."""

    @staticmethod
    def forward(ctx, x):
        y = x.clone()
        torch.maximum(x[..., 1:], x[..., :-1], out=y[..., 1:])
        earlier = x[..., :-1] > x[..., 1:]  # (B, C, T - 1): frame t took frame t - 1's value
        ctx.save_for_backward(earlier)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y):
        (earlier,) = ctx.saved_tensors
        moved = grad_y[..., 1:] * earlier  # (B, C, T - 1): gradients that go to frame t - 1
        grad_x = grad_y.clone()
        grad_x[..., 1:] -= moved
        grad_x[..., :-1] += moved
        return grad_x


class ConvNorm(nn.Module):
    """Conv1d ('same' length) -> masked BatchNorm -> optional LeakyReLU, on (B, C, T)."""

    def __init__(self, *, in_channels: int, out_channels: int, kernel_size: int,
                 activation: bool = True, leaky_slope: float = 0.01) -> None:
        super().__init__()
        # output t reads frames t - (k - 1) // 2 .. t + k // 2: the convolution's own zero
        # padding of (k - 1) // 2 frames on both sides, and for an even k one more on the right
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2,
                              bias=False)
        self.extra_right = 1 - kernel_size % 2
        self.norm = MaskedBatchNorm1d(out_channels)
        self.act = nn.LeakyReLU(leaky_slope) if activation else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, T), mask (B, T) -> (B, C_out, T)."""
        y = x * mask[:, None, :].to(x.dtype)
        if self.extra_right:
            y = nn.functional.pad(y, (0, 1))  # (B, C_in, T + 1)
        return self.act(self.norm(self.conv(y), mask))


class Highway(nn.Module):
    """Highway layer: y = H(x) * T(x) + x * (1 - T(x)), T a sigmoid gate (bias -1 at start)."""

    def __init__(self, *, dim: int, leaky_slope: float = 0.01) -> None:
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)
        nn.init.constant_(self.gate.bias, -1.0)
        self.act = nn.LeakyReLU(leaky_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., dim) -> (..., dim), in x's dtype (under autocast H and T come out in half precision)."""
        h, t = self.act(self.transform(x)), torch.sigmoid(self.gate(x))
        return torch.lerp(x, h.to(x.dtype), t.to(x.dtype))  # x + T (H - x)


class PaddedBiRNN(nn.Module, KernelChoice):
    """Bidirectional GRU/LSTM over padded input whose valid outputs ignore the padding.

    Two unidirectional RNNs; the backward one reads each sequence reversed within its
    length (``reverse_padded``). Padded RNN calls are used instead of packed sequences
    because they are much faster on CPU (docs/data.md, Batches). With the hand-written
    kernel (``kernels``, chain.nets.kernels: by default on CPU) the two GRUs run side by
    side in one loop (chain.nets.gru); otherwise (LSTMs, or cuDNN's fused GRU on GPU) each
    is one ``nn.GRU`` / ``nn.LSTM`` call.
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
        reversed_x = reverse_padded(x, lengths)  # (B, T, D), each sequence reversed within its length
        if isinstance(self.forward_rnn, nn.GRU) and self.hand_kernels(x):
            fwd, bwd = group_gru(torch.stack([x, reversed_x]), [self.forward_rnn, self.backward_rnn])
        else:
            fwd, bwd = self.forward_rnn(x)[0], self.backward_rnn(reversed_x)[0]  # (B, T, H) each
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
        y = _LookBackMaxPool.apply(y)  # (B, K * C, T)
        for conv in self.projections:
            y = conv(y, mask)  # (B, C_i, T)
        y = y.transpose(1, 2) + residual  # (B, T, in_dim)
        y = self.pre_highway(y)  # (B, T, highway_dim)
        for layer in self.highways:
            y = layer(y)
        return self.rnn(y, lengths, mask)
