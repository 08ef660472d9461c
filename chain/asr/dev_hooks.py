"""What ASR training adds to the trainer's dev pass: CER of greedy decoding, attention figures.

Both plug into :func:`chain.train.trainer.train` (``dev_metric_fn`` and ``figures_fn``).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import torch

from chain.asr.recognize import MAX_LEN_RATIO, to_text
from chain.asr.seq2seq import Seq2SeqASR
from chain.metrics.error_rate import ErrorCounts, chars
from chain.text.tokenizer import Tokenizer
from chain.train.plots import plot_attention


@torch.no_grad()
def greedy_cer(model: Seq2SeqASR, loader: Iterable[dict], tokenizer: Tokenizer, *,
               max_len_ratio: float = MAX_LEN_RATIO) -> float:
    """CER (%) of greedy decoding over the batches of ``loader`` (they need ``tokens``).

    References are the batch tokens decoded back to text, so the CER counts characters as
    chain.metrics.error_rate does (space included).
    """
    device = next(model.parameters()).device
    counts = ErrorCounts()
    for batch in loader:
        if "tokens" not in batch:
            raise ValueError("the dev set has no text: the dev CER needs transcripts")
        hyps = model.greedy(batch["feats"].to(device), batch["feat_lengths"].to(device),
                            max_len_ratio=max_len_ratio)
        for ref_ids, n, hyp in zip(batch["tokens"].tolist(), batch["token_lengths"].tolist(), hyps):
            counts.add(chars(to_text(tokenizer, ref_ids[:n])), chars(to_text(tokenizer, hyp)))
    return counts.rate


class DevCER:
    """``dev_metric_fn`` giving ``{"cer": CER in %}`` of greedy decoding on the dev set.

    With ``every`` N > 1 the CER is computed after epochs N, 2N, ... and the last one
    (``last_epoch``); the other epochs report NaN, so they never become best.pt.
    ``first_epoch`` is the epoch of the next call (after a resume, the one after the
    checkpoint's).
    """

    def __init__(self, tokenizer: Tokenizer, *, every: int = 1, first_epoch: int = 1,
                 last_epoch: int = 0, max_len_ratio: float = MAX_LEN_RATIO) -> None:
        if every < 1:
            raise ValueError(f"--dev-cer-every must be >= 1: got {every}")
        self.tokenizer, self.every, self.last_epoch = tokenizer, every, last_epoch
        self.max_len_ratio = max_len_ratio
        self.epoch = first_epoch  # the epoch the next call belongs to

    def __call__(self, model: Seq2SeqASR, loader: Iterable[dict]) -> dict[str, float]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        if epoch % self.every != 0 and epoch != self.last_epoch:
            return {"cer": math.nan}
        return {"cer": greedy_cer(model, loader, self.tokenizer, max_len_ratio=self.max_len_ratio)}


@torch.no_grad()
def plot_attention_figures(model: Seq2SeqASR, batch: dict, out_dir: Path, *, num: int = 3) -> None:
    """``figures_fn``: teacher-forced attention weights of the first ``num`` utterances of a
    dev batch, one ``<utt>.att.png`` each (decoder steps incl. </s> x encoder frames)."""
    if "tokens" not in batch:
        return
    enc, enc_lengths = model.encode(batch["feats"], batch["feat_lengths"])  # (B, T', M), (B,)
    prev, _ = model.add_sos_eos(batch["tokens"], batch["token_lengths"])  # (B, L + 1)
    _, weights = model.decode_teacher_forced(enc, enc_lengths, prev)  # (B, L + 1, T')
    for b, utt in enumerate(batch["utt_ids"][:num]):
        steps, frames = int(batch["token_lengths"][b]) + 1, int(enc_lengths[b])
        plot_attention(weights[b, :steps, :frames], Path(out_dir) / f"{utt}.att.png",
                       title=f"{utt} (teacher forced)")
