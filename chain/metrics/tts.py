"""Objective TTS scores: mel L2 and stop-token accuracy, teacher-forced over a set.

Mel L2 (Tables II and IV of the machine speech chain paper: "L2-norm squared between
the predicted and ground truth log Mel-spectrogram"). The paper does not spell out the
normalisation; here it is exactly

    mel_l2 = sum_u sum_{t < T_u} ||x^M_{u,t} - x_hat^M_{u,t}||^2  /  (D * sum_u T_u)

over the utterances u of the set, with x^M the CMVN-normalised log-mel of frame t
(as the TTS is trained on), x_hat^M the TTS output teacher-forced on the reference
frames (``Tacotron.teacher_forced``), T_u the utterance's frames and D the mel bins:
the mean squared error per valid frame and bin, pooled over the whole set (not a mean
of per-utterance means). It is the ``mel_l2`` term of the training loss (Eq. 14)
computed over a set. ``D * mel_l2`` is the mean squared norm per frame.

Stop accuracy: the share of frames whose end-of-speech decision (stop probability
> 0.5) matches the target, teacher-forced. Frames counted are those of the stop loss:
t < r * ceil(T_u / r) (the decoder steps the utterance spans), target 1 from the last
valid frame T_u - 1 on, 0 before it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch

from chain.nets.masks import make_non_pad_mask


@dataclass
class TTSCounts:
    """Sums behind the scores; add them over batches, then read the rates."""

    sq_error: float = 0.0     # sum of squared mel errors over valid frames and bins
    mel_values: int = 0       # valid frames x mel bins
    stop_correct: int = 0     # frames whose stop decision is right
    stop_frames: int = 0      # frames scored for the stop decision
    utts: int = 0

    def __iadd__(self, other: "TTSCounts") -> "TTSCounts":
        self.sq_error += other.sq_error
        self.mel_values += other.mel_values
        self.stop_correct += other.stop_correct
        self.stop_frames += other.stop_frames
        self.utts += other.utts
        return self

    @property
    def mel_l2(self) -> float:
        """Mean squared error per valid frame and bin (see the module docstring)."""
        return self.sq_error / max(self.mel_values, 1)

    @property
    def stop_acc(self) -> float:
        """Share of scored frames with the right stop decision, in [0, 1]."""
        return self.stop_correct / max(self.stop_frames, 1)

    def as_dict(self) -> dict[str, float]:
        return {"mel_l2": self.mel_l2, "stop_acc": self.stop_acc}


def batch_counts(out: dict[str, torch.Tensor], feats: torch.Tensor, feat_lengths: torch.Tensor,
                 reduction_factor: int) -> TTSCounts:
    """Counts of one teacher-forced batch.

    out: ``Tacotron.teacher_forced`` output (mel (B, T_pad, D), stop_logits (B, T_pad));
    feats (B, T, D) normalised reference log-mel; feat_lengths (B,).
    """
    mel, stop_logits = out["mel"].float(), out["stop_logits"].float()
    t_pad, r = mel.size(1), reduction_factor
    lengths = feat_lengths.to(mel.device)
    target = torch.nn.functional.pad(feats.float(), (0, 0, 0, t_pad - feats.size(1)))  # (B, T_pad, D)
    valid = make_non_pad_mask(lengths, t_pad)  # (B, T_pad)
    sq_error = torch.where(valid[:, :, None], mel - target, mel.new_zeros(())).pow(2).sum()
    group_end = torch.div(lengths + r - 1, r, rounding_mode="floor") * r  # (B,)
    scored = make_non_pad_mask(group_end, t_pad)  # (B, T_pad)
    stop_target = torch.arange(t_pad, device=mel.device)[None, :] >= lengths[:, None] - 1
    correct = ((stop_logits > 0) == stop_target) & scored
    return TTSCounts(sq_error=float(sq_error), mel_values=int(valid.sum()) * mel.size(2),
                     stop_correct=int(correct.sum()), stop_frames=int(scored.sum()),
                     utts=int(feats.size(0)))


@torch.no_grad()
def teacher_forced_counts(model, batches: Iterable[dict], device: torch.device | str = "cpu"
                          ) -> TTSCounts:
    """Mel L2 and stop-accuracy counts of ``model`` (a Tacotron) over batches of the
    trainer's collate (feats normalised, tokens, lengths, optional spk_vecs). The
    model's mode is left as it was; call ``eval()`` first for deterministic scores."""
    total = TTSCounts()
    for batch in batches:
        feats, feat_lengths = batch["feats"].to(device), batch["feat_lengths"].to(device)
        spk = batch.get("spk_vecs") if model.spk_dim else None
        out = model.teacher_forced(batch["tokens"].to(device), batch["token_lengths"].to(device),
                                   feats, feat_lengths, None if spk is None else spk.to(device))
        total += batch_counts(out, feats, feat_lengths, model.r)
    return total
