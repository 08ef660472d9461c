"""Conditional VQ-VAE (section 2 and 4.4.1 of the ZeroSpeech 2019 VQ-VAE paper, Fig. 1 and 3).

Encoder ``q(z|x)``: convolutions over frames ``x (T, D)`` (MFCC + deltas in the paper),
``log2(stride)`` of them with stride 2, down to ``T / stride`` vectors of ``code_dim``;
each is replaced by its nearest codebook vector (Eq. (1), (2)). Decoder ``p(x|z, s)``:
the codes concatenated on the channel axis with the speaker embedding ``v_s`` (32 dims),
transposed convolutions back to the frame rate. BatchNorm + LeakyReLU after every layer
but the last of the encoder and of the decoder. Loss Eq. (3): the reconstruction's mean
squared error (the Gaussian negative log-likelihood up to constants) + codebook loss +
gamma x commitment loss, gamma 0.25. Optional, not in the paper: time jitter of the codes in
training (:func:`time_jitter`), and a speaker adversary: a classifier of the speaker from each
encoder output ``z``, whose cross-entropy (weight ``speaker_adversary``) reaches the encoder
through a gradient reversal, so that the encoder learns to leave the speaker to ``v_s``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from chain.nets.conv1d import conv_bn_lrelu
from chain.nets.gradient_reversal import reverse_gradient
from chain.nets.masks import make_pad_mask
from chain.nets.vector_quantizer import Quantized, VectorQuantizer, code_usage, perplexity

STRIDES = (1, 2, 4, 8)


def time_jitter(latent: torch.Tensor, lengths: torch.Tensor, prob: float) -> torch.Tensor:
    """Each of the first ``lengths[b]`` vectors of ``latent (B, T, D)`` replaced, with probability
    ``prob``, by its left or its right neighbour (equally likely; at an utterance's edge the
    vector itself): the regulariser of Chorowski et al. (2019, "Unsupervised speech representation
    learning using WaveNet autoencoders"), which keeps a code from standing for a
    precise time. Padding is left as it is; the gradient flows to the vectors taken."""
    b, t, _ = latent.shape
    pos = torch.arange(t, device=latent.device).expand(b, t)
    r = torch.rand(b, t, device=latent.device)
    shift = (r < prob).long() * torch.where(r < prob / 2, -1, 1)
    last = (lengths.to(latent.device) - 1).clamp_min(0)[:, None]
    src = torch.where(pos <= last, torch.minimum((pos + shift).clamp_min(0), last), pos)
    return latent.gather(1, src[:, :, None].expand_as(latent))


class VQVAE(nn.Module):
    """Conditional VQ-VAE; ``loss, stats = model(batch)`` with batch ``feats (B, T, D)``,
    ``feat_lengths (B,)``, ``spk_ids (B,)``."""

    def __init__(self, *,
                 # structure
                 input_dim: int, num_speakers: int, stride: int = 4, num_codes: int = 256,
                 code_dim: int = 64, speaker_dim: int = 32, channels: int = 256,
                 kernel_size: int = 3, codebook_init: str = "data", restart_threshold: float = 0.0,
                 # training
                 commitment_weight: float = 0.25, jitter: float = 0.0, speaker_adversary: float = 0.0) -> None:
        super().__init__()
        if stride not in STRIDES:
            raise ValueError(f"stride must be one of {', '.join(map(str, STRIDES))}: got {stride}")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError(f"jitter must be in [0, 1]: got {jitter}")
        if num_speakers < 1:
            raise ValueError(f"num_speakers must be >= 1: got {num_speakers}")
        if speaker_adversary < 0:
            raise ValueError(f"speaker_adversary must be >= 0: got {speaker_adversary}")
        self.stride, self.input_dim, self.commitment_weight = stride, input_dim, commitment_weight
        self.jitter, self.speaker_adversary = jitter, speaker_adversary
        levels = int(math.log2(stride))
        self.encoder = nn.Sequential(
            conv_bn_lrelu(input_dim, channels, kernel_size),
            *[conv_bn_lrelu(channels, channels, 4, stride=2) for _ in range(levels)],
            conv_bn_lrelu(channels, channels, kernel_size),
            nn.Conv1d(channels, code_dim, 1))  # last encoder layer: no BatchNorm, no activation
        self.quantizer = VectorQuantizer(num_codes=num_codes, code_dim=code_dim, init=codebook_init,
                                         restart_threshold=restart_threshold)
        self.speaker_embedding = nn.Embedding(num_speakers, speaker_dim)
        self.decoder = nn.Sequential(
            conv_bn_lrelu(code_dim + speaker_dim, channels, kernel_size),
            *[conv_bn_lrelu(channels, channels, 4, stride=2, transpose=True) for _ in range(levels)],
            conv_bn_lrelu(channels, channels, kernel_size),
            nn.Conv1d(channels, input_dim, 1))  # last decoder layer: no BatchNorm, no activation
        self.speaker_classifier = None
        if speaker_adversary > 0:
            self.speaker_classifier = nn.Sequential(nn.Linear(code_dim, channels), nn.LeakyReLU(),
                                                    nn.Linear(channels, num_speakers))

    @property
    def num_codes(self) -> int:
        return self.quantizer.num_codes

    def code_lengths(self, feat_lengths: torch.Tensor) -> torch.Tensor:
        """Codes of utterances of ``feat_lengths`` frames: ``ceil(T / stride)``."""
        return torch.div(feat_lengths + self.stride - 1, self.stride, rounding_mode="floor")

    def encoder_output(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats (B, T, D)`` -> ``z (B, ceil(T / stride), code_dim)``, before quantisation."""
        t = feats.shape[1]
        padded = -(-t // self.stride) * self.stride
        x = nn.functional.pad(feats.transpose(1, 2), (0, padded - t))  # (B, D, T'), T' multiple of stride
        return self.encoder(x).transpose(1, 2)

    def quantize(self, z: torch.Tensor, feat_lengths: torch.Tensor) -> tuple[Quantized, torch.Tensor]:
        """Encoder outputs of utterances of ``feat_lengths`` frames -> (:class:`Quantized`, code lengths)."""
        code_lengths = self.code_lengths(feat_lengths)
        return self.quantizer(z, ~make_pad_mask(code_lengths, z.shape[1])), code_lengths

    def encode(self, feats: torch.Tensor, feat_lengths: torch.Tensor) -> tuple[Quantized, torch.Tensor]:
        """``feats (B, T, D)`` -> (:class:`Quantized` of ``(B, ceil(T / stride))`` codes, code lengths)."""
        return self.quantize(self.encoder_output(feats), feat_lengths)

    def speaker_loss(self, z: torch.Tensor, code_lengths: torch.Tensor,
                     spk_ids: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The adversary's cross-entropy of the speaker over the valid encoder outputs ``z`` and its
        accuracy; its gradient reaches ``z`` reversed."""
        logits = self.speaker_classifier(reverse_gradient(z))  # (B, T', S)
        valid = ~make_pad_mask(code_lengths, z.shape[1])
        logits, targets = logits[valid], spk_ids[:, None].expand_as(valid)[valid]
        ce = nn.functional.cross_entropy(logits, targets)
        return ce, (logits.argmax(-1) == targets).float().mean().item()

    def decode(self, latent: torch.Tensor, spk_ids: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``latent (B, T_z, code_dim)``, ``spk_ids (B,)`` -> reconstruction ``(B, num_frames, D)``."""
        spk = self.speaker_embedding(spk_ids)[:, :, None].expand(-1, -1, latent.shape[1])  # (B, 32, T_z)
        x = torch.cat([latent.transpose(1, 2), spk], 1)  # (B, code_dim + 32, T_z): channel axis
        return self.decoder(x)[:, :, :num_frames].transpose(1, 2)  # (B, T, D)

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Eq. (3): ``mse + codebook + gamma * commitment`` (+ ``speaker_adversary`` times the
        adversary's cross-entropy) and the statistics of the batch; in training the decoder hears
        the codes through :func:`time_jitter` when ``jitter > 0``."""
        feats, lengths = batch["feats"], batch["feat_lengths"]
        z = self.encoder_output(feats)
        q, code_lengths = self.quantize(z, lengths)
        latent = q.latent
        if self.training and self.jitter > 0:
            latent = time_jitter(latent, code_lengths, self.jitter)
        recon = self.decode(latent, batch["spk_ids"], feats.shape[1])
        valid = (~make_pad_mask(lengths, feats.shape[1])).unsqueeze(-1).to(feats.dtype)  # (B, T, 1)
        mse = ((recon - feats).pow(2) * valid).sum() / (valid.sum() * feats.shape[2]).clamp_min(1.0)
        loss = mse + q.codebook_loss + self.commitment_weight * q.commitment_loss
        counts = code_usage(q.indices, self.num_codes, ~make_pad_mask(code_lengths, q.indices.shape[1]))
        stats = {"mse": mse.item(), "codebook": q.codebook_loss.item(), "commitment": q.commitment_loss.item(),
                 "perplexity": perplexity(counts), "codes_used": float((counts > 0).sum())}
        if self.speaker_classifier is not None:
            ce, acc = self.speaker_loss(z, code_lengths, batch["spk_ids"])
            loss = loss + self.speaker_adversary * ce
            stats.update(speaker_ce=ce.item(), speaker_acc=acc)
        return loss, stats
