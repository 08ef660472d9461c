"""Load a trained ASR and transcribe a dataset (stage 6; also the CER of synthetic speech).

A training run's dir (``exp/asr_*``, written by chain.bin.asr_train) holds ``config.yaml``
(every option, so the same model is rebuilt) and the trainer's weights: ``best.pt``,
``avg<N>.pt`` and ``checkpoints/epoch<N>.pt``. The tokenizer and the CMVN stats are those
``config.yaml`` names (``lang_dir``, ``cmvn``; paths relative to the recipe dir) unless
overridden. Decoding is beam search with length-normalised scores (section III-D2 of the
machine speech chain paper, chain.asr.beam_search); beam 1 is greedy decoding.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from chain.asr.beam_search import beam_search
from chain.asr.builder import add_arguments, build
from chain.asr.seq2seq import Seq2SeqASR
from chain.data.collate import collate
from chain.data.datadir import read_kv
from chain.feats.cmvn import load_cmvn
from chain.fileio import atomic_write
from chain.text.tokenizer import Tokenizer
from chain.text.tokenizer import load as load_tokenizer
from chain.train.checkpoint import find_checkpoint, load_weights
from chain.train.experiment import load_config
from chain.train.report import progress, progress_enabled

log = logging.getLogger(__name__)

FRAME_SHIFT_MS = 12.5  # the paper's frame shift (section III-D1), used by every recipe
# Output cap: tokens per encoder frame. Speech at 1/8 subsampling (10 encoder frames/s) runs
# up to ~2.4 characters per encoder frame (espeak-ng, 18 chars/s); LJSpeech ~1.5.
MAX_LEN_RATIO = 3.0
# Inputs longer than this many times the longest training utterance get a warning: attention
# decoding degrades on lengths it never saw (it loops or stops early).
LONG_INPUT_FACTOR = 1.5


def load_asr(exp_dir: str | os.PathLike, checkpoint: str = "best.pt",
             device: str | torch.device = "cpu", *, lang_dir: str | os.PathLike | None = None,
             cmvn: str | os.PathLike | None = None) -> tuple[Seq2SeqASR, Tokenizer, np.ndarray]:
    """The ASR of a training run: ``(model in eval mode on device, tokenizer, CMVN stats)``.

    ``lang_dir``/``cmvn`` override the paths in ``exp_dir/config.yaml``. The feature dims
    come from the CMVN stats (the model was trained on features they normalise) and the
    vocabulary from the tokenizer; a checkpoint that cannot be used or does not fit raises
    :class:`chain.train.checkpoint.CheckpointError` (a ValueError).
    """
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise FileNotFoundError(f"{exp_dir}: no such experiment dir (train one with "
                                "chain.bin.asr_train, stage 3)")
    config = load_config(exp_dir, add_arguments)
    path = find_checkpoint(exp_dir, checkpoint)
    tokenizer = load_tokenizer(lang_dir if lang_dir is not None else config.lang_dir)
    stats = load_cmvn(cmvn if cmvn is not None else config.cmvn)
    model = build(config, len(tokenizer), stats.shape[1] - 1)
    load_weights(model, path, target=f"the model of {exp_dir / 'config.yaml'} with "
                 f"{len(tokenizer)} tokens and {stats.shape[1] - 1} feature dims",
                 hint="were --lang-dir/--cmvn those of training?")
    log.info("loaded %s (%s, %.2fM parameters)", path, type(model).__name__,
             sum(p.numel() for p in model.parameters()) / 1e6)
    return model.to(device).eval(), tokenizer, stats


def longest_training_input(exp_dir: str | os.PathLike) -> int | None:
    """Frames of the longest training utterance of an ASR experiment: ``max_train_frames`` of
    its ``config.yaml`` where recorded, else the largest entry of ``<train_dir>/utt2num_frames``
    of that config (relative to the recipe dir); None when neither is there."""
    config = load_config(exp_dir, add_arguments)
    if getattr(config, "max_train_frames", None):
        return int(config.max_train_frames)
    path = Path(getattr(config, "train_dir", None) or "") / "utt2num_frames"
    if not path.is_file():
        return None
    return max(int(frames) for frames in read_kv(path, check_sorted=False).values())


def warn_long_inputs(lengths: dict[str, int], longest: int, factor: float = LONG_INPUT_FACTOR) -> int:
    """Log one warning per utterance of ``lengths`` (utt -> frames) longer than ``factor``
    times ``longest`` (the longest training utterance); return how many there were."""
    long = [(utt, frames) for utt, frames in lengths.items() if frames > factor * longest]
    for utt, frames in long:
        log.warning("utterance '%s': %d frames, %.1f times the longest training utterance (%d frames): "
                    "the transcription may loop or stop early; cut long recordings into segments "
                    "(README, 'Long recordings')", utt, frames, frames / longest, longest)
    return len(long)


@torch.no_grad()
def decode_batch(model: Seq2SeqASR, feats: torch.Tensor, feat_lengths: torch.Tensor, *,
                 beam: int = 5, max_len_ratio: float = MAX_LEN_RATIO) -> list[list[int]]:
    """feats (B, T, D), feat_lengths (B,) -> best token ids per utterance (no <s>/</s>).

    Beam 1 is ``model.greedy`` (the same result as a beam of 1, faster); otherwise the best
    hypothesis of ``beam_search``.
    """
    if beam == 1:
        return model.greedy(feats, feat_lengths, max_len_ratio=max_len_ratio)
    nbest = beam_search(model, feats, feat_lengths, beam=beam, max_len_ratio=max_len_ratio, nbest=1)
    return [hyps[0][0] if hyps else [] for hyps in nbest]


def to_text(tokenizer: Tokenizer, ids: Sequence[int]) -> str:
    """Transcript of token ids with single spaces between words (what Kaldi text holds)."""
    return " ".join(tokenizer.decode(ids).split())


def recognize(model: Seq2SeqASR, dataset, tokenizer: Tokenizer, *, beam: int = 5,
              batch_size: int = 16, max_len_ratio: float = MAX_LEN_RATIO,
              device: str | torch.device = "cpu", utts: Sequence[str] | None = None,
              frame_shift_ms: float = FRAME_SHIFT_MS) -> dict[str, str]:
    """Transcribe ``dataset`` (a :class:`chain.data.dataset.SpeechTextDataset` with CMVN-
    normalised ``feats``): ``{utt: text}`` in dataset order (empty text allowed).

    Utterances are decoded in batches of ``batch_size`` sorted by length (little padding);
    ``utts`` restricts decoding to those keys. ``max_len_ratio`` caps the output at that many
    tokens per encoder frame. Shows progress and logs a summary with the real-time factor
    (audio seconds from frames x ``frame_shift_ms``).
    """
    if beam < 1 or batch_size < 1:
        raise ValueError(f"beam and batch_size must be >= 1: got {beam}, {batch_size}")
    if not getattr(dataset, "has_feats", True):
        raise ValueError("the dataset has no features to recognise (a text-only set?)")
    index = {key: i for i, key in enumerate(dataset.keys)}
    if utts is None:
        chosen = list(range(len(dataset)))
    else:
        unknown = [u for u in utts if u not in index]
        if unknown:
            raise ValueError(f"{len(unknown)} utterances are not in the dataset, "
                             f"e.g. '{unknown[0]}'")
        chosen = sorted({index[u] for u in utts})
    lengths = dataset.lengths
    order = sorted(chosen, key=lambda i: (-lengths[i], i))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    hyps: dict[str, str] = {}
    start = time.time()
    was_training = model.training
    model.eval()
    show = progress_enabled(True)
    try:
        for n, batch_index in enumerate(progress(batches, desc="recognize", enabled=show), 1):
            batch = collate([dataset[i] for i in batch_index], pad_id=tokenizer.pad_id)
            ids = decode_batch(model, batch["feats"].to(device), batch["feat_lengths"].to(device),
                               beam=beam, max_len_ratio=max_len_ratio)
            hyps.update((utt, to_text(tokenizer, h)) for utt, h in zip(batch["utt_ids"], ids))
            if not show and (n % max(1, len(batches) // 10) == 0 or n == len(batches)):
                log.info("recognize: %d of %d utterances, %.1f s", len(hyps), len(order),
                         time.time() - start)
    finally:
        model.train(was_training)
    wall = time.time() - start
    audio = sum(lengths[i] for i in chosen) * frame_shift_ms / 1000.0
    log.info("recognized %d utterances (%.1f s of audio) in %.1f s: real-time factor %.3f "
             "(beam %d, batch %d)", len(chosen), audio, wall, wall / max(audio, 1e-9), beam,
             batch_size)
    return {dataset.keys[i]: hyps[dataset.keys[i]] for i in chosen}


def write_hyps(path: str | os.PathLike, hyps: dict[str, str]) -> None:
    """Kaldi text file ``<utt> <text>`` sorted by utterance (byte order), atomically; an
    empty hypothesis is a line with the utterance id alone."""
    with atomic_write(path) as f:
        for utt in sorted(hyps, key=str.encode):
            f.write(f"{utt} {hyps[utt]}".rstrip() + "\n")
