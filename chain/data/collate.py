"""Pad per-utterance dicts into the batch dict every model reads.

Items come from :class:`chain.data.dataset.SpeechTextDataset`; the batch holds

- ``utt_ids``: list[str];
- ``feats (B, T, D)`` float32 padded with 0, ``feat_lengths (B,)`` int64;
- ``linear (B, T, n_lin)`` float32 padded with 0 (same lengths as ``feats``);
- ``tokens (B, L)`` int64 padded with ``pad_id``, ``token_lengths (B,)`` int64;
- ``spk_vecs (B, S)`` float32;
- ``speakers (B,)`` int64 speaker class ids (speaker encoder training).

A key is in the batch only if every item has it (speech-only sets have no tokens,
text-only sets no feats). Masks are not stored: models build them from the lengths.
"""
from __future__ import annotations

from typing import Sequence

import torch


def pad_sequences(seqs: Sequence[torch.Tensor], value: float | int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``(T_i, ...)`` tensors into ``(B, T_max, ...)`` filled with ``value``; lengths ``(B,)``."""
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)
    out = seqs[0].new_full((len(seqs), int(lengths.max()), *seqs[0].shape[1:]), value)
    for i, s in enumerate(seqs):
        out[i, :s.shape[0]] = s
    return out, lengths


def collate(items: Sequence[dict], *, pad_id: int = 0) -> dict:
    """Batch dict (see module docstring) from items of :class:`SpeechTextDataset`."""
    if not items:
        raise ValueError("collate got an empty batch (check the batch sampler)")
    keys = set(items[0])
    for item in items[1:]:
        if set(item) != keys:
            raise ValueError(f"items of one batch differ in keys: '{items[0]['utt_id']}' has "
                             f"{sorted(keys)}, '{item['utt_id']}' has {sorted(item)}")
    batch: dict = {"utt_ids": [item["utt_id"] for item in items]}
    if "feats" in keys:
        batch["feats"], batch["feat_lengths"] = pad_sequences([it["feats"] for it in items], 0.0)
    if "linear" in keys:
        batch["linear"], linear_lengths = pad_sequences([it["linear"] for it in items], 0.0)
        if "feats" in keys and not torch.equal(linear_lengths, batch["feat_lengths"]):
            bad = int((linear_lengths != batch["feat_lengths"]).nonzero()[0, 0])
            raise ValueError(f"'{items[bad]['utt_id']}': linear has {int(linear_lengths[bad])} "
                             f"frames, feats {int(batch['feat_lengths'][bad])} (re-run stage 1)")
    if "tokens" in keys:
        batch["tokens"], batch["token_lengths"] = pad_sequences([it["tokens"] for it in items], pad_id)
    if "spk_vec" in keys:
        batch["spk_vecs"] = torch.stack([it["spk_vec"] for it in items])  # (B, S)
    if "speaker" in keys:
        batch["speakers"] = torch.tensor([int(it["speaker"]) for it in items], dtype=torch.int64)
    return batch
