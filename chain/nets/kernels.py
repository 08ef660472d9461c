"""Which implementation of a layer runs: a hand-written CPU kernel or torch's native op.

Some layers have a version written for speed on the CPU beside the native op that
CUDA/cuDNN implement as one fused kernel; on a GPU the hand-written version would launch
many small kernels instead. The choice is made per call, from the device:

- ``chain.nets.cbhg.PaddedBiRNN``: the two GRUs of a BiGRU stepped together with a
  hand-written backward (``chain.nets.gru``) on CPU; ``nn.GRU`` (cuDNN) elsewhere.
- ``chain.tts.tacotron.Tacotron``'s decoder LSTMs: ``LSTMSteps`` with ``RecurrentLinear``
  and the cell written out (``chain.nets.lstm_steps``) on CPU; ``nn.LSTMCell`` (the fused
  CUDA cell) elsewhere.
- ``chain.nets.attention.MLPAttention``: tanh(u) taken as 2 sigmoid(2u) - 1 on CPU (torch's
  CPU sigmoid is faster than its tanh); ``torch.tanh`` elsewhere.

Kept on every device, because no native op computes them and they are a few whole-tensor
ops each (no loop over frames): the masked batch norm (``chain.nets.batchnorm``: native
batch norm cannot leave the padding out of its statistics, and selecting the valid frames
with a boolean mask waits for the GPU at every layer) and the CBHG's look-back max-pool.

A module that makes such a choice derives from :class:`KernelChoice`: its ``kernels``
attribute is "auto" (the default: hand-written on CPU, native elsewhere), "hand" or
"native". Forcing "native" on CPU runs, and lets the tests check, the code path a GPU
takes; ``bench/train_step.py --kernels`` times both on a GPU. :func:`set_kernels` sets it
on every such module of a model.
"""
from __future__ import annotations

import torch
from torch import nn

KERNELS = ("auto", "hand", "native")


class KernelChoice:
    """Mixin of a module with a hand-written kernel and a native op (see the module docstring)."""

    kernels: str = "auto"

    def hand_kernels(self, x: torch.Tensor) -> bool:
        """True when the hand-written kernel runs on inputs like ``x`` (by ``self.kernels``)."""
        if self.kernels == "auto":
            return x.device.type == "cpu"
        if self.kernels in KERNELS:
            return self.kernels == "hand"
        raise ValueError(f"{type(self).__name__}.kernels must be one of {', '.join(KERNELS)}: "
                         f"got {self.kernels!r}")


def set_kernels(model: nn.Module, kernels: str) -> int:
    """Set ``kernels`` on every :class:`KernelChoice` module of ``model``; -> how many."""
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {', '.join(KERNELS)}: got {kernels!r}")
    modules = [m for m in model.modules() if isinstance(m, KernelChoice)]
    for module in modules:
        module.kernels = kernels
    return len(modules)
