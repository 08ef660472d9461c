"""bench/train_step.py on CPU at tiny sizes: every model x kernels x amp row runs and prints."""
import importlib.util
import re

import pytest
import torch
import yaml

from fixtures.recipe import ROOT
from fixtures.tiny import TINY_ASR, TINY_TTS

ROW = re.compile(r"^\| (ASR|TTS) \| (\w+) \| (\w+) \| (.*) \|$")


@pytest.fixture(scope="module")
def train_step():
    spec = importlib.util.spec_from_file_location("train_step", ROOT / "bench" / "train_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_conf(tmp_path):
    """A recipe conf dir with the test suite's tiny ASR and TTS and a 64-point FFT."""
    for name, conf in (("asr", TINY_ASR), ("tts", TINY_TTS), ("fbank", {"n_fft": 64})):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(conf))
    return tmp_path


def rows(out: str) -> list[tuple[str, ...]]:
    return [m.groups() for m in map(ROW.match, out.splitlines()) if m]


def test_every_row_runs_and_prints_its_figures(train_step, tiny_conf, capsys):
    code = train_step.main(["--quick", "--threads", "1", "--conf-dir", str(tiny_conf),
                            "--amp", "none", "bf16", "fp16", "--kernels", "hand", "native"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("device: CPU") and "command: bench/train_step.py --quick" in out
    found = rows(out)
    assert [r[:3] for r in found] == [(m, k, a) for m in ("ASR", "TTS") for k in ("hand", "native")
                                      for a in ("none", "bf16", "fp16")]
    for model, kernels, amp, cells in found:
        median, minimum, per_second, ratio, memory = cells.split(" | ")
        assert 0 < float(minimum) <= float(median) and float(per_second) == pytest.approx(1 / float(median), rel=0.01)
        assert memory == "-" and (ratio == "1.00" if amp == "none" else float(ratio) > 0)


def test_a_failing_row_is_reported_and_the_others_still_run(train_step, tiny_conf, capsys, monkeypatch):
    step = train_step.train_step

    def fail_fp16(slot, batch, device, amp, scaler, grad_clip):
        if amp == "fp16":
            raise RuntimeError("no | fp16 here\nsecond line")
        return step(slot, batch, device, amp, scaler, grad_clip)

    monkeypatch.setattr(train_step, "train_step", fail_fp16)
    code = train_step.main(["--quick", "--threads", "1", "--conf-dir", str(tiny_conf), "--models", "asr",
                            "--amp", "none", "fp16"])
    out = capsys.readouterr().out
    assert code == 1
    assert [r[:3] for r in rows(out)] == [("ASR", "auto", "none"), ("ASR", "auto", "fp16")]
    assert "| ASR | auto | fp16 | FAILED: RuntimeError: no / fp16 here |" in out
    assert "1 row(s) FAILED" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_and_bad_options_are_refused(train_step, capsys):
    with pytest.raises(SystemExit):
        train_step.main(["--device", "cuda"])
    assert "torch sees no CUDA device" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_step.main(["--amp", "fp8"])
    assert "invalid choice: 'fp8'" in capsys.readouterr().err
