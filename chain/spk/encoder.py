"""DeepSpeaker-style speaker encoder (SPKEMB) of the multi-speaker speech chain.

Section IV-B (Fig. 9, Eqs. 21-24) of the machine speech chain paper:

  x (B, T, D) -> Conv1d + LeakyReLU layers (stride s each, padding masked before every
  convolution) -> BiLSTM (``chain.nets.blstm.MaskedBLSTM``; 0 layers: none) -> mean over
  the valid frames -> affine -> z / ||z||_2                                     Eq. (21)
  p_y = softmax(z W) over the N training speakers                              Eq. (22)
  L = nll_weight * L_NLL (Eq. 23) + triplet_weight * L_TRI (Eq. 24)

Either loss may be switched off (weight 0), not both. Utterances of speakers outside the
training set (label >= N) take part in the triplet loss only. The embedding of an item
does not depend on the padding of its batch.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from chain.nets.blstm import MaskedBLSTM
from chain.nets.masks import make_non_pad_mask, subsample_lengths


class SpeakerEncoder(nn.Module):
    """Speaker embedding network and its training losses (section IV-B, Fig. 9)."""

    def __init__(
        self,
        *,
        # structure
        in_dim: int,
        num_speakers: int,
        conv_channels: Sequence[int] = (128, 128),
        conv_kernel: int = 5,
        conv_stride: int = 2,
        rnn_dim: int = 128,
        rnn_layers: int = 1,
        embed_dim: int = 128,
        leaky_slope: float = 0.01,
        # training
        nll_weight: float = 1.0,
        triplet_weight: float = 1.0,
        triplet_margin: float = 0.2,
    ) -> None:
        super().__init__()
        if conv_kernel < 1 or conv_kernel % 2 == 0 or conv_stride < 1:
            raise ValueError(f"conv_kernel must be odd and >= 1, conv_stride >= 1: got {conv_kernel}, {conv_stride}")
        if min(nll_weight, triplet_weight) < 0 or nll_weight + triplet_weight == 0:
            raise ValueError(f"nll_weight and triplet_weight must be >= 0 and not both 0: got "
                             f"{nll_weight}, {triplet_weight}")
        if num_speakers < 1 and nll_weight > 0:
            raise ValueError(f"the NLL loss needs num_speakers >= 1: got {num_speakers}")
        if embed_dim < 1 or triplet_margin < 0:
            raise ValueError(f"embed_dim must be >= 1 and triplet_margin >= 0: got {embed_dim}, {triplet_margin}")
        self.in_dim, self.num_speakers, self.embed_dim = in_dim, num_speakers, embed_dim
        self.stride = conv_stride
        self.nll_weight, self.triplet_weight, self.triplet_margin = nll_weight, triplet_weight, triplet_margin
        dims = [in_dim, *conv_channels]
        self.convs = nn.ModuleList(nn.Conv1d(a, b, conv_kernel, stride=conv_stride, padding=conv_kernel // 2)
                                   for a, b in zip(dims[:-1], dims[1:]))
        self.act = nn.LeakyReLU(leaky_slope)
        self.rnn = MaskedBLSTM(input_dim=dims[-1], hidden=rnn_dim, layers=rnn_layers) if rnn_layers else None
        self.affine = nn.Linear(self.rnn.output_dim if self.rnn else dims[-1], embed_dim)
        self.classifier = nn.Linear(embed_dim, num_speakers) if nll_weight > 0 else None

    def embed(self, feats: torch.Tensor, feat_lengths: torch.Tensor) -> torch.Tensor:
        """Eq. (21): feats (B, T, D), feat_lengths (B,) -> z (B, Z), unit L2 norm."""
        lengths = feat_lengths.to(feats.device)
        x = feats
        for conv in self.convs:
            x = x * make_non_pad_mask(lengths, x.size(1))[:, :, None].to(x.dtype)  # zero the padding
            x = self.act(conv(x.transpose(1, 2))).transpose(1, 2)  # (B, ceil(T / s), C)
            lengths = subsample_lengths(lengths, self.stride)
        if self.rnn is not None:
            x, lengths = self.rnn(x, lengths)  # (B, T', 2H), zero on padding
        mask = make_non_pad_mask(lengths, x.size(1))[:, :, None].to(x.dtype)  # (B, T', 1)
        pooled = (x * mask).sum(1) / lengths.clamp_min(1)[:, None].to(x.dtype)  # (B, C)
        return F.normalize(self.affine(pooled), dim=-1)  # (B, Z)

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Training loss: nll_weight x Eq. (23) + triplet_weight x Eq. (24).

        batch: feats (B, T, D), feat_lengths (B,), speakers (B,) int (ids >= num_speakers:
        speakers outside the training set, left out of the NLL).
        """
        z = self.embed(batch["feats"], batch["feat_lengths"])  # (B, Z)
        speakers = batch["speakers"].to(z.device)
        loss, stats = z.new_zeros(()), {}
        if self.classifier is not None:
            known = speakers < self.num_speakers
            logits = self.classifier(z[known])  # Eq. (22): (B', N)
            if known.any():
                nll = F.cross_entropy(logits, speakers[known])
                loss = loss + self.nll_weight * nll
                stats.update(nll=nll.item(), acc=(logits.argmax(-1) == speakers[known]).float().mean().item())
        if self.triplet_weight > 0:
            triplet, count = triplet_loss(z, speakers, self.triplet_margin)
            loss = loss + self.triplet_weight * triplet
            stats.update(triplet=triplet.item(), triplets=float(count))
        return loss, dict(loss=loss.item(), **stats)


def triplet_loss(z: torch.Tensor, speakers: torch.Tensor, margin: float) -> tuple[torch.Tensor, int]:
    """Eq. (24) of the machine speech chain paper: the mean over every triple of a batch
    (anchor a, positive p of a's speaker, negative n of another) of
    max(||z_a - z_p||^2 - ||z_a - z_n||^2 + margin, 0).

    z (B, Z) unit norm, speakers (B,) -> (loss, number of triples); 0 when the batch has none.
    """
    dist = (2 - 2 * z @ z.t()).clamp_min(0)  # (B, B): ||z_i - z_j||^2 of unit vectors
    same = speakers[:, None] == speakers[None, :]  # (B, B)
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    positive, negative = same & ~eye, ~same
    valid = positive[:, :, None] & negative[:, None, :]  # (B, P, N): a, p, n
    count = int(valid.sum())
    if count == 0:
        return z.sum() * 0.0, 0
    hinge = F.relu(dist[:, :, None] - dist[:, None, :] + margin)  # (B, P, N)
    return hinge[valid].mean(), count
