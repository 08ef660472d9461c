"""Python API of packed models (chain.pack): recognise speech, synthesise text.

>>> from chain import Speech2Text, Text2Speech
>>> asr = Speech2Text.from_packed("asr.tar.gz", beam=5)
>>> asr("a.wav")[0].text                    # best hypothesis of a file (any sample rate)
>>> asr(samples, 22050)                     # or of an array: n-best, best first
>>> tts = Text2Speech.from_packed("tts.tar.gz")
>>> out = tts("hello there")                # out.wav at out.sample_rate, out.mel, out.attention
>>> out = tts("hello there", ref_wav="me.wav")  # a multi-speaker TTS: in the voice of me.wav

Both read features, CMVN, tokenizer and model exactly as the recipe's decoding does
(chain.asr.recognize, chain.tts.synthesize), so a packed model gives the recipe's output.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from chain.asr.beam_search import beam_search
from chain.asr.builder import add_arguments as add_asr_arguments
from chain.asr.recognize import LONG_INPUT_FACTOR, MAX_LEN_RATIO, load_asr, to_text, warn_long_inputs
from chain.corpora.folder import AUDIO_EXTENSIONS
from chain.data.wav import AudioReader
from chain.feats.cmvn import apply_cmvn
from chain.feats.extract import blas_threads
from chain.feats.fbank import Fbank, FbankConfig
from chain.pack import WEIGHTS, packed_paths, unpacked
from chain.text.normalize import normalize
from chain.train.experiment import load_config
from chain.tts.references import reference_vectors
from chain.tts.synthesize import load_tts, synthesize, to_wav

log = logging.getLogger(__name__)


@dataclass
class Hypothesis:
    """One entry of an n-best list: text, its score (log-likelihood, divided by the number of
    decoder steps when length-normalised) and its token ids."""

    text: str
    score: float
    tokens: list[int]


class Speech2Text:
    """Attention ASR of a packed model: ``__call__(speech, sample_rate)`` -> n-best list.

    ``beam`` (1: greedy), ``nbest`` (default: all ``beam`` hypotheses), ``length_normalize``
    (section III-D2 of the machine speech chain paper), ``max_len_ratio`` (output tokens per
    encoder frame at most) and ``device`` as in chain.bin.asr_recog. An input longer than
    ``long_input_factor`` times ``max_train_frames`` (the longest training utterance, recorded
    by asr_train) is decoded with a warning: cut long recordings into segments.
    """

    def __init__(self, model, tokenizer, cmvn_stats: np.ndarray, features: FbankConfig, *,
                 beam: int = 5, nbest: int | None = None, length_normalize: bool = True,
                 max_len_ratio: float = MAX_LEN_RATIO, device: str | torch.device = "cpu",
                 max_train_frames: int | None = None, long_input_factor: float = LONG_INPUT_FACTOR):
        if beam < 1 or (nbest is not None and not 1 <= nbest <= beam):
            raise ValueError(f"need beam >= 1 and 1 <= nbest <= beam: got beam {beam}, nbest {nbest}")
        self.model, self.tokenizer, self.cmvn_stats = model.to(device).eval(), tokenizer, cmvn_stats
        self.features, self.fbank = features, Fbank(features)
        self.beam, self.nbest, self.length_normalize = beam, nbest or beam, length_normalize
        self.max_len_ratio, self.device = max_len_ratio, device
        self.max_train_frames, self.long_input_factor = max_train_frames, long_input_factor

    @classmethod
    def from_packed(cls, path: str | os.PathLike, **options) -> "Speech2Text":
        """The ASR of a ``chain.bin.pack_model`` archive; ``options`` as the constructor's."""
        with unpacked(path, "asr") as (root, meta):
            model, tokenizer, stats = load_asr(root, WEIGHTS, **packed_paths(root, "asr"))
            longest = getattr(load_config(root, add_asr_arguments), "max_train_frames", None)
            return cls(model, tokenizer, stats, FbankConfig.from_dict(meta["features"], source=str(path)),
                       **{"max_train_frames": longest, **options})

    @property
    def sample_rate(self) -> int:
        return self.features.fs

    def features_of(self, speech: str | os.PathLike | np.ndarray, sample_rate: int | None = None
                    ) -> np.ndarray:
        """CMVN-normalised log-mel (T, D) of a sound file or of samples ((N,) or (N, channels)
        at ``sample_rate``); other rates are resampled, channel 0 of several is taken."""
        reader = AudioReader(self.sample_rate)
        if isinstance(speech, (str, os.PathLike)):
            samples = reader.read(os.fspath(speech))
        else:
            if sample_rate is None:
                raise ValueError("samples need their sample_rate")
            samples = np.asarray(speech, dtype=np.float32)
            samples = reader.convert(samples.reshape(len(samples), -1), int(sample_rate))
        for line in reader.warnings():
            log.info("%s", line)
        with blas_threads(1):  # as stage 1 computes them, to the last bit
            mel, _ = self.fbank(samples, linear=False)
        return apply_cmvn(mel, self.cmvn_stats).astype(np.float32)

    @torch.no_grad()
    def __call__(self, speech: str | os.PathLike | np.ndarray, sample_rate: int | None = None
                 ) -> list[Hypothesis]:
        """n-best hypotheses of one utterance, best first (empty if none ended)."""
        feats = torch.from_numpy(self.features_of(speech, sample_rate))[None].to(self.device)
        lengths = torch.tensor([feats.size(1)], device=self.device)
        if self.max_train_frames and self.long_input_factor > 0:
            name = os.fspath(speech) if isinstance(speech, (str, os.PathLike)) else "input"
            warn_long_inputs({name: feats.size(1)}, self.max_train_frames, self.long_input_factor)
        nbest = beam_search(self.model, feats, lengths, beam=self.beam, max_len_ratio=self.max_len_ratio,
                            length_normalize=self.length_normalize, nbest=self.nbest)[0]
        return [Hypothesis(to_text(self.tokenizer, ids), score, ids) for ids, score in nbest]


