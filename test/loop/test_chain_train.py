"""chain_train end to end on the tiny embedded-corpus recipe: outputs, bit-identical resume, errors."""
import subprocess
import sys

import pytest
import torch
import yaml

from chain.asr.recognize import load_asr
from chain.bin import chain_train
from chain.tts.synthesize import load_tts
from fixtures.tiny import TINY_ASR, TINY_TTS

CHAIN = ["--batch-size", "8", "--max-frames-per-token", "3", "--log-interval", "1", "--tensorboard", "false",
         "--num-threads", "1", "--asr-lr", "1e-3", "--tts-lr", "1e-3"]


def run(module, *args, cwd):
    proc = subprocess.run([sys.executable, "-m", f"chain.bin.{module}", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{module} exited {proc.returncode}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def pretrained(espeak_recipe, tmp_path_factory):
    """(recipe, ASR exp, TTS exp): tiny models trained on train_paired (stages 3 and 4)."""
    root = tmp_path_factory.mktemp("chain")
    for name, conf in (("asr", TINY_ASR), ("tts", TINY_TTS)):
        (root / f"{name}.yaml").write_text(yaml.safe_dump({**conf, "tensorboard": False}))
        run(f"{name}_train", "--config", root / f"{name}.yaml", "--train-dir", "dump/train_paired",
            "--dev-dir", "dump/dev", "--exp-dir", root / name, cwd=espeak_recipe)
    return espeak_recipe, root / "asr", root / "tts"


def chain(pretrained, exp, *args):
    recipe, asr, tts = pretrained
    return run("chain_train", "--asr-exp-dir", asr, "--tts-exp-dir", tts, "--exp-dir", exp, *CHAIN, *args,
               cwd=recipe)


def test_resume_is_bit_identical_and_the_models_load_like_stage_3_and_4_ones(pretrained, tmp_path):
    recipe = pretrained[0]
    chain(pretrained, tmp_path / "straight", "--epochs", "2")
    chain(pretrained, tmp_path / "resumed", "--epochs", "1")
    resumed = chain(pretrained, tmp_path / "resumed", "--epochs", "2", "--resume", "true")
    assert "resumed from" in resumed.stderr
    a, b = (torch.load(tmp_path / d / "checkpoints" / "epoch2.pt") for d in ("straight", "resumed"))
    for model in ("asr", "tts"):
        assert all(torch.equal(a[model]["model"][k], b[model]["model"][k]) for k in a[model]["model"])
    original = torch.load(pretrained[2] / "best.pt")["model"]
    assert any(not torch.equal(original[k], a["tts"]["model"][k]) for k in original)  # it trained
    log = (tmp_path / "straight" / "train.log").read_text()
    assert "dev/asr_cer" in log and "dev/tts_mel_l2" in log and "generations dropped" in log
    for name in ("asr/best.pt", "asr/config.yaml", "tts/best.pt", "tts/config.yaml", "loss.png", "config.yaml"):
        assert (tmp_path / "straight" / name).is_file(), name
    load_asr(tmp_path / "straight" / "asr", cwd_relative(recipe))
    load_tts(tmp_path / "straight" / "tts")


def cwd_relative(recipe):
    """load_* read lang/cmvn paths relative to the recipe dir: run them from there."""
    import os

    os.chdir(recipe)
    return "best.pt"


@pytest.mark.parametrize("st", ["argmax", "gumbel"])
def test_straight_through_runs_from_either_source(pretrained, tmp_path, st):
    for source in ("greedy", "teacher_forced"):
        proc = chain(pretrained, tmp_path / source, "--epochs", "1", "--st", st, "--st-source", source,
                     "--tau", "0.5")
        assert "'st': '%s'" % st in proc.stderr


def test_help_lists_every_chain_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        chain_train.main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for option in ("--ratio", "--alpha", "--beta", "--st", "--st-source", "--tau", "--asr-lr", "--tts-scheduler",
                   "--max-frames-per-token", "--resume"):
        assert option in out, option


@pytest.mark.parametrize("args, message", [
    (["--ratio", "0", "0", "0"], "every branch is switched off"),
    (["--text-dir", "dump/train_speech_only"], "dump/train_speech_only/text: no such file"),
    (["--st", "argmax", "--asr-decode", "beam"], "needs asr_decode greedy"),
])
def test_bad_options_give_one_line_errors(pretrained, tmp_path, args, message):
    recipe, asr, tts = pretrained
    proc = subprocess.run([sys.executable, "-m", "chain.bin.chain_train", "--asr-exp-dir", asr, "--tts-exp-dir",
                           tts, "--exp-dir", tmp_path / "x", *args], cwd=recipe, capture_output=True, text=True)
    assert proc.returncode == 1 and "chain_train: error: " in proc.stderr and message in proc.stderr
