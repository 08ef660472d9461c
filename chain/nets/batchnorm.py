"""Batch normalisation over padded sequences whose statistics ignore the padding.

Used by the CBHG (chain.nets.cbhg) after every convolution. In training mode the mean
and variance of each channel are taken over the valid frames only, so padding never
changes what a valid frame is normalised with; in eval mode the running statistics are
used, as in ``nn.BatchNorm1d``. The training-mode forward and backward passes are
written out (``_MaskedBatchNorm``) rather than left to autograd: on the post-CBHG's
(B, 1024, T) conv-bank output, autograd's version of the masked statistics made about
three times as many passes over the tensor. Under autocast (AMP) the layer computes in
float32 and returns float32.

It runs on every device (chain.nets.kernels): each of its steps is one whole-tensor op
(a batched matrix-vector product for the sums, elementwise ops), no loop over frames.
Native batch norm cannot leave the padding out of its statistics, and selecting the
valid frames with a boolean mask first would wait for the GPU at every layer.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable


class _MaskedBatchNorm(torch.autograd.Function):
    """x (B, C, T), mask (B, T, 1) float 0/1, weight, bias (C,) ->
    (y (B, C, T), batch mean (C,), batch variance (C,) over valid frames, biased)."""

    @staticmethod
    def forward(ctx, x, mask, weight, bias, eps):
        count = mask.sum().clamp_min(2.0)
        mean = torch.bmm(x, mask).sum(0).squeeze(1) / count  # (C,)
        centred = x - mean[:, None]  # (B, C, T)
        var = torch.bmm(centred.square(), mask).sum(0).squeeze(1) / count  # (C,)
        invstd = torch.rsqrt(var + eps)
        y = torch.addcmul(bias[:, None], centred, (weight * invstd)[:, None])
        ctx.save_for_backward(centred, mask, weight, invstd, count)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, _grad_mean, _grad_var):
        centred, mask, weight, invstd, count = ctx.saved_tensors
        grad_bias = grad_y.sum((0, 2))  # (C,)
        grad_weight = (grad_y * centred).sum((0, 2)) * invstd  # sum of grad_y * x_hat
        scale = weight * invstd
        # the usual batch-norm gradient, with the statistics' share on valid frames only:
        # dx = scale * (dy - mask / count * (sum dy + x_hat * sum dy x_hat))
        grad_x = torch.addcmul((-scale * grad_bias / count)[:, None], centred,
                               (-scale * grad_weight * invstd / count)[:, None])  # (B, C, T)
        grad_x.mul_(mask.transpose(1, 2))
        grad_x.addcmul_(grad_y, scale[:, None])
        return grad_x, None, grad_weight, grad_bias, None


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d over (B, C, T) whose training statistics use valid frames only."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, T), mask (B, T) bool -> (B, C, T)."""
        if mask is None or not self.training:
            return super().forward(x)
        if torch.is_autocast_enabled(x.device.type):  # AMP on any device: statistics in float32
            with torch.autocast(x.device.type, enabled=False):
                return self.forward(x.float(), mask)
        mask = mask[:, :, None].to(x.dtype)  # (B, T, 1)
        y, mean, var = _MaskedBatchNorm.apply(x, mask, self.weight, self.bias, self.eps)
        if self.track_running_stats:
            with torch.no_grad():
                count = mask.sum().clamp_min(2.0)
                self.num_batches_tracked += 1
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * count / (count - 1), self.momentum)
        return y
