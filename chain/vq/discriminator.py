"""Spectrogram discriminator of the Code2Spec inverter and the adversarial losses
(Eq. (7), (8) of the ZeroSpeech 2019 VQ-VAE paper): LSGAN (the paper's choice, with
beta 1) or WGAN (weights clipped to ``[-c, c]`` before every update)."""
from __future__ import annotations

import torch
from torch import nn

GAN_TYPES = ("lsgan", "wgan")


class SpectrogramDiscriminator(nn.Module):
    """``(B, T, F)`` spectrogram -> ``(B, T)`` per-frame realness scores (1-D convolutions
    along time with LeakyReLU; no normalisation, so a frame's score never depends on the batch)."""

    def __init__(self, *, in_dim: int, channels: int = 256, layers: int = 3, kernel_size: int = 5,
                 slope: float = 0.2) -> None:
        super().__init__()
        if layers < 1 or kernel_size % 2 == 0:
            raise ValueError(f"discriminator needs layers >= 1 and an odd kernel: got {layers}, {kernel_size}")
        convs = []
        for k in range(layers):
            convs += [nn.Conv1d(in_dim if k == 0 else channels, channels, kernel_size, padding=kernel_size // 2),
                      nn.LeakyReLU(slope)]
        self.body = nn.Sequential(*convs, nn.Conv1d(channels, 1, 1))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.body(spec.transpose(1, 2)).squeeze(1)  # (B, T)


def _mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    w = mask.to(x.dtype)
    return (x * w).sum() / w.sum().clamp_min(1.0)


def generator_loss(fake_scores: torch.Tensor, mask: torch.Tensor, gan_type: str) -> torch.Tensor:
    """Eq. (7): ``-D(M_hat)`` (WGAN) or ``(D(M_hat) - 1)^2`` (LSGAN), mean over valid frames."""
    if gan_type == "lsgan":
        return _mean((fake_scores - 1).pow(2), mask)
    if gan_type == "wgan":
        return -_mean(fake_scores, mask)
    raise ValueError(f"gan_type must be one of {', '.join(GAN_TYPES)}: got '{gan_type}'")


def discriminator_loss(fake_scores: torch.Tensor, real_scores: torch.Tensor, mask: torch.Tensor,
                       gan_type: str) -> torch.Tensor:
    """Eq. (8): ``D(M_hat) - D(M)`` (WGAN) or ``D(M_hat)^2 + (D(M) - 1)^2`` (LSGAN)."""
    if gan_type == "lsgan":
        return _mean(fake_scores.pow(2), mask) + _mean((real_scores - 1).pow(2), mask)
    if gan_type == "wgan":
        return _mean(fake_scores, mask) - _mean(real_scores, mask)
    raise ValueError(f"gan_type must be one of {', '.join(GAN_TYPES)}: got '{gan_type}'")
