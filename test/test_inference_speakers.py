"""A packed multi-speaker TTS (chain.pack): its speaker encoder travels under spk/, and
Text2Speech / chain-synthesize speak in the voice of one reference recording."""
import contextlib
import io
import shutil
import tarfile

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from chain import Text2Speech
from chain.bin import spk_train, synthesize, tts_train
from chain.feats.cmvn import load_cmvn
from chain.feats.fbank import FbankConfig
from chain.pack import PackError, pack_model
from chain.spk import builder as spk_builder
from chain.text.tokenizer import load as load_tokenizer
from chain.train.checkpoint import save_checkpoint
from chain.train.experiment import save_config
from chain.tts import builder as tts_builder
from chain.tts.references import reference_vectors
from chain.tts.synthesize import load_tts
from fixtures.recipe import copy_parts
from fixtures.tiny import TINY_SPK, TINY_TTS

DATA = ["--train-dir", "dump/train_paired", "--dev-dir", "dump/dev", "--cmvn", "data/cmvn.ark"]


def make_experiments(root):
    """Random-weight speaker encoder (exp/spk, two speakers) and multi-speaker TTS (exp/tts)
    as spk_train and tts_train --spk-exp-dir write them, in the recipe-like dir ``root`` (the cwd)."""
    (root / "spk.yaml").write_text(yaml.safe_dump(TINY_SPK))
    (root / "tts.yaml").write_text(yaml.safe_dump(TINY_TTS))
    spk_args = spk_train.get_parser().parse_args(["--config", "spk.yaml", *DATA, "--exp-dir", "exp/spk"])
    mel_dim = load_cmvn("data/cmvn.ark").shape[1] - 1
    torch.manual_seed(0)
    save_checkpoint("exp/spk/best.pt", {"model": spk_builder.build(spk_args, mel_dim, 2).state_dict()})
    save_config(spk_args, "exp/spk")
    (root / "exp/spk/speakers").write_text("spk01\nspk02\n")
    tts_args = tts_train.get_parser().parse_args([
        "--config", "tts.yaml", *DATA, "--lang-dir", "data/lang", "--cmvn-linear", "data/cmvn_linear.ark",
        "--exp-dir", "exp/tts", "--spk-exp-dir", "exp/spk"])
    tts_train.speaker_encoder(tts_args)  # spk_dim from the encoder
    tokenizer = load_tokenizer("data/lang")
    model = tts_builder.build(tts_args, len(tokenizer), mel_dim, load_cmvn("data/cmvn_linear.ark").shape[1] - 1,
                              sos_id=tokenizer.sos_id, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    save_checkpoint("exp/tts/best.pt", {"model": model.state_dict()})
    save_config(tts_args, "exp/tts")


@pytest.fixture(scope="module")
def packed(espeak_recipe, tmp_path_factory):
    """``(pack, {name: 22.05 kHz reference wav}, {name: z of the recipe's reference_vectors})``:
    the multi-speaker TTS packed from a recipe-like dir, which is then deleted."""
    root = tmp_path_factory.mktemp("spk_packed")
    recipe = copy_parts(espeak_recipe, root / "recipe",
                        ("data/lang", "data/cmvn.ark", "data/cmvn_linear.ark", "conf/fbank.yaml"))
    refs = {}
    for name, line in zip("ab", (espeak_recipe / "data/test/wav.scp").read_text().splitlines()):
        samples, rate = sf.read(line.split()[1], dtype="float32")
        refs[name] = root / f"{name}.wav"
        sf.write(refs[name], librosa.resample(samples, orig_sr=rate, target_sr=22050), 22050)
    with contextlib.chdir(recipe):
        make_experiments(recipe)
        pack_model("exp/tts", root / "tts.tar.gz")
        model, _, mel_stats, _ = load_tts("exp/tts")
        expected = reference_vectors(model, {n: str(p) for n, p in refs.items()}, mel_stats=mel_stats,
                                     fbank_cfg=FbankConfig.from_yaml("conf/fbank.yaml"))
        config = yaml.safe_load((recipe / "exp/tts/config.yaml").read_text())
        (recipe / "exp/tts/config.yaml").write_text(yaml.safe_dump({**config, "spk_exp_dir": ""}))
        with pytest.raises(PackError, match="no speaker encoder"):
            pack_model("exp/tts", root / "none.tar.gz")
    shutil.rmtree(recipe)
    return root / "tts.tar.gz", refs, expected


def test_pack_holds_the_speaker_encoder(packed):
    pack, _, _ = packed
    with tarfile.open(pack) as tar:
        names = set(tar.getnames())
        config = yaml.safe_load(tar.extractfile("config.yaml"))
        spk_config = yaml.safe_load(tar.extractfile("spk/config.yaml"))
        meta = yaml.safe_load(tar.extractfile("meta.yaml"))
        weights = torch.load(io.BytesIO(tar.extractfile("spk/model.pt").read()), weights_only=True)
        speakers = tar.extractfile("spk/speakers").read().decode()
    assert {"spk/config.yaml", "spk/model.pt", "spk/speakers", "spk/cmvn.ark", "model.pt"} <= names
    assert (config["spk_exp_dir"], config["spk_checkpoint"], spk_config["cmvn"]) == ("spk", "model.pt", "spk/cmvn.ark")
    assert config["spk_dim"] == TINY_SPK["embed_dim"] and meta["format"] == 1
    assert list(weights) == ["model"] and speakers == "spk01\nspk02\n"


def test_text2speech_speaks_in_the_voice_of_a_reference(packed, tmp_path, monkeypatch):
    pack, refs, expected = packed
    monkeypatch.chdir(tmp_path)
    tts = Text2Speech.from_packed(pack, griffin_lim_iters=2, max_frames_per_token=3)
    z = {name: tts.speaker_vector(path) for name, path in refs.items()}
    for name in refs:
        assert np.array_equal(z[name], expected[name])
    out_a = tts("The cat sat.", ref_wav=refs["a"])
    assert out_a.sample_rate == 16000 and len(out_a.wav) > 0 and out_a.mel.shape[1] == 80
    assert np.array_equal(tts("The cat sat.", spk_vec=expected["a"]).mel, out_a.mel)
    assert not np.allclose(tts("The cat sat.", ref_wav=refs["b"]).mel[:4], out_a.mel[:4])
    with pytest.raises(ValueError, match="^this TTS is multi-speaker: give a recording of the voice"):
        tts("The cat sat.")
    with pytest.raises(ValueError, match="not a sound file"):
        tts("The cat sat.", ref_wav="feats.ark:12")


def test_chain_synthesize_takes_a_reference_wav(packed, tmp_path, monkeypatch):
    pack, refs, _ = packed
    monkeypatch.chdir(tmp_path)
    synthesize.main([str(pack), "the cat.", "--ref-wav", str(refs["b"]), "-o", "out.wav", "--griffin-lim-iters",
                     "2", "--max-frames-per-token", "3", "--num-threads", "1"])
    assert sf.info(tmp_path / "out.wav").samplerate == 16000 and sf.info(tmp_path / "out.wav").frames > 0
    with pytest.raises(SystemExit) as exit_info:
        synthesize.main([str(pack), "the cat.", "-o", "x.wav"])
    assert str(exit_info.value.code).startswith("synthesize: error: this TTS is multi-speaker: give a recording")
    assert "\n" not in str(exit_info.value.code) and not (tmp_path / "x.wav").exists()
