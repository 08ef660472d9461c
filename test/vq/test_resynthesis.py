"""Machine listeners of resynthesised speech (chain.vq.resynthesis): models of another recipe
hear wavs as their own stage 1 would have, so the original test speech scores as it does
in that recipe."""
import logging
import os
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import yaml

from chain.asr.recognize import load_asr, recognize
from chain.bin import zs_eval
from chain.data.datadir import read_kv
from chain.data.dataset import SpeechTextDataset
from chain.metrics.error_rate import score
from chain.spk.builder import load_speaker_encoder
from chain.spk.data import embed_dump
from chain.train.experiment import recipe_dir, recipe_paths
from chain.vq.resynthesis import experiment_features, resynthesis_cer, voice_similarity, wav_features


def test_cer_of_the_original_speech_is_that_of_stage_6(espeak_recipe, listeners, monkeypatch, tmp_path):
    """The test set's own wavs as the 'resynthesis': the ASR hears the features of its stage 1,
    to the last bit, and the CER is its CER on dump/test."""
    monkeypatch.chdir(espeak_recipe)  # its wav.scp and scp files are relative to it
    asr = listeners / "exp" / "asr"
    heard = kaldiio.load_scp(str(wav_features("data/test", tmp_path, experiment_features(asr)) / "feats.scp"))
    stage1 = kaldiio.load_scp("dump/test/feats.scp")
    assert heard.keys() == stage1.keys() and all(np.array_equal(heard[u], stage1[u]) for u in stage1)
    got = resynthesis_cer(asr, "data/test", "data/test/text", beam=2, batch_size=4)
    model, tokenizer, stats = load_asr(asr, lang_dir=listeners / "data/lang", cmvn=listeners / "data/cmvn.ark")
    dataset = SpeechTextDataset.from_dirs(dump_dir="dump/test", data_dir=None, cmvn=stats)
    hyps = recognize(model, dataset, tokenizer, beam=2, batch_size=4)
    expected = score(read_kv("data/test/text"), hyps)
    assert got.hyps == hyps and got.refs == read_kv("data/test/text")
    assert got.score.cer.rate == expected.cer.rate and got.score.wer.rate == expected.wer.rate


def test_similarity_is_the_cosine_to_the_mean_voice_vector(espeak_recipe, listeners, monkeypatch):
    monkeypatch.chdir(espeak_recipe)
    spk = listeners / "exp" / "spk"
    got = voice_similarity(spk, "data/test", "data/dev")
    encoder, cmvn = load_speaker_encoder(spk, cmvn=listeners / "data/cmvn.ark")
    _, test = embed_dump(encoder, "dump/test", cmvn)
    _, voice = embed_dump(encoder, "dump/dev", cmvn)
    mean = voice.mean(0) / np.linalg.norm(voice.mean(0))
    assert got == pytest.approx(float(np.mean(test @ mean)), abs=1e-5)
    assert -1 <= got <= 1


def test_recipe_dir_of_an_experiment(listeners, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    asr = os.path.relpath(listeners / "exp" / "asr")
    assert recipe_dir(asr).resolve() == listeners.resolve()
    assert recipe_paths(asr, "cmvn")["cmvn"].resolve() == (listeners / "data/cmvn.ark").resolve()
    moved = tmp_path / "runs" / "asr_renamed"
    moved.mkdir(parents=True)
    (moved / "config.yaml").write_text(yaml.safe_dump({"exp_dir": "exp/asr", "cmvn": "data/cmvn.ark"}))
    with pytest.raises(ValueError, match="recipe dir its relative paths start from is unknown"):
        recipe_paths(moved, "cmvn")
    (moved / "config.yaml").write_text(yaml.safe_dump({"exp_dir": str(moved), "cmvn": "/abs/cmvn.ark"}))
    assert recipe_paths(moved, "cmvn") == {"cmvn": Path("/abs/cmvn.ark")}  # no recipe dir needed


def test_zs_eval_skips_the_cer_without_transcripts(listeners, tmp_path, caplog):
    args = zs_eval.get_parser().parse_args([
        "--units-dir", "u", "--item-file", "i", "--utt2dur", "d", "--synth-dir", str(tmp_path),
        "--text", str(tmp_path / "text"), "--asr-exp-dir", str(listeners / "exp" / "asr")])
    with caplog.at_level(logging.INFO):
        assert zs_eval.resynthesis_scores(args) == {"resynth_dir": str(tmp_path)}
    assert "the CER of" in caplog.text and "is skipped" in caplog.text
    with pytest.raises(ValueError, match="--voice-dir"):
        zs_eval.resynthesis_scores(zs_eval.get_parser().parse_args([
            "--units-dir", "u", "--item-file", "i", "--utt2dur", "d", "--synth-dir", "s", "--spk-exp-dir", "x"]))
    with pytest.raises(ValueError, match="give --synth-dir"):
        zs_eval.resynthesis_scores(zs_eval.get_parser().parse_args([
            "--units-dir", "u", "--item-file", "i", "--utt2dur", "d", "--asr-exp-dir", "x"]))


def test_cer_by_speaker_splits_the_score_by_source_voice():
    from chain.tts.evaluate import SynthCER
    from chain.vq.resynthesis import cer_by_speaker

    refs = {"a-1": "ab cd", "a-2": "ef", "b-1": "gh"}
    hyps = {"a-1": "ab cd", "a-2": "ex", "b-1": "xy z"}
    result = SynthCER(score(refs, hyps), refs, hyps)
    got = cer_by_speaker(result, {"a-1": "a", "a-2": "a", "b-1": "b", "c-1": "c"})
    assert got == {"a": pytest.approx(100 * 1 / 7), "b": pytest.approx(100 * 4 / 2)}
    with pytest.raises(KeyError):
        cer_by_speaker(result, {"a-1": "a", "a-2": "a"})
