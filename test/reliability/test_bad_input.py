"""The bad-input matrix: each case goes through the real entry point on tiny data, and
must give its exit status and a clear message naming the file (and line), or a counted
warning. Covered elsewhere: kill -9 and re-run of stage 1 (test_stage1_rerun.py), SIGTERM
of training (test/train/test_preempt.py), damaged and unsafe checkpoints
(test/fixtures/bad_checkpoints.py, used by the ASR and TTS entry-point tests)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import kaldiio
import numpy as np
import pytest
import soundfile
import torch
import yaml

from fixtures.recipe import run
from fixtures.tiny import TINY_ASR, TINY_TTS

FS = 16000
EMOJI = "\U0001F600"


def sh(cmd, cwd):
    """``(exit status, stdout + stderr)`` of a shell command in ``cwd``."""
    proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def bin_cmd(name, *args):
    return " ".join([sys.executable, "-m", f"chain.bin.{name}", *map(str, args)])


@pytest.fixture(scope="module")
def trained(stage0_recipe, tmp_path_factory):
    """Stages 1-2 of a copy of ``stage0_recipe`` plus a tiny ASR and a tiny TTS of one epoch
    on train_paired (``exp/asr``, ``exp/tts``); read-only."""
    recipe = tmp_path_factory.mktemp("bad_input") / "chain1"
    shutil.copytree(stage0_recipe, recipe, symlinks=True, ignore=shutil.ignore_patterns("downloads"))
    run("./run.sh --stage 1 --stop-stage 2 --nj 1", cwd=recipe)
    data = "--train-dir dump/train_paired --dev-dir dump/dev --lang-dir data/lang --cmvn data/cmvn.ark"
    for name, conf in (("asr", TINY_ASR), ("tts", TINY_TTS)):
        (recipe / f"conf/tiny_{name}.yaml").write_text(yaml.safe_dump({**conf, "epochs": 1}))
        extra = "--cmvn-linear data/cmvn_linear.ark --num-figures 0" if name == "tts" else ""
        run(bin_cmd(f"{name}_train", "--config", f"conf/tiny_{name}.yaml", data, extra,
                    "--exp-dir", f"exp/{name}"), cwd=recipe)
    return recipe


@pytest.fixture
def recipe(trained, tmp_path):
    """A private copy of ``trained`` (scp files name arks relative to the recipe dir)."""
    shutil.copytree(trained, tmp_path / "chain1", symlinks=True)
    return tmp_path / "chain1"


def tone(seconds=0.5, channels=1):
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * FS)) / FS)).astype(np.float32)
    return x if channels == 1 else np.stack([x, 0.5 * x], axis=1)


def wav_case(tmp, kind):
    """A one-line wav.scp of bad audio of ``kind``: ``(wav.scp, extra options)``."""
    wav = tmp / "u1.wav"
    if kind == "missing":
        pass
    elif kind == "empty":
        wav.write_bytes(b"")
    elif kind == "random bytes":
        wav.write_bytes(np.random.default_rng(0).bytes(3000))
    elif kind == "truncated":
        soundfile.write(wav, tone(), FS, subtype="PCM_16")
        wav.write_bytes(wav.read_bytes()[:-4001])
    elif kind in ("22050 Hz", "22050 Hz strict"):
        soundfile.write(wav, tone(), 22050, subtype="PCM_16")
    elif kind == "stereo":
        soundfile.write(wav, tone(channels=2), FS, subtype="PCM_16")
    scp = tmp / "wav.scp"
    scp.write_text(f"u1 {wav}\n")
    return scp, "--strict true" if kind.endswith("strict") else ""


@pytest.mark.parametrize("kind, status, message", [
    ("missing", 1, r"wav.scp:1: utterance 'u1': no such file '.*u1.wav'"),
    ("empty", 1, r"wav.scp:1: utterance 'u1': empty file '.*u1.wav' \(0 bytes\)"),
    ("random bytes", 1, r"wav.scp:1: utterance 'u1': cannot read the file '.*u1.wav' as audio"),
    ("truncated", 1, r"wav.scp:1: utterance 'u1': truncated file '.*u1.wav': its header announces "
                     r"16000 bytes of samples, 11999 are there"),
    ("22050 Hz", 0, r"warning: .*wav.scp: resampled 1 of 1 files from 22050 Hz to 16000 Hz"),
    ("22050 Hz strict", 1, r"wav.scp:1: utterance 'u1': sample rate 22050 Hz, expected 16000 Hz"),
    ("stereo", 0, r"warning: .*wav.scp: took channel 0 of 1 of 1 files with 2 channels"),
])
def test_bad_audio(trained, tmp_path, kind, status, message):
    scp, extra = wav_case(tmp_path, kind)
    rc, out = sh(bin_cmd("feat_extract", "--config conf/fbank.yaml --wav-scp", scp, "--out-dir",
                         tmp_path / "out", "--job 1", extra), cwd=trained)
    assert rc == status, out
    assert len(re.findall(message, out)) == 1, out
    assert (tmp_path / "out/feats.1.scp").exists() == (status == 0)  # nothing trusted after an error


@pytest.mark.parametrize("change, message", [
    (lambda lines: lines[:1] + lines[:1] + lines[1:], "duplicate"),
    (lambda lines: lines[::-1], "not sorted"),
    (lambda lines: lines[1:], "text"),
])
def test_bad_data_dir_keys(recipe, change, message):
    text = recipe / "data/train_full/text"
    text.write_text("".join(change(text.read_text().splitlines(keepends=True))))
    rc, out = sh("utils/validate_data_dir.sh data/train_full", cwd=recipe)
    assert rc == 1 and "data/train_full/text" in out and message in out, out


def test_mismatched_keys_are_fixed_with_a_count(recipe):
    text = recipe / "data/train_full/text"
    text.write_text("".join(text.read_text().splitlines(keepends=True)[1:]))
    rc, out = sh("utils/fix_data_dir.sh data/train_full && utils/validate_data_dir.sh data/train_full",
                 cwd=recipe)
    assert rc == 0 and "kept 9 of 10" in out, out


def set_text(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines))


def first_utt(path):
    return path.read_text().split()[0]


def test_stage2_checks_dev_and_test_text(recipe):
    test_text = recipe / "data/test/text"
    set_text(test_text, [f"{first_utt(test_text)} hello {EMOJI} 42"])
    leftover = recipe / "data/lang/.units.txt.x1y2.tmp"
    leftover.write_text("partial")
    rc, out = sh("./run.sh --stage 2 --stop-stage 2", cwd=recipe)
    assert not leftover.exists() and "data/lang: removed 1 temp file(s) left by a killed run" in out
    assert rc == 0 and ("make_units: warning: 3 unknown characters in data/test/text (read as <unk>; "
                        "first at data/test/text:1)") in out, out
    rc, out = sh("./run.sh --stage 2 --stop-stage 2 --strict true", cwd=recipe)
    assert rc == 1 and "make_units: error: data/test/text:1: unknown character '\U0001F600'" in out, out
    dev_text = recipe / "data/dev/text"
    set_text(dev_text, [first_utt(dev_text)])
    rc, out = sh("./run.sh --stage 2 --stop-stage 2", cwd=recipe)
    assert rc == 1 and "data/dev/text:1: empty transcript for utterance" in out, out


def test_training_reports_unknown_characters(recipe):
    text = recipe / "dump/train_paired/text"
    lines = text.read_text().splitlines()
    utt, words = lines[1].split(" ", 1)
    lines[1] = f"{utt} {words.capitalize()} 1984 caf\u00e9"
    set_text(text, lines)
    common = ("--train-dir dump/train_paired --dev-dir dump/dev --lang-dir data/lang "
              "--cmvn data/cmvn.ark")
    # a resume of the finished run: the text is checked, no epoch is left to train
    rc, out = sh(bin_cmd("asr_train", "--config conf/tiny_asr.yaml", common, "--exp-dir exp/asr --resume true"),
                 cwd=recipe)
    assert rc == 0 and ("asr_train: warning: 6 unknown characters in dump/train_paired/text (read as <unk>; "
                        "first at dump/train_paired/text:2)") in out, out
    rc, out = sh(bin_cmd("tts_train", "--config conf/tiny_tts.yaml", common, "--exp-dir exp/tts2",
                         "--strict true"), cwd=recipe)
    assert rc == 1 and "tts_train: error: dump/train_paired/text:2: unknown character" in out, out


@pytest.mark.parametrize("text, strict, status, message", [
    ("", "false", 1, "tts_decode: error: {text}:1: empty transcript for utterance '{utt}'"),
    (EMOJI * 3, "false", 0, "tts_decode: warning: 3 unknown characters in {text} (read as <unk>; first at "
                            "{text}:1): '\U0001F600' x3 (first at line 1); 1 transcript(s) with no known "
                            "character (first at {text}:1)"),
    (EMOJI * 3, "true", 1, "tts_decode: error: {text}:1: unknown character '\U0001F600'"),
])
def test_synthesis_of_bad_text(recipe, text, strict, status, message):
    path = recipe / "dump/test/text"
    utt = first_utt(path)
    set_text(path, [f"{utt} {text}".rstrip()])
    rc, out = sh(bin_cmd("tts_decode", "--exp-dir exp/tts --data-dir dump/test --out-dir exp/tts/synth",
                         "--fbank-conf conf/fbank.yaml --griffin-lim-iters 1 --strict", strict), cwd=recipe)
    assert rc == status and message.format(text="dump/test/text", utt=utt) in out, out


@pytest.mark.parametrize("name, args, text", [
    ("tts_eval", "--exp-dir exp/tts --data-dir dump/test --out-dir exp/tts/eval", "dump/test/text"),
    ("chain_train", "--asr-exp-dir exp/asr --tts-exp-dir exp/tts --exp-dir exp/chain", "data/train_text_only/text"),
])
def test_evaluation_and_chain_training_check_their_text(recipe, name, args, text):
    path = recipe / text
    lines = path.read_text().splitlines()
    set_text(path, [lines[0] + " \u00e9t\u00e9", *lines[1:]])
    rc, out = sh(bin_cmd(name, args, "--strict true"), cwd=recipe)
    assert rc == 1 and f"{name}: error: {text}:1: unknown character '\u00e9'" in out, out


def test_recognition_warns_about_inputs_longer_than_training(recipe, monkeypatch):
    monkeypatch.chdir(recipe)  # scp files name their arks relative to the recipe dir
    longest = max(int(line.split()[1]) for line in
                  (recipe / "dump/train_paired/utt2num_frames").read_text().splitlines())
    mat = next(iter(kaldiio.load_scp_sequential("dump/test/feats.scp")))[1]
    long = np.concatenate([mat] * (2 * longest // len(mat) + 1))  # over twice the longest
    out = recipe / "dump/long"
    out.mkdir()
    with kaldiio.WriteHelper(f"ark,scp:{out}/feats.ark,{out}/feats.scp") as writer:
        writer("long1", long)
        writer("short1", mat)
    (out / "utt2num_frames").write_text(f"long1 {len(long)}\nshort1 {len(mat)}\n")
    rc, log = sh(bin_cmd("asr_recog", "--exp-dir exp/asr --data-dir dump/long --out", out / "hyp",
                         "--beam 1"), cwd=recipe)
    expected = (f"asr_recog: warning: utterance 'long1': {len(long)} frames, {len(long) / longest:.1f} times "
                f"the longest training utterance ({longest} frames)")
    assert rc == 0 and log.count(expected) == 1 and "short1'" not in log, log
    assert (out / "hyp").read_text().startswith("long1")


def test_kill_9_of_training_then_resume_ends_where_an_uninterrupted_run_ends(recipe):
    """What kill -9 (or a crash) leaves: the checkpoints written so far; --resume true goes on
    from the newest and ends bit-identical to a run that was never stopped (on CPU)."""
    args = ("--config conf/tiny_asr.yaml --train-dir dump/train_paired --dev-dir dump/dev --lang-dir data/lang "
            "--cmvn data/cmvn.ark --batch-size 1 --log-interval 1 --epochs 2 --dev-metric loss "
            "--dev-cer-every 0 --n-average 0 --plot false --resume true")
    run(bin_cmd("asr_train", args, "--exp-dir exp/straight"), cwd=recipe)
    exp = recipe / "exp/killed"
    job = subprocess.Popen(["bash", "-c", bin_cmd("asr_train", args, "--exp-dir", exp)], cwd=recipe,
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):  # 3 updates per epoch: kill in the 2nd epoch
        if (exp / "train.log").is_file() and "update 4:" in (exp / "train.log").read_text():
            break
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    assert job.wait() == -signal.SIGKILL and not (exp / "checkpoints/epoch2.pt").exists()
    run(bin_cmd("asr_train", args, "--exp-dir", exp), cwd=recipe)
    a, b = (torch.load(recipe / f"exp/{name}/checkpoints/epoch2.pt", weights_only=True)["model"]
            for name in ("straight", "killed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
