"""Machine stand-ins for the human evaluation of resynthesised speech (ZeroSpeech 2019).

The challenge had listeners judge the speech a system speaks back from its units in the
target voice: its intelligibility (the CER of their transcriptions), its naturalness (MOS)
and its similarity to the voice; the ZeroSpeech 2019 VQ-VAE paper reports the first two
(abstract, section 5). Here trained models, each from its own recipe, stand in for the
listeners:

- :func:`resynthesis_cer`: the CER/WER of the resynthesised wavs as recognised by an ASR
  experiment of chain.bin.asr_train; :func:`cer_by_speaker` splits it by source voice;
- :func:`voice_similarity`: mean cos(SPKEMB(resynthesised), z_voice) by a speaker encoder
  experiment of chain.bin.spk_train, z_voice the L2-normalised mean SPKEMB of the target
  voice's utterances (e.g. ``data/train_voice``).

Each model hears the wavs as its own stage 1 would have written them (chain.feats.extract
with the feature configuration of its recipe dir, ``conf/fbank.yaml`` unless given), through
its own CMVN stats; the paths of an experiment's ``config.yaml`` are read from its recipe
dir (chain.train.experiment.recipe_dir), so a model of another recipe scores as it is.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from chain.asr.recognize import load_asr, recognize
from chain.data.datadir import DataError, read_kv
from chain.data.dataset import SpeechTextDataset
from chain.feats.extract import extract_job
from chain.feats.fbank import FbankConfig
from chain.metrics.error_rate import score
from chain.spk.builder import load_speaker_encoder
from chain.spk.data import embed_dump, speaker_means
from chain.train.experiment import recipe_dir, recipe_paths
from chain.tts.evaluate import SynthCER

log = logging.getLogger(__name__)


def experiment_features(exp_dir: str | os.PathLike, fbank_conf: str | os.PathLike | None = None
                        ) -> FbankConfig:
    """The feature configuration ``exp_dir`` was trained on: ``fbank_conf``, or by default
    ``conf/fbank.yaml`` of its recipe dir."""
    path = Path(fbank_conf) if fbank_conf else recipe_dir(exp_dir) / "conf" / "fbank.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (the feature configuration {exp_dir} was "
                                "trained on; give it with --asr-fbank-conf / --spk-fbank-conf)")
    return FbankConfig.from_yaml(path)


def wav_features(data_dir: str | os.PathLike, out_dir: str | os.PathLike, cfg: FbankConfig) -> Path:
    """Log-mel of ``data_dir/wav.scp`` (+ ``segments``) in ``out_dir`` (feats.scp,
    utt2num_frames), as stage 1 of a chain recipe computes it with ``cfg``."""
    segments = Path(data_dir) / "segments"
    progress = logging.getLogger("chain.feats.extract")  # a stage 1 job's progress lines: not here
    level = progress.level
    progress.setLevel(logging.WARNING)
    try:
        summary = extract_job(Path(data_dir) / "wav.scp", out_dir, None, cfg,
                              segments=segments if segments.is_file() else None, write_linear=False)
    finally:
        progress.setLevel(level)
    log.info("%s: log-mel of %d utterances (%.1f s of audio)", data_dir, summary.utterances, summary.audio_seconds)
    return Path(out_dir)


def resynthesis_cer(asr_exp_dir: str | os.PathLike, synth_dir: str | os.PathLike, text: str | os.PathLike, *,
                    checkpoint: str = "best.pt", fbank_conf: str | os.PathLike | None = None, beam: int = 5,
                    batch_size: int = 16, device: str | torch.device = "cpu") -> SynthCER:
    """CER/WER of the speech of ``synth_dir/wav.scp`` recognised by the ASR of ``asr_exp_dir``
    (chain.asr.recognize, as stage 6 decodes), against the transcripts of ``text`` (a Kaldi
    text file holding every utterance of ``synth_dir``)."""
    cfg = experiment_features(asr_exp_dir, fbank_conf)
    model, tokenizer, stats = load_asr(asr_exp_dir, checkpoint, device,
                                       **recipe_paths(asr_exp_dir, "lang_dir", "cmvn"))
    with tempfile.TemporaryDirectory(prefix="resynth-asr.") as tmp:
        dataset = SpeechTextDataset.from_dirs(dump_dir=wav_features(synth_dir, tmp, cfg), data_dir=None,
                                              cmvn=stats)
        hyps = recognize(model, dataset, tokenizer, beam=beam, batch_size=batch_size, device=device)
    texts = read_kv(text, allow_empty_value=True)
    missing = [utt for utt in hyps if utt not in texts]
    if missing:
        raise DataError(text, f"no transcript of '{missing[0]}' ({len(missing)} utterances of {synth_dir})")
    refs = {utt: texts[utt] for utt in hyps}
    return SynthCER(score(refs, hyps), refs, hyps)


def cer_by_speaker(result: SynthCER, utt2spk: dict[str, str]) -> dict[str, float]:
    """The CER (%) of ``result`` over the utterances of each source speaker (``utt2spk``: the
    speaker who spoke the utterance the units came from), speakers in sorted order. A voice
    the inverter was trained on (the target's own test speech) against the others shows how
    speaker-independent the units are. KeyError for an utterance without a speaker."""
    utts: dict[str, list[str]] = {}
    for utt in result.hyps:
        utts.setdefault(utt2spk[utt], []).append(utt)
    return {spk: score({u: result.refs[u] for u in us}, {u: result.hyps[u] for u in us}).cer.rate
            for spk, us in sorted(utts.items())}


def voice_similarity(spk_exp_dir: str | os.PathLike, synth_dir: str | os.PathLike,
                     voice_dir: str | os.PathLike, *, checkpoint: str = "best.pt",
                     fbank_conf: str | os.PathLike | None = None, batch_size: int = 32,
                     device: str | torch.device = "cpu") -> float:
    """Mean over the utterances of ``synth_dir/wav.scp`` of cos(SPKEMB(utterance), z_voice),
    z_voice the L2-normalised mean SPKEMB of the utterances of the data dir ``voice_dir``,
    by the speaker encoder of ``spk_exp_dir`` (Eq. (21) of the machine speech chain paper)."""
    cfg = experiment_features(spk_exp_dir, fbank_conf)
    encoder, cmvn = load_speaker_encoder(spk_exp_dir, checkpoint, device, **recipe_paths(spk_exp_dir, "cmvn"))
    vectors = {}
    for name, data_dir in (("synth", synth_dir), ("voice", voice_dir)):
        with tempfile.TemporaryDirectory(prefix=f"resynth-{name}.") as tmp:
            utts, vectors[name] = embed_dump(encoder, wav_features(data_dir, tmp, cfg), cmvn,
                                             batch_size=batch_size, device=device)
    z_voice = speaker_means(utts, vectors["voice"], ["voice"] * len(utts))["voice"]  # (Z,)
    return float(np.mean(vectors["synth"] @ z_voice))  # z are unit vectors: dot = cosine
