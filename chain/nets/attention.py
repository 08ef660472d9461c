"""Attention scorers of the machine speech chain paper, chosen by name.

Eqs. (10)-(12) of the machine speech chain paper (section III-B): the context is
c_t = sum_s a_t(s) h^e_s (Eq. 10), with a_t = softmax_s Score(h^e_s, h^d_t) (Eq. 11) and
Score one of (Eq. 12):

- ``dot``: <h^e_s, h^d_t>; the query is projected to the memory size when they differ.
- ``bilinear``: h^e_s^T W h^d_t.
- ``mlp``: v^T tanh(W [h^e_s, h^d_t]) = v^T tanh(W_h h^e_s + W_q h^d_t + b).
- ``mlp_ma``: ``mlp`` plus multiscale alignment history (section V-C2, "Att MLP-MA",
  ref. [40]): the last ``history`` alignments are convolved with one kernel per width in
  ``kernel_sizes`` (the scales) and the features enter the tanh:
  v^T tanh(W_h h^e_s + W_q h^d_t + W_f f_s + b). ``history=1`` (the paper's "1-history
  size") uses the previous alignment only. The TTS uses it as its "MLP attention with
  alignment history" (section III-C).

Common interface (used by the ASR and the TTS decoders)::

    memory_proj = attn.preprocess(memory)          # once per sequence, may be None
    state = attn.init_state(mask)                  # (B, history, T)
    context, weights, state = attn(query, memory, memory_proj, mask, state)

``state`` always holds the last alignments, most recent first, as a tensor (B, history, T)
(history is 1 for the scorers that do not read it), so decoders can reorder it with
``index_select`` (beam search). Before the first step every slot is one-hot on the first
frame. Weights are exactly zero on padding (mask False) and sum to one over valid frames.
"""
from __future__ import annotations

import inspect
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from chain.nets.kernels import KernelChoice


