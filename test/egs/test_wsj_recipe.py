"""The WSJ recipe on a WSJ-shaped fixture: stages 0-2 (Kaldi-valid data dirs, the s5 splits,
<noise> in the inventory), the decoder check, and a tiny pass through the multi-speaker
speech chain (speaker encoder, speaker-conditioned TTS, chain)."""
import importlib

import kaldiio
import pytest
import yaml

from fixtures.recipe import ROOT, copy_recipe, run
from fixtures.tiny import TINY_ASR, TINY_SPK, TINY_TTS
from fixtures.wsj import make_wsj_fixture, write_compressed_header


def utts_of(path):
    return [line.split()[0] for line in path.read_text().splitlines()]


def test_wsj_stages_0_to_5_on_fixture(tmp_path, monkeypatch):
    wsj0, wsj1 = make_wsj_fixture(tmp_path / "db")
    recipe = copy_recipe("wsj", tmp_path / "wsj")
    db = f'--local-data-opts "--wsj0 {wsj0} --wsj1 {wsj1} --sph2pipe no-such-sph2pipe"'
    proc = run(f"./run.sh --stop-stage 2 --nj 2 {db}", cwd=recipe)
    assert proc.stdout.count("Successfully validated data-directory") >= 6  # stage 0 checks every set
    data = recipe / "data"
    assert len(utts_of(data / "train_paired" / "utt2spk")) == 12  # SI-84 without speaker 401
    assert not any(u.startswith("401") for u in utts_of(data / "train_full" / "utt2spk"))
    assert utts_of(data / "train_speech_only" / "utt2spk") == utts_of(data / "train_text_only" / "utt2spk")
    assert not (data / "train_speech_only" / "text").exists() and not (data / "train_text_only" / "wav.scp").exists()
    assert utts_of(data / "test" / "utt2spk")[0] == "440c0201" and utts_of(data / "dev" / "utt2spk")[0] == "4k0c0201"
    assert (recipe / "dump" / "train_paired" / "spk2gender").read_text() == "011 m\n012 f\n01a f\n"
    units = [line.split()[0] for line in (data / "lang" / "units.txt").read_text().splitlines()]
    assert "<noise>" in units and "make_units: warning" not in proc.stderr + proc.stdout
    monkeypatch.chdir(recipe)
    feats = kaldiio.load_scp("dump/train_speech_only/linear.scp")
    assert list(feats) == utts_of(data / "train_speech_only" / "utt2spk") and feats["4a0c0201"].shape[1] == 1025

    # stages 3-5, the multi-speaker system of run.sh (tiny models): ASR and speaker encoder
    # on SI-84, the speaker-conditioned TTS, then the speech chain with SI-200
    for name, values in (("asr", TINY_ASR), ("tts", TINY_TTS), ("spk", {**TINY_SPK, "epochs": 1})):
        (recipe / "conf" / f"{name}_tiny.yaml").write_text(yaml.safe_dump(values))
    proc = run("./run.sh --stage 3 --stop-stage 5 --system chain --asr-config conf/asr_tiny.yaml "
               '--tts-config conf/tts_tiny.yaml --spk-config conf/spk_tiny.yaml --tts-args "--epochs 1" '
               '--chain-args "--epochs 1 --batch-size 8 --max-frames-per-token 3 --tensorboard false '
               '--num-threads 1"', cwd=recipe)
    assert "stage 3: speaker encoder training: dump/train_paired -> exp/spk_spk_tiny_train_paired" in proc.stderr
    spk = recipe / "exp" / "spk_spk_tiny_train_paired"
    assert (spk / "speakers").read_text().split() == ["011", "012", "01a"] and (spk / "best.pt").is_file()
    tts = recipe / "exp" / "tts_tts_tiny_train_paired_spk_spk_tiny_train_paired"
    tts_config = yaml.safe_load((tts / "config.yaml").read_text())
    assert tts_config["spk_exp_dir"] == "exp/spk_spk_tiny_train_paired" and tts_config["spk_dim"] == 8
    chain = recipe / "exp" / "chain_chain_spk_spk_tiny_train_paired"
    for model in ("asr", "tts"):
        assert (chain / model / "best.pt").is_file(), model
    assert "epoch 1" in (chain / "train.log").read_text()
    # the text-only step speaks in the voices of paired and speech-only utterances (Fig. 8(c))
    chain_log = (chain / "log" / "chain_train.log").read_text()
    assert "text-only step: speaker vectors of 24 reference utterances" in chain_log


def test_wsj_stage_0_fails_fast_without_a_decoder(tmp_path):
    wsj0, wsj1 = make_wsj_fixture(tmp_path / "db")
    write_compressed_header(wsj0 / "11-1.1" / "wsj0" / "si_tr_s" / "011" / "011c0203.wv1")
    recipe = copy_recipe("wsj", tmp_path / "wsj")
    proc = run(f'./run.sh --stop-stage 2 --local-data-opts "--wsj0 {wsj0} --wsj1 {wsj1} '
               '--sph2pipe no-such-sph2pipe"', cwd=recipe, check=False)
    assert proc.returncode == 1
    assert "011c0203.wv1: compressed SPHERE (pcm,embedded-shorten-v2.00) needs sph2pipe" in proc.stderr
    assert "stage 1" not in proc.stderr and not (recipe / "data").exists()


@pytest.mark.parametrize("conf, module, paper", [
    ("fbank.yaml", "feat_extract", dict(fs=16000, preemph=0.97, win_length_ms=50.0, hop_length_ms=12.5,
                                        n_fft=2048, n_mels=80)),
    ("asr.yaml", "asr_train", dict(enc_hidden=256, enc_layers=3, subsample=[2, 2, 2], dec_embed=128,
                                   dec_hidden=512, attention="mlp", lr=5.0e-4)),
    ("tts.yaml", "tts_train", dict(encoder_bank_size=8, decoder_dim=256, decoder_layers=2,
                                   reduction_factor=4, lr=5.0e-4, spk_dim=0, spk_loss_weight=0.25)),
    ("spk.yaml", "spk_train", dict(nll_weight=1.0, triplet_weight=1.0, lr=1.0e-3)),
    ("chain.yaml", "chain_train", dict(asr_lr=5.0e-4, tts_lr=5.0e-4)),
])
def test_wsj_confs_hold_the_paper_settings(conf, module, paper):
    """Sections III-D1, III-D2, IV-B and IV-D3 of the paper (spk_dim 0: it follows the speaker
    encoder, gamma3 = 0.25); every key is an option of its entry point."""
    settings = yaml.safe_load((ROOT / "egs" / "wsj" / "chain1" / "conf" / conf).read_text())
    options = {action.dest for action in importlib.import_module(f"chain.bin.{module}").get_parser()._actions}
    assert set(settings) <= options
    assert {key: settings[key] for key in paper} == paper
