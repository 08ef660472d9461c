"""Packed models (chain.pack), the Python API (chain.inference) and chain-recognize /
chain-synthesize, on tiny models trained on the embedded-corpus recipe."""
import io
import math
import shutil
import subprocess
import sys
import tarfile

import kaldiio
import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from chain import Speech2Text, Text2Speech
from chain.bin import recognize, synthesize
from chain.feats.cmvn import apply_cmvn, load_cmvn
from chain.feats.extract import extract_job
from chain.feats.fbank import FbankConfig
from chain.pack import PackError
from chain.train.checkpoint import CheckpointError
from fixtures.bad_checkpoints import CodeOnLoad, assert_one_line_errors
from fixtures.recipe import copy_parts, run_bin
from fixtures.tiny import TINY_ASR, TINY_TTS


@pytest.fixture(scope="module")
def models(espeak_recipe, tmp_path_factory):
    """A tiny ASR and TTS trained on the recipe (exp dirs under ``root/exp``), packed from a
    recipe dir with their lang dir, CMVN stats and feature config, which is then deleted:
    ``(root, asr.tar.gz, tts.tar.gz)``."""
    root = tmp_path_factory.mktemp("packed")
    for name, conf, extra in (("asr", {**TINY_ASR, "epochs": 2}, []),
                              ("tts", {**TINY_TTS, "epochs": 1}, ["--cmvn-linear", "data/cmvn_linear.ark"])):
        (root / f"{name}.yaml").write_text(yaml.safe_dump({**conf, "n_average": 1}))
        run_bin(f"{name}_train", "--config", root / f"{name}.yaml", "--train-dir", "dump/train_paired",
                "--dev-dir", "dump/dev", "--lang-dir", "data/lang", "--cmvn", "data/cmvn.ark", *extra,
                "--exp-dir", root / "exp" / name, cwd=espeak_recipe)
    recipe = copy_parts(espeak_recipe, root / "recipe", ("data/lang", "data/cmvn.ark", "conf/fbank.yaml"))
    shutil.copy(espeak_recipe / "data/cmvn_linear.ark", recipe / "cmvn_linear.ark")
    (recipe / "data/cmvn_linear.ark").symlink_to("../cmvn_linear.ark")  # packed as the file
    run_bin("pack_model", root / "exp/asr", root / "asr.tar.gz", "--checkpoint", "checkpoints/epoch2.pt",
            cwd=recipe)
    run_bin("pack_model", root / "exp/tts", root / "tts.tar.gz", cwd=recipe)  # best.pt
    shutil.rmtree(recipe)
    return root, root / "asr.tar.gz", root / "tts.tar.gz"


def test_pack_holds_what_decoding_needs(models):
    _, asr_pack, tts_pack = models
    with tarfile.open(tts_pack) as tar:
        names = set(tar.getnames())
        meta = yaml.safe_load(tar.extractfile("meta.yaml"))
        config = yaml.safe_load(tar.extractfile("config.yaml"))
        weights = torch.load(io.BytesIO(tar.extractfile("model.pt").read()), weights_only=True)
    assert names == {"meta.yaml", "config.yaml", "model.pt", "lang/units.txt", "lang/token_type",
                     "cmvn.ark", "cmvn_linear.ark"}
    assert meta["kind"] == "tts" and meta["format"] == 1 and meta["chain_version"] == "0.1.0"
    assert meta["sample_rate"] == 16000 and meta["features"]["n_fft"] == 1024
    assert meta["checkpoint"] == "best.pt" and list(weights) == ["model"]
    assert (config["lang_dir"], config["cmvn"], config["cmvn_linear"]) == ("lang", "cmvn.ark", "cmvn_linear.ark")
    with tarfile.open(asr_pack) as tar:
        assert "cmvn_linear.ark" not in tar.getnames() and "lang/units.txt" in tar.getnames()
        assert yaml.safe_load(tar.extractfile("meta.yaml"))["checkpoint"] == "checkpoints/epoch2.pt"