class Attention(nn.Module):
    """Base class: masked softmax over scores (Eq. 11) and context (Eq. 10).

    Subclasses implement ``score`` and, when they cache a projection of the memory,
    ``preprocess``.
    """

    history: int = 1

    def __init__(self, *, query_dim: int, memory_dim: int, attn_dim: int) -> None:
        super().__init__()
        self.query_dim = query_dim
        self.memory_dim = memory_dim
        self.attn_dim = attn_dim

    def preprocess(self, memory: torch.Tensor) -> torch.Tensor | None:
        """memory (B, T, M) -> projection cached for all decoder steps, or None."""
        return None

    def init_state(self, mask: torch.Tensor) -> torch.Tensor:
        """mask (B, T) bool (True = valid) -> state (B, history, T): one-hot on frame 0."""
        state = torch.zeros(mask.size(0), self.history, mask.size(1), device=mask.device)
        state[:, :, 0] = 1.0
        return state

    def score(self, query: torch.Tensor, memory: torch.Tensor, memory_proj: torch.Tensor | None,
              state: torch.Tensor) -> torch.Tensor:
        """query (B, Q), memory (B, T, M) -> unnormalised scores (B, T) (Eq. 12)."""
        raise NotImplementedError

    def forward(self, query: torch.Tensor, memory: torch.Tensor, memory_proj: torch.Tensor | None,
                mask: torch.Tensor, state: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """query (B, Q), memory (B, T, M), mask (B, T) True = valid, state (B, history, T)
        -> (context (B, M), weights (B, T), new state (B, history, T)).

        Eqs. (10) and (11) of the machine speech chain paper.
        """
        scores = self.score(query, memory, memory_proj, state.to(memory.dtype))  # (B, T)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1) * mask.to(scores.dtype)  # (B, T), 0 on padding
        context = torch.bmm(weights[:, None, :], memory).squeeze(1)  # (B, M)
        new_state = torch.cat([weights[:, None, :].to(state.dtype), state[:, :-1]], dim=1)
        return context, weights, new_state  # state: (B, history, T), most recent first


class DotAttention(Attention):
    """Score = <h^e_s, P h^d_t> (Eq. 12, dot); P is the identity when query_dim == memory_dim,
    else a bias-free projection to the memory size. ``attn_dim`` is unused."""

    def __init__(self, *, query_dim: int, memory_dim: int, attn_dim: int) -> None:
        super().__init__(query_dim=query_dim, memory_dim=memory_dim, attn_dim=attn_dim)
        self.query_proj = (nn.Identity() if query_dim == memory_dim
                           else nn.Linear(query_dim, memory_dim, bias=False))

    def score(self, query, memory, memory_proj, state):
        q = self.query_proj(query)  # (B, M)
        return torch.bmm(memory, q[:, :, None]).squeeze(2)  # (B, T)


class BilinearAttention(Attention):
    """Score = h^e_s^T W h^d_t (Eq. 12, bilinear); W h^e is cached by ``preprocess``.
    ``attn_dim`` is unused."""

    def __init__(self, *, query_dim: int, memory_dim: int, attn_dim: int) -> None:
        super().__init__(query_dim=query_dim, memory_dim=memory_dim, attn_dim=attn_dim)
        self.memory_proj = nn.Linear(memory_dim, query_dim, bias=False)

    def preprocess(self, memory):
        return self.memory_proj(memory)  # (B, T, Q)

    def score(self, query, memory, memory_proj, state):
        return torch.bmm(memory_proj, query[:, :, None]).squeeze(2)  # (B, T)


class MLPAttention(Attention, KernelChoice):
    """Score = v^T tanh(W_h h^e_s + W_q h^d_t + b) (Eq. 12, MLP); W_h h^e is cached.

    With the hand-written kernel (``kernels``, chain.nets.kernels: by default on CPU) the
    tanh is taken through a sigmoid, v^T tanh(u) = 2 v^T sigmoid(2u) - sum(v): the same
    value, and torch's CPU sigmoid is several times faster than its tanh on the (B, T, A)
    tensor, the largest of a step. The cached projection and ``hidden`` are then doubled.
    """

    def __init__(self, *, query_dim: int, memory_dim: int, attn_dim: int) -> None:
        super().__init__(query_dim=query_dim, memory_dim=memory_dim, attn_dim=attn_dim)
        self.memory_proj = nn.Linear(memory_dim, attn_dim)
        self.query_proj = nn.Linear(query_dim, attn_dim, bias=False)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def scale(self, x: torch.Tensor) -> float:
        """2 on the hand-written path (tanh through a sigmoid of 2u), else 1."""
        return 2.0 if self.hand_kernels(x) else 1.0

    def preprocess(self, memory):
        proj = self.memory_proj(memory)  # (B, T, A)
        return 2.0 * proj if self.hand_kernels(memory) else proj  # cached doubled for the sigmoid

    def hidden(self, query, memory_proj, state) -> torch.Tensor:
        """The pre-activation inside the tanh, u (B, T, A), times ``scale``."""
        return torch.add(memory_proj, self.query_proj(query)[:, None, :], alpha=self.scale(memory_proj))

    def score(self, query, memory, memory_proj, state):
        u = self.hidden(query, memory_proj, state)  # (B, T, A), times scale
        v = self.v.weight[0]  # (A,)
        if self.hand_kernels(u):
            return 2.0 * (torch.sigmoid(u) @ v) - v.sum()  # (B, T): v^T tanh(u) through a sigmoid
        return torch.tanh(u) @ v  # (B, T)


class MLPMultiscaleAttention(MLPAttention):
    """MLP score with multiscale alignment history (section V-C2 "Att MLP-MA", ref. [40]).

    The last ``history`` alignments (B, history, T) go through one Conv1d per kernel width
    in ``kernel_sizes`` (``channels`` filters each, odd widths, zero padding so the length
    is kept); the concatenated features (B, T, channels * scales) are projected to
    ``attn_dim`` and added inside the tanh of the MLP scorer. For speed the scales are
    computed as one convolution: each kernel is zero-padded to the widest width and the
    projection is folded into the kernels (same parameters, same result), applied as one
    matmul over the windows of the history.
    """

    def __init__(self, *, query_dim: int, memory_dim: int, attn_dim: int,
                 history: int = 1, kernel_sizes: Sequence[int] = (5, 11, 21),
                 channels: int = 10) -> None:
        super().__init__(query_dim=query_dim, memory_dim=memory_dim, attn_dim=attn_dim)
        kernel_sizes = [int(k) for k in kernel_sizes]
        if history < 1:
            raise ValueError(f"mlp_ma history must be >= 1: got {history}")
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"mlp_ma kernel_sizes must be odd widths >= 1: got {kernel_sizes}")
        self.history = history
        self.convs = nn.ModuleList(
            nn.Conv1d(history, channels, k, padding=k // 2, bias=False) for k in kernel_sizes)
        self.location_proj = nn.Linear(channels * len(kernel_sizes), attn_dim, bias=False)

    def location_kernel(self) -> torch.Tensor:
        """All scales and the projection as one kernel (A, history, widest width)."""
        width = max(conv.kernel_size[0] for conv in self.convs)
        kernels = torch.cat([F.pad(conv.weight, [(width - conv.kernel_size[0]) // 2] * 2)
                             for conv in self.convs])  # (C * scales, history, width)
        folded = self.location_proj.weight @ kernels.flatten(1)  # (A, history * width)
        return folded.view(-1, self.history, width)

    def hidden(self, query, memory_proj, state):
        # the convolution as one matmul, (B * T, history * width) windows x (history * width, A),
        # added to the MLP terms in the same op
        kernel = self.location_kernel()  # (A, history, width)
        width = kernel.size(2)
        windows = F.pad(state, [width // 2] * 2).unfold(2, width, 1)  # (B, history, T, width)
        windows = windows.transpose(1, 2).reshape(-1, self.history * width)  # (B * T, history * width)
        mlp = super().hidden(query, memory_proj, state)  # (B, T, A), times scale
        return torch.addmm(mlp.view(-1, mlp.size(2)), windows, kernel.flatten(1).t(),
                           alpha=self.scale(mlp)).view_as(mlp)


ATTENTIONS: dict[str, type[Attention]] = {
    "dot": DotAttention,
    "bilinear": BilinearAttention,
    "mlp": MLPAttention,
    "mlp_ma": MLPMultiscaleAttention,
}


def build_attention(name: str, *, query_dim: int, memory_dim: int, attn_dim: int,
                    **options) -> Attention:
    """Attention scorer by name (dot, bilinear, mlp, mlp_ma); ``options`` go to the scorer
    (mlp_ma: history, kernel_sizes, channels). Bad names and options raise ValueError."""
    if name not in ATTENTIONS:
        raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}: got {name!r}")
    cls = ATTENTIONS[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters
                if p not in ("self", "query_dim", "memory_dim", "attn_dim")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"attention {name!r} has no option {', '.join(map(repr, unknown))}: "
                         f"its options are {', '.join(accepted) or 'none'}")
    return cls(query_dim=query_dim, memory_dim=memory_dim, attn_dim=attn_dim, **options)