@dataclass
class SpeechOutput:
    """A synthesised utterance: waveform (N,) at ``sample_rate`` (Griffin-Lim), de-normalised
    log-mel (T, D_mel), attention weights (decoder steps, tokens + 1), and how it stopped:
    ``hit_cap`` True when it reached the length cap instead of its stop token."""

    wav: np.ndarray
    sample_rate: int
    mel: np.ndarray
    attention: np.ndarray
    hit_cap: bool


class Text2Speech:
    """Tacotron of a packed model: ``__call__(text, ref_wav=None)`` -> :class:`SpeechOutput`.

    The text is normalised as the paper's data (chain.text.normalize) unless ``normalize``
    is False. ``max_frames_per_token`` caps a generation, ``griffin_lim_iters`` sets the
    waveform's quality, as in chain.bin.tts_decode.
    """

    def __init__(self, model, tokenizer, mel_stats: np.ndarray, linear_stats: np.ndarray,
                 features: FbankConfig, *, max_frames_per_token: float = 10.0,
                 griffin_lim_iters: int = 60, normalize: bool = True,
                 device: str | torch.device = "cpu"):
        self.model, self.tokenizer = model.to(device).eval(), tokenizer
        self.mel_stats, self.linear_stats, self.features = mel_stats, linear_stats, features
        self.max_frames_per_token, self.griffin_lim_iters = max_frames_per_token, griffin_lim_iters
        self.normalize, self.device = normalize, device

    @classmethod
    def from_packed(cls, path: str | os.PathLike, **options) -> "Text2Speech":
        """The TTS of a ``chain.bin.pack_model`` archive; ``options`` as the constructor's."""
        with unpacked(path, "tts") as (root, meta):
            model, tokenizer, mel_stats, linear_stats = load_tts(root, WEIGHTS, **packed_paths(root, "tts"))
            return cls(model, tokenizer, mel_stats, linear_stats,
                       FbankConfig.from_dict(meta["features"], source=str(path)), **options)

    @property
    def sample_rate(self) -> int:
        return self.features.fs

    def speaker_vector(self, ref_wav: str | os.PathLike | None) -> np.ndarray | None:
        """z (S,) = SPKEMB(ref_wav), a sound file of any sample rate, by the speaker encoder of a
        multi-speaker TTS, which needs one; None for a single-speaker TTS, which refuses one."""
        if not self.model.spk_dim:
            if ref_wav is not None:
                raise ValueError(f"ref_wav {ref_wav}: this TTS is single-speaker (no speaker "
                                 "conditioning); synthesise without ref_wav")
            return None
        if ref_wav is None:
            raise ValueError("this TTS is multi-speaker: give a recording of the voice to speak in "
                             "(ref_wav; chain-synthesize --ref-wav)")
        if Path(ref_wav).suffix.lower() not in AUDIO_EXTENSIONS:
            raise ValueError(f"ref_wav {ref_wav}: not a sound file ({', '.join(AUDIO_EXTENSIONS)})")
        return reference_vectors(self.model, {"ref": os.fspath(ref_wav)}, mel_stats=self.mel_stats,
                                 fbank_cfg=self.features, device=self.device)["ref"]

    def __call__(self, text: str, ref_wav: str | os.PathLike | None = None, *,
                 spk_vec: np.ndarray | None = None) -> SpeechOutput:
        """Speech of ``text``; a multi-speaker TTS speaks in the voice of ``ref_wav`` (one
        recording, as :meth:`speaker_vector`) or of ``spk_vec``, a z it returned (one voice
        for many texts)."""
        if spk_vec is None:
            spk_vec = self.speaker_vector(ref_wav)
        elif ref_wav is not None or not self.model.spk_dim:
            raise ValueError("spk_vec is for a multi-speaker TTS, instead of ref_wav: give one of them")
        if self.normalize:
            text = normalize(text)
        unknown = self.tokenizer.unknown_chars(text)
        if unknown:
            log.warning("%d characters the model cannot spell, read as <unk>: %s", len(unknown),
                        " ".join(sorted(set(unknown))))
        if not text.strip():
            raise ValueError("empty text: nothing to synthesise")
        syn = next(synthesize(self.model, {"text": text}, self.tokenizer, mel_stats=self.mel_stats,
                              linear_stats=self.linear_stats, batch_size=1, device=self.device,
                              max_frames_per_token=self.max_frames_per_token,
                              spk_vecs=None if spk_vec is None else {"text": spk_vec}))
        wav = to_wav(syn.linear, self.features, n_iter=self.griffin_lim_iters)
        return SpeechOutput(wav, self.sample_rate, syn.mel, syn.attention, syn.hit_cap)


__all__ = ["Hypothesis", "Speech2Text", "SpeechOutput", "Text2Speech"]
