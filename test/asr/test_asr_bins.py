"""asr_train and asr_recog end to end on the tiny embedded-corpus recipe."""
import subprocess
import sys

import pytest

from chain.bin import asr_recog, asr_train
from fixtures.bad_checkpoints import assert_one_line_errors

TINY = """\
enc_proj: 16
enc_hidden: 16
enc_layers: 2
subsample: [2, 2]
dec_embed: 8
dec_hidden: 16
attn_dim: 16
batch_size: 8
log_interval: 1
n_average: 2
tensorboard: false
"""


def run(module, *args, cwd, check=True):
    command = [sys.executable, "-m", f"chain.bin.{module}", "--num-threads", "1", *args]
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"{module} exited {proc.returncode}\n{proc.stderr[-4000:]}")
    return proc


def lines(path):
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def asr_exp(espeak_recipe, tmp_path_factory):
    """A tiny ASR trained 1 epoch, then resumed to epoch 2: (recipe, exp dir, resumed run)."""
    exp = tmp_path_factory.mktemp("asr") / "asr_tiny"
    conf = exp.parent / "tiny.yaml"
    conf.write_text(TINY)
    common = ["--config", str(conf), "--train-dir", "dump/train_paired", "--dev-dir", "dump/dev",
              "--lang-dir", "data/lang", "--cmvn", "data/cmvn.ark", "--exp-dir", str(exp)]
    run("asr_train", *common, "--epochs", "1", cwd=espeak_recipe)
    resumed = run("asr_train", *common, "--epochs", "2", "--resume", "true", cwd=espeak_recipe)
    return espeak_recipe, exp, resumed


def test_train_writes_the_experiment(asr_exp):
    _, exp, _ = asr_exp
    for name in ("config.yaml", "best.pt", "avg2.pt", "train.log", "loss.png",
                 "checkpoints/epoch1.pt", "checkpoints/epoch2.pt"):
        assert (exp / name).is_file(), name
    assert sorted(p.name for p in (exp / "figures" / "epoch2").glob("*.att.png"))
    config = (exp / "config.yaml").read_text()
    assert "enc_hidden: 16" in config and "dev_metric: cer" in config


def test_resume_continues_at_epoch_2(asr_exp):
    _, exp, resumed = asr_exp
    assert "resumed from" in resumed.stderr and "epoch1.pt" in resumed.stderr
    log = (exp / "train.log").read_text()
    assert log.count("epoch 1: lr") == 1 and log.count("epoch 2: lr") == 1
    assert "dev/cer" in log
    assert resumed.stderr.strip().splitlines()[-1].startswith("asr_train: best dev CER ")


def test_recog_covers_every_test_utterance(asr_exp):
    recipe, exp, _ = asr_exp
    out = exp / "decode_test" / "hyp.1"
    proc = run("asr_recog", "--exp-dir", str(exp), "--data-dir", "dump/test", "--out", str(out),
               "--beam", "2", cwd=recipe)
    utts = [line.split()[0] for line in lines(recipe / "dump" / "test" / "utt2spk")]
    assert [line.split(" ")[0] for line in lines(out)] == utts
    assert "real-time factor" in proc.stderr


def test_recog_with_utt_list_and_checkpoint_on_a_set_without_text(asr_exp):
    recipe, exp, _ = asr_exp
    utts = [line.split()[0] for line in lines(recipe / "dump" / "train_speech_only" / "utt2spk")]
    assert not (recipe / "dump" / "train_speech_only" / "text").exists()
    utt_list = exp / "utts.2"
    utt_list.write_text(f"{utts[3]} x\n\n{utts[1]}\n")
    out = exp / "decode_sp" / "hyp.2"
    run("asr_recog", "--exp-dir", str(exp), "--checkpoint", "checkpoints/epoch1.pt",
        "--data-dir", "dump/train_speech_only", "--utt-list", str(utt_list), "--out", str(out),
        "--beam", "1", cwd=recipe)
    assert [line.split(" ")[0] for line in lines(out)] == [utts[1], utts[3]]


@pytest.mark.parametrize("main, args, message", [
    (asr_recog.main, ["--exp-dir", "exp/none", "--data-dir", "dump/test", "--out", "x"],
     "asr_recog: error: exp/none: no such experiment dir"),
    (asr_train.main, ["--train-dir", "dump/train_speech_only", "--dev-dir", "dump/dev",
                      "--exp-dir", "exp/never"],
     "asr_train: error: dump/train_speech_only/text: no such file"),
    (asr_train.main, ["--train-dir", "dump/train_paired", "--dev-dir", "dump/dev", "--exp-dir",
                      "exp/never", "--attention", "luong"],
     "asr_train: error: --attention must be one of dot, bilinear, mlp, mlp_ma: got 'luong'"),
])
def test_errors_are_one_line(espeak_recipe, monkeypatch, main, args, message):
    monkeypatch.chdir(espeak_recipe)
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--num-threads", "1"])
    text = str(exit_info.value.code)
    assert text.startswith(message) and "\n" not in text
    assert not (espeak_recipe / "exp" / "never").exists()


def test_recog_unknown_utt_in_list_names_file_and_line(asr_exp, tmp_path, monkeypatch):
    recipe, exp, _ = asr_exp
    monkeypatch.chdir(recipe)
    utt_list = tmp_path / "utts"
    utt_list.write_text("nobody-001\n")
    message = f"{utt_list}:1: 'nobody-001' is not in dump/test/feats.scp"
    with pytest.raises(SystemExit, match=message):
        asr_recog.main(["--exp-dir", str(exp), "--data-dir", "dump/test", "--utt-list",
                        str(utt_list), "--out", str(tmp_path / "hyp"), "--num-threads", "1"])
    assert not (tmp_path / "hyp").exists()


@pytest.mark.parametrize("main", [asr_train.main, asr_recog.main])
def test_help(main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0 and "--exp-dir" in capsys.readouterr().out


def test_load_asr_rejects_weights_that_do_not_fit(asr_exp, monkeypatch):
    from chain.asr.recognize import load_asr

    recipe, exp, _ = asr_exp
    monkeypatch.chdir(recipe)
    model, tokenizer, stats = load_asr(exp, "avg2.pt")
    assert not model.training and stats.shape == (2, 81) and len(tokenizer) > 30
    with pytest.raises(ValueError, match="best.pt: shape mismatch with the model .* 513 feature dims"):
        load_asr(exp, cmvn="data/cmvn_linear.ark")


def test_recog_names_what_is_wrong_with_a_checkpoint(asr_exp, tmp_path, monkeypatch):
    recipe, exp, _ = asr_exp
    monkeypatch.chdir(recipe)
    assert_one_line_errors(asr_recog.main, lambda path: [
        "--exp-dir", str(exp), "--checkpoint", str(path), "--data-dir", "dump/test",
        "--out", str(tmp_path / "hyp"), "--num-threads", "1"], "asr_recog", exp / "best.pt", tmp_path)
    assert not (tmp_path / "hyp").exists()
