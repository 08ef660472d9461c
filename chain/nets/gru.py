"""Independent single-layer GRUs run side by side in one loop, with a hand-written backward.

The CBHG's bidirectional GRU is two unidirectional GRUs (chain.nets.cbhg.PaddedBiRNN).
``nn.GRU`` runs them one after the other and, on CPU, records about ten autograd nodes
per frame and direction, so a 400-frame spectrogram costs thousands of tiny kernels
forward and backward. Here the G GRUs of a group (the two directions) step together with
batched matmuls, and the backward pass keeps in its loop only what is sequential: the
gradient carried from frame to frame. Gate derivatives, weight, bias and input gradients
are computed for all frames at once, outside the loop.

The cell is ``nn.GRU``'s (Cho et al. 2014, in PyTorch's layout, rows r, z, n):
  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h
from a zero initial state.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.autograd.function import once_differentiable


class _GroupGRU(torch.autograd.Function):
    """x (G, B, T, D), w_ih (G, 3H, D), w_hh (G, 3H, H), b_ih, b_hh (G, 3H) -> h (G, B, T, H)."""

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh):
        groups, batch, steps, _ = ctx.x_shape = x.shape
        hidden = w_hh.size(2)
        # input projections of all frames at once: (G, B, T, 2H) for r, z and (G, B, T, H) for n
        x = x.flatten(1, 2)  # (G, B * T, D)
        x_proj = torch.baddbmm(b_ih[:, None, :], x, w_ih.transpose(1, 2))  # (G, B * T, 3H)
        x_rz, x_n = x_proj.view(groups, batch, steps, 3 * hidden).split(2 * hidden, dim=-1)
        w_hh_t = w_hh.transpose(1, 2)  # (G, H, 3H)
        # every step writes its frame t of these, kept for the backward pass
        hs = x.new_zeros(groups, batch, steps + 1, hidden)  # frame 0: the zero initial state
        rz = x.new_empty(groups, batch, steps, 2 * hidden)  # gates r, z
        n = x.new_empty(groups, batch, steps, hidden)
        h_n = x.new_empty(groups, batch, steps, hidden)  # W_hn h + b_hn
        for t in range(steps):
            h_proj = torch.baddbmm(b_hh[:, None, :], hs[:, :, t], w_hh_t)  # (G, B, 3H)
            torch.add(x_rz[:, :, t], h_proj[..., :2 * hidden], out=rz[:, :, t]).sigmoid_()
            h_n[:, :, t] = h_proj[..., 2 * hidden:]
            torch.addcmul(x_n[:, :, t], rz[:, :, t, :hidden], h_n[:, :, t], out=n[:, :, t]).tanh_()
            torch.lerp(n[:, :, t], hs[:, :, t], rz[:, :, t, hidden:], out=hs[:, :, t + 1])  # (1 - z) n + z h
        ctx.save_for_backward(x, w_ih, w_hh, hs, rz, n, h_n)
        return hs[:, :, 1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, w_ih, w_hh, hs, rz, n, h_n = ctx.saved_tensors
        hidden = w_hh.size(2)
        r, z = rz.split(hidden, dim=-1)  # (G, B, T, H) each
        h_prev = hs[:, :, :-1]
        # derivatives with respect to h' of the pre-activations of r, z, n and of W_hn h + b_hn
        dn = (1 - z) * (1 - n * n)  # n's
        slopes = torch.stack([dn * h_n * r * (1 - r), (h_prev - n) * z * (1 - z), dn * r], dim=-2)  # (G, B, T, 3, H)
        # the sequential part: dL/dh_{t-1} = dL/dh_t * z_t + (dL/dh_t * slopes_t) @ W_hh
        grad_h = torch.empty_like(n)  # (G, B, T, H): dL/dh_t
        carry = torch.zeros_like(grad_h[:, :, 0])  # (G, B, H)
        for t in range(grad_h.size(2) - 1, -1, -1):
            dh = torch.add(grad_out[:, :, t], carry, out=grad_h[:, :, t])
            carry = torch.baddbmm(dh * z[:, :, t], (dh[:, :, None, :] * slopes[:, :, t]).flatten(2), w_hh)
        grad_h_proj = (grad_h[..., None, :] * slopes).flatten(3).flatten(1, 2)  # (G, B * T, 3H)
        grad_x_proj = torch.cat([grad_h_proj[..., :2 * hidden], (grad_h * dn).flatten(1, 2)], dim=-1)
        grad_x = torch.bmm(grad_x_proj, w_ih).view(ctx.x_shape)
        grad_w_ih = torch.bmm(grad_x_proj.transpose(1, 2), x)
        grad_w_hh = torch.bmm(grad_h_proj.transpose(1, 2), h_prev.flatten(1, 2))
        return grad_x, grad_w_ih, grad_w_hh, grad_x_proj.sum(1), grad_h_proj.sum(1)


def group_gru(x: torch.Tensor, rnns: Sequence[nn.GRU]) -> torch.Tensor:
    """x (G, B, T, D), one batch per GRU -> outputs (G, B, T, H); equal to
    ``torch.stack([rnn(x[g])[0] for g, rnn in enumerate(rnns)])`` for single-layer,
    unidirectional, batch_first GRUs with biases (what ``PaddedBiRNN`` builds). Under
    autocast (AMP) it runs in autocast's precision, as ``nn.GRU`` does there."""
    weights = [torch.stack([getattr(rnn, name) for rnn in rnns])
               for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    if torch.is_autocast_enabled(x.device.type):
        dtype = torch.get_autocast_dtype(x.device.type)
        with torch.autocast(x.device.type, enabled=False):
            return _GroupGRU.apply(x.to(dtype), *(w.to(dtype) for w in weights))
    return _GroupGRU.apply(x, *weights)
