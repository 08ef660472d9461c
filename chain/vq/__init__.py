"""Unit discovery and inversion of the ZeroSpeech 2019 VQ-VAE paper (Tjandra et al., Interspeech 2019): the conditional
VQ-VAE (:mod:`chain.vq.vqvae`), the Code2Spec inverter and its discriminator, the K-Means and
GMM baselines, and their training tasks."""
