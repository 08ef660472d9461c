"""One-shot speaker references of a multi-speaker TTS (section IV-C of the paper).

The TTS speaks text in the voice of a single reference utterance: z = SPKEMB(x_ref) by
the frozen speaker encoder attached to it. A reference is a sound file (``.wav``/``.flac``,
any sample rate: its log-mel is computed with the recipe's feature configuration) or a
feature matrix (a ``feats.scp`` value such as ``dump/test/feats.ark:1234``, un-normalised
log-mel as stage 1 writes it). By default each utterance of a set takes its own
speaker's first other utterance of the set (itself when the speaker has only one).
:func:`one_shot_similarity` scores a synthesised set: the mean cosine of
SPKEMB(synthesised) and SPKEMB(reference).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import kaldiio
import numpy as np
import torch

from chain.corpora.folder import AUDIO_EXTENSIONS
from chain.data.datadir import DataError, read_kv
from chain.data.wav import AudioReader
from chain.feats.cmvn import apply_cmvn
from chain.feats.fbank import Fbank, FbankConfig
from chain.spk.data import utt2spk_of


def default_references(dump_dir: str | os.PathLike, utts: list[str]) -> dict[str, str]:
    """utt -> reference utt: the first other utterance (sorted) of its speaker in ``dump_dir``."""
    feats = read_kv(Path(dump_dir) / "feats.scp")
    speakers = dict(zip(feats, utt2spk_of(dump_dir, list(feats))))
    by_speaker: dict[str, list[str]] = {}
    for utt in sorted(feats):
        by_speaker.setdefault(speakers[utt], []).append(utt)
    refs = {}
    for utt in utts:
        if utt not in speakers:
            raise DataError(Path(dump_dir) / "feats.scp", f"no features of '{utt}' (its speaker's reference)")
        others = [u for u in by_speaker[speakers[utt]] if u != utt]
        refs[utt] = others[0] if others else utt
    return refs


def load_reference(value: str, fbank_cfg: FbankConfig | None) -> np.ndarray:
    """Un-normalised log-mel (T, D) of a reference: a sound file or a feats.scp value."""
    if Path(value).suffix.lower() in AUDIO_EXTENSIONS:
        if fbank_cfg is None:
            raise ValueError(f"reference {value} is audio: give the feature configuration (--fbank-conf)")
        mel, _ = Fbank(fbank_cfg)(AudioReader(fbank_cfg.fs).read(value), linear=False)
        return mel
    return kaldiio.load_mat(value)


@torch.no_grad()
def reference_vectors(model, refs: Mapping[str, str], *, mel_stats: np.ndarray,
                      fbank_cfg: FbankConfig | None = None, device: str | torch.device = "cpu"
                      ) -> dict[str, np.ndarray]:
    """utt -> z (S,) = SPKEMB(reference of utt), by the speaker encoder attached to ``model``
    (each distinct reference embedded once)."""
    if model.speaker_encoder is None:
        raise ValueError("this TTS has no speaker encoder: it was trained single-speaker (no --spk-exp-dir)")
    vectors: dict[str, np.ndarray] = {}
    for value in sorted(set(refs.values())):
        mel = apply_cmvn(load_reference(value, fbank_cfg).astype(np.float32), mel_stats)
        feats = torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))[None].to(device)
        z = model.speaker_vectors(feats, torch.tensor([feats.size(1)], device=device))
        vectors[value] = z[0].float().cpu().numpy()
    return {utt: vectors[value] for utt, value in refs.items()}


@torch.no_grad()
def one_shot_similarity(model, synth_dir: str | os.PathLike, data_dir: str | os.PathLike, *,
                        mel_stats: np.ndarray, fbank_cfg: FbankConfig | None = None,
                        device: str | torch.device = "cpu") -> tuple[float, int]:
    """``(mean over utterances of cos(SPKEMB(synthesised), SPKEMB(reference)), utterances)`` of a
    ``tts_decode`` output dir: its ``feats.scp`` and ``ref`` (utt -> an utterance of
    ``data_dir`` or a reference value), by the speaker encoder attached to ``model``."""
    synth = read_kv(Path(synth_dir) / "feats.scp")
    refs = read_kv(Path(synth_dir) / "ref")
    feats = read_kv(Path(data_dir) / "feats.scp")
    missing = [u for u in synth if u not in refs]
    if missing:
        raise DataError(Path(synth_dir) / "ref", f"no reference for '{missing[0]}' ({len(missing)} utterances)")
    z_ref = reference_vectors(model, {u: feats.get(refs[u], refs[u]) for u in synth}, mel_stats=mel_stats,
                              fbank_cfg=fbank_cfg, device=device)
    z_syn = reference_vectors(model, synth, mel_stats=mel_stats, device=device)
    cosines = [float(np.dot(z_syn[u], z_ref[u])) for u in synth]  # unit vectors (Eq. 21)
    return float(np.mean(cosines)) if cosines else float("nan"), len(cosines)
