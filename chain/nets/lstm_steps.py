"""Stacked ``nn.LSTMCell`` layers run one step at a time with input feeding.

An attention decoder with input feeding (the Tacotron decoder, section III-C of the
machine speech chain paper) cannot use ``nn.LSTM``: layer 1 reads [x_s, c_{s-1}], with
c_{s-1} the attention context of the previous step. Only x_s (the prenet output under
teacher forcing) is known in advance. ``LSTMSteps`` evaluates the same cells faster:

- the x part of layer 1's input projection, with both biases, is computed for all steps
  in one matmul (``project_inputs``);
- per step, each layer applies its remaining input weights and its recurrent weights as
  one ``RecurrentLinear`` on [input, h], whose weight gradient is formed once for all
  steps (chain.nets.recurrent_linear).

The cells keep their parameters (and state_dict keys); build one ``LSTMSteps`` per
forward pass. ``hand=False`` runs the cells themselves instead (``nn.LSTMCell`` on
[x_s, fed input]: on a GPU one fused kernel per cell and step, where the written-out cell
launches a dozen); the owner picks by device (chain.nets.kernels).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from chain.nets.recurrent_linear import RecurrentLinear


def lstm_cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``nn.LSTMCell``'s update from its pre-activations (B, 4H) (rows i, f, g, o) and cell c (B, H)
    -> (h', c')."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class LSTMSteps:
    """The cells of ``cells`` (layer 1 reading [x (known_dim), fed-back input]) for one forward
    pass; ``hand``: the hand-written kernels of the module docstring, else ``nn.LSTMCell``."""

    def __init__(self, cells: Sequence[nn.LSTMCell], known_dim: int, *, hand: bool = True) -> None:
        self.cells, self.hand = cells, hand
        if not hand:
            return
        first = cells[0]
        self.known_weight = first.weight_ih[:, :known_dim]  # (4H, known_dim)
        self.known_bias = first.bias_ih + first.bias_hh
        self.layers = [RecurrentLinear(torch.cat([first.weight_ih[:, known_dim:], first.weight_hh], dim=1))]
        self.layers += [RecurrentLinear(torch.cat([c.weight_ih, c.weight_hh], dim=1)) for c in cells[1:]]
        self.biases = [cell.bias_ih + cell.bias_hh for cell in cells[1:]]  # layer 1's: in project_inputs

    def project_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Known inputs x (..., known_dim), e.g. all steps (B, S, known_dim) -> (..., 4H)
        (``hand=False``: x itself, which the first cell projects at each step)."""
        return F.linear(x, self.known_weight, self.known_bias) if self.hand else x

    def __call__(self, projected: torch.Tensor, fed: torch.Tensor,
                 state: list[tuple[torch.Tensor, torch.Tensor]]
                 ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """One step: projected x_s (B, 4H, or B, known_dim with ``hand=False``) from
        ``project_inputs``, fed-back input (B, F), state [(h, c) (B, H) per layer]
        -> (top layer's h (B, H), new state)."""
        new_state = []
        if not self.hand:
            x = torch.cat([projected, fed], dim=-1)  # (B, known_dim + F)
            for cell, (h, c) in zip(self.cells, state):
                x, c = cell(x, (h, c))
                new_state.append((x, c))
            return x, new_state
        x = fed
        for layer, bias, (h, c) in zip(self.layers, [projected, *self.biases], state):
            x, c = lstm_cell(layer(torch.cat([x, h], dim=-1)) + bias, c)  # gates (B, 4H)
            new_state.append((x, c))
        return x, new_state
