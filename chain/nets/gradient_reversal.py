"""Gradient reversal (Ganin and Lempitsky, 2015, "Unsupervised domain adaptation by
backpropagation"): the identity forward, the gradient times ``-scale`` backward, so that a
classifier behind it learns to tell a factor while the layers before it learn to hide it."""
from __future__ import annotations

import torch


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``x`` forward; ``-scale`` times the incoming gradient backward."""
    return _Reverse.apply(x, scale)