def test_packed_models_recognise_and_synthesise_elsewhere(models, espeak_recipe, tmp_path):
    _, asr_pack, tts_pack = models
    utt, wav = (espeak_recipe / "data/test/wav.scp").read_text().splitlines()[0].split()
    shutil.copy(wav, tmp_path / "a.wav")
    proc = run_bin("recognize", asr_pack, "a.wav", "--beam", 2, cwd=tmp_path)
    assert proc.stdout.splitlines()[0].split(" ")[0] == "a.wav" and len(proc.stdout.splitlines()) == 1
    run_bin("synthesize", tts_pack, "The cat; sat!", "-o", "out.wav", "--griffin-lim-iters", 2,
            "--max-frames-per-token", 3, cwd=tmp_path)
    info = sf.info(tmp_path / "out.wav")
    assert info.samplerate == 16000 and info.frames > 0


def test_cli_reads_a_wav_scp_and_a_text_file(models, espeak_recipe, tmp_path, capsys, monkeypatch):
    _, asr_pack, tts_pack = models
    monkeypatch.chdir(espeak_recipe)
    recognize.main([str(asr_pack), "--wav-scp", "data/test/wav.scp", "--beam", "1"])
    utts = [line.split()[0] for line in (espeak_recipe / "data/test/wav.scp").read_text().splitlines()]
    assert [line.split(" ")[0] for line in capsys.readouterr().out.splitlines()] == utts
    synthesize.main([str(tts_pack), "--text-file", "data/test/text", "-o", str(tmp_path / "synth"),
                     "--griffin-lim-iters", "2", "--max-frames-per-token", "3", "--num-threads", "1"])
    assert sorted(p.stem for p in (tmp_path / "synth").glob("*.wav")) == utts


def test_speech2text_at_another_rate_equals_the_recipe_decode(models, espeak_recipe, tmp_path, monkeypatch):
    from chain.bin import asr_recog

    root, asr_pack, _ = models
    utt, wav = (espeak_recipe / "data/test/wav.scp").read_text().splitlines()[1].split()
    samples, rate = sf.read(wav, dtype="float32")
    assert rate == 16000
    sf.write(tmp_path / "x.wav", librosa.resample(samples, orig_sr=rate, target_sr=22050), 22050)
    (tmp_path / "wav.scp").write_text(f"{utt} {tmp_path / 'x.wav'}\n")
    cfg = FbankConfig.from_yaml(espeak_recipe / "conf/fbank.yaml")
    extract_job(tmp_path / "wav.scp", tmp_path / "dump", None, cfg, write_linear=False)  # stage 1
    monkeypatch.chdir(espeak_recipe)
    asr_recog.main(["--exp-dir", str(root / "exp/asr"), "--checkpoint", "checkpoints/epoch2.pt", "--data-dir",
                    str(tmp_path / "dump"), "--out", str(tmp_path / "hyp"), "--beam", "3", "--num-threads", "1"])
    asr = Speech2Text.from_packed(asr_pack, beam=3)
    nbest = asr(tmp_path / "x.wav")
    assert (tmp_path / "hyp").read_text() == f"{utt} {nbest[0].text}".rstrip() + "\n"
    assert len(nbest[0].text.split()) > 0 and [h.score for h in nbest] == sorted((h.score for h in nbest), reverse=True)
    recipe_feats = apply_cmvn(kaldiio.load_scp(str(tmp_path / "dump/feats.scp"))[utt], load_cmvn("data/cmvn.ark"))
    assert np.array_equal(asr.features_of(tmp_path / "x.wav"), recipe_feats)
    samples_22k, _ = sf.read(tmp_path / "x.wav", dtype="float32")
    assert asr(np.stack([samples_22k, samples_22k], 1), 22050) == nbest  # stereo array: channel 0
    assert asr(samples, 16000)[0].text  # the original 16 kHz samples decode too


def test_speech2text_warns_on_input_far_longer_than_training(models, espeak_recipe, caplog):
    _, asr_pack, _ = models
    with tarfile.open(asr_pack) as tar:
        longest = yaml.safe_load(tar.extractfile("config.yaml"))["max_train_frames"]
    frames = [int(n) for n in (espeak_recipe / "dump/train_paired/utt2num_frames").read_text().split()[1::2]]
    assert longest == max(frames)
    asr = Speech2Text.from_packed(asr_pack, beam=1, max_len_ratio=0.05)
    wav = (espeak_recipe / "data/test/wav.scp").read_text().split()[1]
    samples, rate = sf.read(wav, dtype="float32")
    with caplog.at_level("WARNING"):
        asr(samples, rate)
        assert "longest training utterance" not in caplog.text
        asr(np.tile(samples, math.ceil(2 * longest * 200 / len(samples))), rate)  # > 2x, 200 samples a frame
    assert caplog.text.count("times the longest training utterance") == 1


