"""Evaluation of a trained TTS on a test set (stage 7).

Two kinds of score (section III-D3 and IV-D of the machine speech chain paper):

- teacher-forced mel L2 and stop accuracy against the real speech of the set
  (:mod:`chain.metrics.tts` defines them exactly);
- the CER/WER of the synthesised speech as recognised by a trained ASR: how intelligible
  the generated log-mel is to the model the chain feeds it to;
- mel-cepstral distortion, F0 RMSE and voicing error of the synthesised waveforms against
  the real ones, from WORLD analysis (:mod:`chain.metrics.world` defines them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import soundfile
import torch

from chain.data.datadir import DataError, read_kv
from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.data.wav import WavScpReader
from chain.feats.world import world_features
from chain.fileio import atomic_write
from chain.metrics.error_rate import Score, score
from chain.metrics.tts import TTSCounts, teacher_forced_counts
from chain.metrics.world import WorldCounts, utterance_counts
from chain.text.tokenizer import Tokenizer
from chain.tts.tacotron import Tacotron


def teacher_forced_scores(model: Tacotron, tokenizer: Tokenizer, data_dir: str | os.PathLike, *,
                          mel_stats, batch_size: int = 16, device: str | torch.device = "cpu"
                          ) -> TTSCounts:
    """Mel L2 and stop accuracy of ``model`` on ``data_dir`` (feats.scp, utt2num_frames, text),
    its log-mel normalised with the TTS's stats ``mel_stats``."""
    dataset = SpeechTextDataset.from_dirs(dump_dir=data_dir, data_dir=data_dir, tokenizer=tokenizer,
                                          cmvn=mel_stats)
    if dataset.tokens is None:
        raise DataError(Path(data_dir) / "text", "no such file (teacher forcing needs the text)")
    sampler = BucketBatchSampler(dataset.lengths, batch_size=batch_size, shuffle=False)
    loader = loader_factory(dataset, sampler, pad_id=tokenizer.pad_id)(0)
    model.eval()
    return teacher_forced_counts(model, loader, device)


@dataclass
class SynthCER:
    """CER/WER of synthetic speech; ``refs``/``hyps`` are utt -> text."""

    score: Score
    refs: dict[str, str]
    hyps: dict[str, str]


def synthetic_speech_cer(asr_exp_dir: str | os.PathLike, synth_dir: str | os.PathLike, *,
                         checkpoint: str = "best.pt", beam: int = 5, batch_size: int = 16,
                         device: str | torch.device = "cpu") -> SynthCER:
    """Recognise ``synth_dir/feats.scp`` (written by chain.bin.tts_decode, de-normalised
    log-mel) with the ASR of ``asr_exp_dir`` through the ASR's own CMVN, and score the
    hypotheses against ``synth_dir/text``."""
    from chain.asr.recognize import load_asr, recognize

    synth_dir = Path(synth_dir)
    if not (synth_dir / "feats.scp").is_file():
        raise DataError(synth_dir / "feats.scp", "no such file (run chain.bin.tts_decode first; "
                        "feats.scp is written last, when synthesis is complete)")
    model, tokenizer, stats = load_asr(asr_exp_dir, checkpoint, device)
    dataset = SpeechTextDataset.from_dirs(dump_dir=synth_dir, data_dir=None, cmvn=stats)
    hyps = recognize(model, dataset, tokenizer, beam=beam, batch_size=batch_size, device=device)
    refs = read_kv(synth_dir / "text", allow_empty_value=True)
    return SynthCER(score(refs, hyps), refs, hyps)


def world_scores(data_dir: str | os.PathLike, synth_dir: str | os.PathLike, *, mcep_order: int = 24,
                 f0_method: str = "dio") -> WorldCounts:
    """MCD, F0 RMSE and V/UV error of the waveforms of ``synth_dir/wav.scp`` (chain.bin.tts_decode)
    against the real speech of ``data_dir`` (``wav.scp``, + ``segments`` if any), both analysed
    with WORLD at the synthetic speech's sample rate (references at another rate are resampled)."""
    data_dir, synth_dir = Path(data_dir), Path(synth_dir)
    synth_scp = synth_dir / "wav.scp"
    if not synth_scp.is_file():
        raise DataError(synth_scp, "no such file (run chain.bin.tts_decode with --write-wav true, "
                        "or skip the WORLD scores with --world false)")
    first = next(iter(read_kv(synth_scp).values()))
    fs = soundfile.info(first).samplerate
    synth = {utt: world_features(wav, fs, mcep_order=mcep_order, f0_method=f0_method)
             for utt, wav in WavScpReader(synth_scp, fs=fs)}
    segments = data_dir / "segments"
    total, seen = WorldCounts(), set()
    for utt, wav in WavScpReader(data_dir / "wav.scp", segments if segments.is_file() else None, fs=fs):
        if utt in synth:
            ref = world_features(wav, fs, mcep_order=mcep_order, f0_method=f0_method)
            total += utterance_counts(synth[utt], ref)
            seen.add(utt)
    missing = sorted(set(synth) - seen)
    if missing:
        raise DataError(data_dir / "wav.scp", f"no reference speech for {len(missing)} synthesised "
                        f"utterances of {synth_scp}, e.g. '{missing[0]}'")
    return total


def write_trn(path: str | os.PathLike, table: dict[str, str], utts) -> None:
    """sclite-style ``<transcript> (<utt>)`` lines for ``utts``, atomically."""
    with atomic_write(path) as f:
        for utt in utts:
            f.write(f"{table[utt]} ({utt})\n")
