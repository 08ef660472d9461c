"""Masked stack of bidirectional LSTMs with optional time subsampling (pyramid).

The ASR encoder of the machine speech chain paper (section III-D2) stacks three
BiLSTM layers and subsamples the sequence after them to 1/8 of its length. Choices:

- Padding: input is padded at the end and run through plain (unpacked) LSTMs, which is
  ~9x faster than packed sequences on CPU (docs/data.md, Batches). The forward direction
  reads valid frames first, so padding cannot reach them. The backward direction is a
  second unidirectional LSTM run on each sequence reversed *within its own length*
  (``reverse_padded``), then reversed back; it too reads padding last. Valid outputs are
  therefore exactly those of the item run alone, and padded outputs are set to zero.
- Subsampling: after layer i, every ``subsample[i]``-th frame is kept (frames 0, s, 2s, ...),
  lengths become ceil(len / s). Keeping frames (rather than concatenating neighbours)
  leaves the layer sizes unchanged and costs nothing.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from chain.nets.masks import make_non_pad_mask, reverse_padded, subsample_lengths


class MaskedBLSTM(nn.Module):
    """Stack of bidirectional LSTM layers over padded input, outputs (B, T', 2H).

    See the module docstring for how padding and subsampling are handled.
    """

    def __init__(
        self,
        *,
        # structure
        input_dim: int,
        hidden: int = 256,
        layers: int = 3,
        subsample: Sequence[int] | None = None,
        # training
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        subsample = [1] * layers if subsample is None else [int(s) for s in subsample]
        if len(subsample) != layers or any(s < 1 for s in subsample):
            raise ValueError(f"subsample must list one factor >= 1 per layer ({layers} layers): "
                             f"got {subsample}")
        self.subsample = subsample
        self.hidden = hidden
        self.forward_lstms = nn.ModuleList()
        self.backward_lstms = nn.ModuleList()
        for i in range(layers):
            in_dim = input_dim if i == 0 else 2 * hidden
            self.forward_lstms.append(nn.LSTM(in_dim, hidden, batch_first=True))
            self.backward_lstms.append(nn.LSTM(in_dim, hidden, batch_first=True))
        self.dropout = nn.Dropout(dropout)

    @property
    def output_dim(self) -> int:
        """Size of the last axis of the output: 2 * hidden."""
        return 2 * self.hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D) padded, lengths (B,) -> (y (B, T', 2H) zero on padding, lengths' (B,)).

        T' = T subsampled by the product of ``subsample``; lengths' = the valid frames of each item.
        """
        for i, (fwd, bwd) in enumerate(zip(self.forward_lstms, self.backward_lstms)):
            if i > 0:
                x = self.dropout(x)
            out_fwd, _ = fwd(x)  # (B, T, H)
            out_bwd, _ = bwd(reverse_padded(x, lengths))  # (B, T, H), time reversed within length
            x = torch.cat([out_fwd, reverse_padded(out_bwd, lengths)], dim=-1)  # (B, T, 2H)
            step = self.subsample[i]
            if step > 1:
                x = x[:, ::step]  # (B, ceil(T / step), 2H)
                lengths = subsample_lengths(lengths, step)
        mask = make_non_pad_mask(lengths, x.size(1))  # (B, T')
        return x * mask[:, :, None].to(x.dtype), lengths
