"""tts_train, tts_decode and tts_eval on the tiny embedded-corpus recipe."""
import importlib
import importlib.util
import subprocess
import sys

import kaldiio
import pytest
import soundfile as sf
import yaml

from chain.data.datadir import DataError
from chain.tts.evaluate import world_scores
from chain.tts.synthesize import load_tts
from fixtures.bad_checkpoints import assert_one_line_errors
from fixtures.tiny import TINY_ASR, TINY_TTS


def run_bin(name, *args, cwd, check=True):
    proc = subprocess.run([sys.executable, "-m", f"chain.bin.{name}", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"{name} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def tts_exp(espeak_recipe, tmp_path_factory):
    """A tiny TTS trained for 2 epochs on the recipe's train_paired."""
    root = tmp_path_factory.mktemp("tts")
    conf = root / "tts.yaml"
    conf.write_text(yaml.safe_dump(TINY_TTS))
    exp = root / "exp"
    proc = run_bin("tts_train", "--config", conf, "--train-dir", "dump/train_paired", "--dev-dir", "dump/dev",
                   "--lang-dir", "data/lang", "--cmvn", "data/cmvn.ark", "--cmvn-linear",
                   "data/cmvn_linear.ark", "--exp-dir", exp, cwd=espeak_recipe)
    return exp, proc


@pytest.fixture(scope="module")
def synth_dir(tts_exp, espeak_recipe):
    exp, _ = tts_exp
    out = exp / "synth_test"
    proc = run_bin("tts_decode", "--exp-dir", exp, "--data-dir", "dump/test", "--out-dir", out,
                   "--fbank-conf", "conf/fbank.yaml", "--griffin-lim-iters", 4, "--num-threads", 1,
                   "--max-frames-per-token", 3, cwd=espeak_recipe)
    return out, proc


@pytest.mark.parametrize("name, option", [("tts_train", "--cmvn-linear"), ("tts_decode", "--write-wav"),
                                          ("tts_eval", "--asr-exp-dir")])
def test_help(name, option, capsys):
    module = importlib.import_module(f"chain.bin.{name}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert option in out and "usage:" in out and "(default:" in out


def test_train_writes_config_checkpoints_and_figures(tts_exp):
    exp, proc = tts_exp
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["dev_metric"] == "mel_l2" and config["cmvn_linear"] == "data/cmvn_linear.ark"
    assert config["encoder_fc_dims"] == [16, 16] and config["reduction_factor"] == 4
    for name in ("checkpoints/epoch1.pt", "checkpoints/epoch2.pt", "best.pt", "avg2.pt", "train.log"):
        assert (exp / name).is_file(), name
    for epoch in (1, 2):
        figures = sorted(p.name for p in (exp / "figures" / f"epoch{epoch}").iterdir())
        assert len(figures) == 8 and sum(f.endswith(".gen_attn.png") for f in figures) == 2
    assert "best mel_l2" in proc.stderr and "80 mel + 513 linear dims" in proc.stderr


def test_unknown_config_key_is_rejected(tmp_path, capsys):
    from chain.bin.tts_train import get_parser

    conf = tmp_path / "bad.yaml"
    conf.write_text("embed_dim: 16\nencoder_banks: 3\n")
    with pytest.raises(SystemExit):
        get_parser().parse_args(["--config", str(conf), "--train-dir", "a", "--dev-dir", "b",
                                 "--exp-dir", str(tmp_path / "exp")])
    assert "encoder-banks" in capsys.readouterr().err


def test_decode_writes_a_data_dir_of_synthetic_speech(synth_dir, espeak_recipe):
    out, proc = synth_dir
    text = (espeak_recipe / "dump/test/text").read_text()
    assert (out / "text").read_text() == text
    assert (out / "utt2spk").is_file() and (out / "spk2utt").is_file()
    utts = [line.split()[0] for line in text.splitlines()]
    feats = dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert sorted(feats) == utts
    frames = dict(line.split() for line in (out / "utt2num_frames").read_text().splitlines())
    for utt, mat in feats.items():
        assert mat.shape[1] == 80 and mat.shape[0] > 0 and int(frames[utt]) == mat.shape[0]
    wavs = dict(line.split() for line in (out / "wav.scp").read_text().splitlines())
    assert sorted(wavs) == utts
    for path in wavs.values():
        assert sf.info(path).samplerate == 16000
    capped = (out / "hit_cap").read_text().split()
    assert set(capped) <= set(utts)
    assert f"{len(capped)} of {len(utts)} generations hit the length cap" in proc.stderr


def test_eval_without_asr(tts_exp, synth_dir, espeak_recipe, tmp_path):
    exp, _ = tts_exp
    out, _ = synth_dir
    proc = run_bin("tts_eval", "--exp-dir", exp, "--data-dir", "dump/test", "--synth-dir", out,
                   "--out-dir", tmp_path, "--num-threads", 1, cwd=espeak_recipe)
    fields = (tmp_path / "result.txt").read_text().split()
    assert float(fields[fields.index("mel_l2") + 1]) > 0
    assert 0 <= float(fields[fields.index("stop_acc") + 1]) <= 1
    assert "CER n/a" in proc.stdout and "skipped" in proc.stderr
    mcd, vuv = fields[fields.index("MCD") + 1], fields[fields.index("VUV") + 1]
    assert mcd.endswith("dB") and float(mcd[:-2]) > 0 and 0 <= float(vuv[:-1]) <= 100
    n_capped = len((out / "hit_cap").read_text().split())
    assert f"hit_cap {n_capped}/2" in proc.stdout


def test_world_scores_of_the_reference_speech_itself_are_zero(espeak_recipe, monkeypatch, tmp_path):
    monkeypatch.chdir(espeak_recipe)
    counts = world_scores("dump/test", "dump/test")
    assert counts.utts == 2 and counts.pairs > 0 and counts.voiced_both > 0
    assert counts.mcd == 0.0 and counts.f0_rmse == 0.0 and counts.vuv_error == 0.0
    with pytest.raises(DataError, match="--world false"):
        world_scores("dump/test", tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("chain.bin.asr_train") is None, reason="no asr_train yet")
def test_eval_with_asr_scores_synthetic_speech(tts_exp, synth_dir, espeak_recipe, tmp_path):
    conf = tmp_path / "asr.yaml"
    conf.write_text(yaml.safe_dump(TINY_ASR))
    run_bin("asr_train", "--config", conf, "--train-dir", "dump/train_paired", "--dev-dir", "dump/dev",
            "--exp-dir", tmp_path / "asr", cwd=espeak_recipe)
    exp, _ = tts_exp
    out, _ = synth_dir
    proc = run_bin("tts_eval", "--exp-dir", exp, "--data-dir", "dump/test", "--synth-dir", out,
                   "--asr-exp-dir", tmp_path / "asr", "--beam", 2, "--out-dir", tmp_path / "eval",
                   "--num-threads", 1, cwd=espeak_recipe)
    result = (tmp_path / "eval/result.txt").read_text()
    assert "CER " in result and "CER n/a" not in result and "%" in proc.stdout
    assert len((tmp_path / "eval/hyp.trn").read_text().splitlines()) == 2
    assert (tmp_path / "eval/ref.trn").read_text().splitlines()[0].endswith(")")


def test_missing_checkpoint_is_a_one_line_error(tts_exp, espeak_recipe, tmp_path):
    exp, _ = tts_exp
    proc = run_bin("tts_decode", "--exp-dir", exp, "--checkpoint", "epoch9.pt", "--data-dir", "dump/test",
                   "--out-dir", tmp_path, cwd=espeak_recipe, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "epoch9.pt: no such checkpoint" in error[0] and "best.pt" in error[0]
    with pytest.raises(FileNotFoundError, match="no such experiment dir"):
        load_tts(tmp_path / "nowhere")



def test_decode_names_what_is_wrong_with_a_checkpoint(tts_exp, espeak_recipe, tmp_path, monkeypatch):
    from chain.bin import tts_decode

    exp, _ = tts_exp
    monkeypatch.chdir(espeak_recipe)
    assert_one_line_errors(tts_decode.main, lambda path: [
        "--exp-dir", str(exp), "--checkpoint", str(path), "--data-dir", "dump/test",
        "--out-dir", str(tmp_path / "synth"), "--num-threads", "1"], "tts_decode", exp / "best.pt", tmp_path)
    assert not (tmp_path / "synth").exists()

@pytest.mark.parametrize("recipe", ["TEMPLATE", "ljspeech", "mini_espeak"])
def test_recipe_configs_parse_and_build(recipe):
    from pathlib import Path

    from chain.bin.tts_train import get_parser
    from chain.tts import builder

    conf = Path(__file__).resolve().parents[2] / "egs" / recipe / "chain1" / "conf" / "tts.yaml"
    args = get_parser().parse_args(["--config", str(conf), "--train-dir", "a", "--dev-dir", "b",
                                    "--exp-dir", "c"])
    assert args.dev_metric == "mel_l2" and args.epochs > 0
    model = builder.build(args, 37, 80, 513)
    assert model.r == args.reduction_factor and model.linear_dim == 513


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("name", ["tts_decode", "tts_eval"])
def test_ngpu_without_cuda_is_a_one_line_error(tmp_path, name):
    proc = run_bin(name, "--exp-dir", tmp_path, "--data-dir", tmp_path, "--out-dir", tmp_path,
                   "--ngpu", 1, cwd=tmp_path, check=False)
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [
        f"{name}: error: --ngpu 1 but torch sees no CUDA device (torch.cuda.is_available() "
        "is False): use --ngpu 0 or a GPU node"]