def test_text2speech_returns_wav_mel_attention_and_stop(models):
    _, _, tts_pack = models
    tts = Text2Speech.from_packed(tts_pack, griffin_lim_iters=2, max_frames_per_token=3)
    out = tts("The cat sat.")
    frames, hop = out.mel.shape[0], tts.features.hop_length
    assert out.sample_rate == 16000 and out.mel.shape[1] == 80 and isinstance(out.hit_cap, bool)
    assert out.attention.shape == (math.ceil(frames / 4), len("the cat sat.") + 1)
    assert np.allclose(out.attention.sum(1), 1, atol=1e-4) and abs(len(out.wav) - frames * hop) <= hop
    with pytest.raises(ValueError, match="single-speaker"):
        tts("the cat.", ref_wav="a.wav")
    with pytest.raises(ValueError, match="empty text"):
        tts(" [] ")


def repack(src, dest, **replace):
    """Copy the archive ``src`` to ``dest`` with members replaced (name -> bytes)."""
    with tarfile.open(src) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    members.update(replace)
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def test_bad_packs_are_refused_with_what_to_do(models, tmp_path):
    _, asr_pack, tts_pack = models
    with tarfile.open(asr_pack) as tar:
        meta = yaml.safe_load(tar.extractfile("meta.yaml"))
    future = repack(asr_pack, tmp_path / "future.tar.gz",
                    **{"meta.yaml": yaml.safe_dump({**meta, "format": 2, "chain_version": "0.3.0"}).encode()})
    with pytest.raises(PackError, match="packed in format 2 by chain 0.3.0; chain 0.1.0 reads formats up "
                                        "to 1: install chain 0.3.0 or later"):
        Speech2Text.from_packed(future)
    with pytest.raises(PackError, match="a packed ASR, not a TTS"):
        Text2Speech.from_packed(asr_pack)
    buffer = io.BytesIO()
    torch.save({"model": CodeOnLoad(tmp_path / "pwned")}, buffer)
    unsafe = repack(tts_pack, tmp_path / "unsafe.tar.gz", **{"model.pt": buffer.getvalue()})
    with pytest.raises(CheckpointError, match="model.pt: refused as unsafe"):
        Text2Speech.from_packed(unsafe)
    assert not (tmp_path / "pwned").exists()
    (tmp_path / "notes.tar.gz").write_text("not an archive")
    with pytest.raises(PackError, match="notes.tar.gz: not a packed model"):
        Speech2Text.from_packed(tmp_path / "notes.tar.gz")


def test_cli_errors_are_one_line(models, tmp_path, capsys):
    _, asr_pack, tts_pack = models
    for main, argv in ((recognize.main, [str(asr_pack)]), (synthesize.main, [str(tts_pack), "-o", "x.wav"]),
                       (synthesize.main, [str(tts_pack), "hi", "--text-file", "text", "-o", "x"])):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2 and "give " in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        recognize.main([str(asr_pack), str(tmp_path / "none.wav")])
    assert str(exit_info.value.code) == f"recognize: error: {tmp_path / 'none.wav'}: no such file '{tmp_path / 'none.wav'}'"
    with pytest.raises(SystemExit) as exit_info:
        synthesize.main([str(tmp_path / "none.tar.gz"), "hi", "-o", str(tmp_path / "x.wav")])
    assert str(exit_info.value.code).startswith(f"synthesize: error: {tmp_path / 'none.tar.gz'}: no such packed model")


def test_pack_model_refuses_a_checkpoint_that_cannot_be_used(models, espeak_recipe, tmp_path, monkeypatch):
    from chain.bin import pack_model

    root, _, _ = models
    monkeypatch.chdir(espeak_recipe)
    assert_one_line_errors(pack_model.main, lambda path: [
        str(root / "exp/asr"), str(tmp_path / "asr.tar.gz"), "--checkpoint", str(path)],
        "pack_model", root / "exp/asr/best.pt", tmp_path)
    assert not (tmp_path / "asr.tar.gz").exists()


def test_import_chain_stays_light():
    code = "import sys, chain; assert 'torch' not in sys.modules; chain.Speech2Text; assert 'torch' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
