"""Speech from text with a trained Tacotron: loading, batched generation, waveforms.

The TTS predicts CMVN-normalised log-mel and log-linear spectrograms (the targets it
was trained on); :func:`synthesize` de-normalises both, so its mel is in the domain of
``dump/<set>/feats.scp`` (an ASR reads it like real speech, through its own CMVN) and
its linear output in that of ``linear.scp``. :func:`synthesize_set` writes a Kaldi data
dir of synthetic speech (stage 7; the chain's text-only step uses :func:`synthesize`).
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

import kaldiio
import numpy as np
import torch

from chain.data.datadir import DataError, read_kv, write_kv
from chain.feats.cmvn import invert_cmvn, load_cmvn
from chain.feats.griffin_lim import log_linear_to_wav, write_wav
from chain.fileio import atomic_write
from chain.spk.builder import load_speaker_encoder
from chain.text.tokenizer import Tokenizer
from chain.text.tokenizer import load as load_tokenizer
from chain.train.checkpoint import find_checkpoint, load_weights
from chain.train.experiment import load_config
from chain.tts.builder import add_arguments, build
from chain.tts.tacotron import Tacotron

log = logging.getLogger(__name__)

WAV_PEAK = 0.99  # waveforms louder than this are scaled down to it instead of clipping


def load_tts(exp_dir: str | os.PathLike, checkpoint: str | os.PathLike = "best.pt",
             device: str | torch.device = "cpu", *, lang_dir: str | os.PathLike | None = None,
             cmvn: str | os.PathLike | None = None, cmvn_linear: str | os.PathLike | None = None,
             spk_exp_dir: str | os.PathLike | None = None, spk_cmvn: str | os.PathLike | None = None
             ) -> tuple[Tacotron, Tokenizer, np.ndarray, np.ndarray]:
    """``(model in eval mode on device, tokenizer, mel CMVN stats, linear CMVN stats)`` of a
    ``tts_train`` experiment, a multi-speaker one with its speaker encoder attached
    (``--spk-exp-dir``). Its ``config.yaml`` names the lang dir and the stats (paths
    relative to the recipe dir, the working directory of every entry point) and the speaker
    encoder's dir unless ``lang_dir``/``cmvn``/``cmvn_linear``/``spk_exp_dir`` override them
    (``spk_cmvn``: the encoder's stats, as chain.spk.builder.load_speaker_encoder's ``cmvn``).
    A checkpoint that cannot be used or does not fit raises
    :class:`chain.train.checkpoint.CheckpointError` (a ValueError)."""
    path = find_checkpoint(exp_dir, checkpoint)
    config = load_config(exp_dir, add_arguments)
    for key in ("lang_dir", "cmvn", "cmvn_linear"):
        if not hasattr(config, key):
            raise ValueError(f"{Path(exp_dir) / 'config.yaml'}: no '{key}' (not written by tts_train?)")
    tokenizer = load_tokenizer(config.lang_dir if lang_dir is None else lang_dir)
    mel_stats = load_cmvn(config.cmvn if cmvn is None else cmvn)
    linear_stats = load_cmvn(config.cmvn_linear if cmvn_linear is None else cmvn_linear)
    model = build(config, len(tokenizer), mel_stats.shape[1] - 1, linear_stats.shape[1] - 1,
                  sos_id=tokenizer.sos_id, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    load_weights(model, path, target=f"the model of {Path(exp_dir) / 'config.yaml'} with "
                 f"{len(tokenizer)} tokens, {mel_stats.shape[1] - 1} mel and "
                 f"{linear_stats.shape[1] - 1} linear dims",
                 hint="were the lang dir and the CMVN stats changed after training?")
    if getattr(config, "spk_exp_dir", ""):  # multi-speaker: the frozen encoder it was trained with
        spk_dir = config.spk_exp_dir if spk_exp_dir is None else spk_exp_dir
        model.attach_speaker_encoder(load_speaker_encoder(spk_dir, config.spk_checkpoint, cmvn=spk_cmvn)[0])
    return model.to(device).eval(), tokenizer, mel_stats, linear_stats


@dataclass
class Synthesis:
    """One generated utterance: de-normalised log-mel (T, D_mel) and log-linear (T, D_lin),
    whether it reached the length cap instead of its stop token, and the attention weights
    (ceil(T / r) decoder steps, tokens + 1 for </s>)."""

    utt: str
    mel: np.ndarray
    linear: np.ndarray
    hit_cap: bool
    attention: np.ndarray


def synthesize(model: Tacotron, texts: Mapping[str, str], tokenizer: Tokenizer, *,
               mel_stats: np.ndarray, linear_stats: np.ndarray, batch_size: int = 16,
               max_frames_per_token: float = 10.0, device: str | torch.device = "cpu",
               spk_vecs: Mapping[str, np.ndarray] | None = None) -> Iterator[Synthesis]:
    """Greedy generation (``Tacotron.generate``) of every text, in batches of up to
    ``batch_size`` texts of similar length (longest first); yields one
    :class:`Synthesis` per utterance in that order. ``spk_vecs`` (utt -> (S,)) is needed
    by a model with speaker conditioning."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1: got {batch_size}")
    if model.spk_dim and spk_vecs is None:
        raise ValueError(f"this TTS is conditioned on {model.spk_dim}-dim speaker vectors: "
                         "give spk_vecs")
    encoded = {utt: tokenizer.encode(text) for utt, text in texts.items()}
    order = sorted(encoded, key=lambda u: (-len(encoded[u]), u))
    for start in range(0, len(order), batch_size):
        utts = order[start:start + batch_size]
        lengths = torch.tensor([len(encoded[u]) for u in utts])
        tokens = torch.full((len(utts), max(int(lengths.max()), 1)), tokenizer.pad_id, dtype=torch.long)
        for i, u in enumerate(utts):
            tokens[i, :len(encoded[u])] = torch.tensor(encoded[u], dtype=torch.long)
        spk = None
        if model.spk_dim:
            spk = torch.as_tensor(np.stack([spk_vecs[u] for u in utts]), dtype=torch.float32).to(device)
        out = model.generate(tokens.to(device), lengths.to(device), spk,
                             max_frames_per_token=max_frames_per_token)
        mel = invert_cmvn(out["mel"].float(), mel_stats).cpu().numpy()  # (B, T, D_mel)
        linear = invert_cmvn(out["linear"].float(), linear_stats).cpu().numpy()  # (B, T, D_lin)
        attn = out["attn"].float().cpu().numpy()  # (B, steps, L + 1)
        for i, u in enumerate(utts):
            n = int(out["lengths"][i])
            yield Synthesis(u, mel[i, :n], linear[i, :n], bool(out["hit_cap"][i]),
                            attn[i, :math.ceil(n / model.r), :len(encoded[u]) + 1])


