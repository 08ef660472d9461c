"""Per-epoch TTS figures of a few dev utterances (the trainer's ``figures_fn``).

For each of the first ``n`` utterances of the first dev batch, in ``figures/epoch<N>/``:

- ``<utt>.attn.png``: teacher-forced attention (decoder steps x characters + ``</s>``);
- ``<utt>.mel.png``: teacher-forced mel above the target (normalised log-mel);
- ``<utt>.gen_attn.png`` and ``<utt>.gen_mel.png``: the same for free-running generation,
  the mode that shows skipping, repeating or never stopping.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from chain.train.plots import plot_attention, plot_spectrogram


@torch.no_grad()
def draw_tts_figures(model, batch: dict, out_dir: Path, *, n: int = 3,
                     max_frames_per_token: float = 10.0) -> None:
    """Draw the figures above for ``batch`` (the trainer's collate, on the model's device)."""
    n = min(n, len(batch["utt_ids"]))
    if n == 0:
        return
    tokens, token_lengths = batch["tokens"][:n], batch["token_lengths"][:n]
    feats, feat_lengths = batch["feats"][:n], batch["feat_lengths"][:n]
    spk = batch.get("spk_vecs")
    spk = spk[:n] if spk is not None and model.spk_dim else None
    if model.spk_dim and spk is None:  # multi-speaker: the voice of the utterance itself
        spk = model.speaker_vectors(feats, feat_lengths)
    forced = model.teacher_forced(tokens, token_lengths, feats, feat_lengths, spk)
    generated = model.generate(tokens, token_lengths, spk, max_frames_per_token=max_frames_per_token)
    out_dir = Path(out_dir)
    for i, utt in enumerate(batch["utt_ids"][:n]):
        chars, frames = int(token_lengths[i]) + 1, int(feat_lengths[i])
        steps = math.ceil(frames / model.r)
        plot_attention(forced["attn"][i, :steps, :chars], out_dir / f"{utt}.attn.png",
                       title=f"{utt}, teacher-forced")
        plot_spectrogram(forced["mel"][i, :frames], feats[i, :frames], out_dir / f"{utt}.mel.png",
                         title=f"{utt}, teacher-forced:")
        gen_frames = int(generated["lengths"][i])
        plot_attention(generated["attn"][i, :math.ceil(gen_frames / model.r), :chars],
                       out_dir / f"{utt}.gen_attn.png",
                       title=f"{utt}, free-running" + (" (hit the length cap)" if generated["hit_cap"][i] else ""))
        plot_spectrogram(generated["mel"][i, :gen_frames], feats[i, :frames], out_dir / f"{utt}.gen_mel.png",
                         title=f"{utt}, free-running:")
