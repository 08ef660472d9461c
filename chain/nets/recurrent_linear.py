"""A linear map applied at every step of a recurrence, whose weight gradient is one matmul.

A weight used at each of S decoder steps gets, from autograd, S gradients of its full
size (each a (out, B) x (B, in) matmul with B the batch), written and summed one by one.
With the small batches of a CPU run, that memory traffic was a large share of the
Tacotron decoder's time. ``RecurrentLinear`` keeps each step's input and output gradient
instead, and forms dL/dW = sum_s dL/dy_s^T x_s as one matmul over all steps, when
autograd reaches the weight (after every step that used it).

Build one per forward pass: it holds the steps of that pass.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable


class _StepWeight(torch.autograd.Function):
    """weight -> the same values; its backward pass sums the steps' gradients in one matmul."""

    @staticmethod
    def forward(ctx, weight, steps):
        ctx.steps, ctx.dtype = steps, weight.dtype
        return weight.view_as(weight)

    @staticmethod
    @once_differentiable
    def backward(ctx, _unused):
        if not ctx.steps:  # no step reached the loss
            return None, None
        inputs, grads = (torch.cat(t).to(ctx.dtype) for t in zip(*ctx.steps))  # (S * B, in), (S * B, out)
        ctx.steps.clear()
        return grads.t() @ inputs, None  # (out, in)


class _StepMatmul(torch.autograd.Function):
    """x (B, in), weight (out, in) -> x W^T (B, out); the weight's gradient is left to _StepWeight."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda")
    def forward(ctx, x, weight, steps):
        ctx.save_for_backward(x, weight)
        ctx.steps = steps
        return x @ weight.t()

    @staticmethod
    @once_differentiable
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        ctx.steps.append((x, grad_y))
        return grad_y @ weight.to(grad_y.dtype), None, None  # grad_y in half precision under AMP


class RecurrentLinear:
    """y_s = x_s W^T (no bias) for the steps s of one forward pass; see the module docstring."""

    def __init__(self, weight: torch.Tensor) -> None:
        self._steps: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._weight = _StepWeight.apply(weight, self._steps)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, in) -> (B, out)."""
        return _StepMatmul.apply(x, self._weight, self._steps)