def to_wav(linear: np.ndarray, fbank_cfg, *, n_iter: int = 60) -> np.ndarray:
    """De-normalised log-linear (T, F) -> waveform (N,) at ``fbank_cfg.fs`` by Griffin-Lim;
    scaled down to a peak of ``WAV_PEAK`` if louder (never up)."""
    wav = log_linear_to_wav(linear, fbank_cfg, n_iter=n_iter)
    peak = float(np.abs(wav).max()) if wav.size else 0.0
    return wav * (WAV_PEAK / peak) if peak > WAV_PEAK else wav


@dataclass
class SynthesisSummary:
    """What :func:`synthesize_set` wrote: utterances, those that hit the cap, frames in all."""

    utts: int
    hit_cap: list[str]
    frames: int


def synthesize_set(model: Tacotron, tokenizer: Tokenizer, *, data_dir: str | os.PathLike,
                   out_dir: str | os.PathLike, mel_stats: np.ndarray, linear_stats: np.ndarray,
                   fbank_cfg=None, griffin_lim_iters: int = 60, batch_size: int = 16,
                   max_frames_per_token: float = 10.0, device: str | torch.device = "cpu",
                   log_every: int | None = None, spk_vecs: Mapping[str, np.ndarray] | None = None
                   ) -> SynthesisSummary:
    """Synthesise ``data_dir/text`` into the Kaldi data dir ``out_dir``.

    Writes ``feats.ark`` (de-normalised log-mel), ``utt2num_frames``, ``hit_cap`` (utts
    that reached the length cap, one per line), copies of ``text``, ``utt2spk`` and
    ``spk2utt``, and with ``fbank_cfg`` ``wav/<utt>.wav`` plus ``wav.scp``; ``feats.scp``
    is written last, so its presence marks a complete dir. Paths inside the scp files are
    ``out_dir`` as given (relative to the recipe dir). Progress is logged every
    ``log_every`` utterances (None: about ten lines; 0: none). ``spk_vecs`` (utt -> (S,)):
    the speaker vectors of a multi-speaker model (chain.tts.references).
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    text_path = data_dir / "text"
    if not text_path.is_file():
        raise DataError(text_path, "no such file (the TTS needs the text of the set)")
    texts = read_kv(text_path, allow_empty_value=True)
    if log_every is None:
        log_every = max(1, math.ceil(len(texts) / 10))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("feats.scp", "wav.scp"):  # an old marker must not vouch for new files
        (out_dir / stale).unlink(missing_ok=True)
    if fbank_cfg is not None:
        (out_dir / "wav").mkdir(exist_ok=True)
    frames, hit_cap, wavs = {}, [], {}
    unsorted_scp = out_dir / ".feats.scp.unsorted"
    with kaldiio.WriteHelper(f"ark,scp:{out_dir / 'feats.ark'},{unsorted_scp}") as writer:
        for n, syn in enumerate(synthesize(model, texts, tokenizer, mel_stats=mel_stats,
                                           linear_stats=linear_stats, batch_size=batch_size,
                                           max_frames_per_token=max_frames_per_token,
                                           device=device, spk_vecs=spk_vecs), 1):
            writer(syn.utt, syn.mel.astype(np.float32))
            frames[syn.utt] = syn.mel.shape[0]
            if syn.hit_cap:
                hit_cap.append(syn.utt)
            if fbank_cfg is not None:
                wavs[syn.utt] = out_dir / "wav" / f"{syn.utt}.wav"
                write_wav(wavs[syn.utt], to_wav(syn.linear, fbank_cfg, n_iter=griffin_lim_iters),
                          fbank_cfg.fs)
            if log_every and (n % log_every == 0 or n == len(texts)):
                log.info("synthesised %d of %d utterances (%d hit the length cap)", n, len(texts),
                         len(hit_cap))
    for name in ("text", "utt2spk", "spk2utt"):
        if (data_dir / name).is_file():
            with atomic_write(out_dir / name, "wb") as f:
                f.write((data_dir / name).read_bytes())
    write_kv(out_dir / "utt2num_frames", {u: str(t) for u, t in frames.items()})
    with atomic_write(out_dir / "hit_cap") as f:
        f.writelines(f"{u}\n" for u in sorted(hit_cap))
    if wavs:
        write_kv(out_dir / "wav.scp", {u: str(p) for u, p in wavs.items()})
    write_kv(out_dir / "feats.scp", read_kv(unsorted_scp, check_sorted=False))
    unsorted_scp.unlink()
    return SynthesisSummary(len(frames), sorted(hit_cap), sum(frames.values()))

