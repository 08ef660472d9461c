import contextlib
import os
import signal
import subprocess
import sys
import time

import kaldiio
import numpy as np
import pytest
import soundfile

import chain.feats.extract as extract
from chain.data.datadir import DataError, read_kv
from chain.feats.fbank import Fbank, FbankConfig

FS = 16000


def make_scp(tmp_path, seconds=(0.5, 0.3, 0.8), bad=None):
    """wav.scp of noise files; ``bad``: (index, value) replaces one entry."""
    rng = np.random.default_rng(0)
    lines, audio = [], {}
    for i, sec in enumerate(seconds):
        x = (0.1 * rng.standard_normal(int(sec * FS))).astype(np.float32)
        path = tmp_path / f"u{i}.wav"
        soundfile.write(path, x, FS, subtype="FLOAT")
        value = bad[1] if bad and bad[0] == i else str(path)
        lines.append(f"u{i} {value}\n")
        audio[f"u{i}"] = x
    scp = tmp_path / "wav.scp"
    scp.write_text("".join(lines))
    return scp, audio


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "chain.bin.feat_extract", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def outputs(out):
    return sorted(p.name for p in out.iterdir())


def test_cli_writes_ark_scp_readable_by_kaldiio(tmp_path):
    scp, audio = make_scp(tmp_path)
    out = tmp_path / "dump"
    proc = cli("--wav-scp", scp, "--out-dir", out, "--job", 2)
    assert outputs(out) == ["feats.2.ark", "feats.2.scp", "linear.2.ark", "linear.2.scp",
                            "utt2dur.2", "utt2num_frames.2"]
    assert "feat_extract: job 2: 3 utterances, 1.6 s of audio" in proc.stderr
    assert "feat_extract: job 2: 100% (3 of 3 utterances" in proc.stderr
    feats, linear = kaldiio.load_scp(str(out / "feats.2.scp")), kaldiio.load_scp(str(out / "linear.2.scp"))
    num_frames, durs = read_kv(out / "utt2num_frames.2"), read_kv(out / "utt2dur.2")
    assert list(feats) == list(linear) == list(num_frames) == ["u0", "u1", "u2"]
    fbank = Fbank(FbankConfig())
    for utt, x in audio.items():
        mel, lin = feats[utt], linear[utt]
        assert mel.dtype == np.float32 and mel.shape == (int(num_frames[utt]), 80)
        assert lin.shape == (mel.shape[0], 1025)
        assert mel.shape[0] == 1 + len(x) // 200
        assert float(durs[utt]) == pytest.approx(len(x) / FS, abs=1e-4)
        ref_mel, ref_lin = fbank(x)
        np.testing.assert_allclose(mel, ref_mel, atol=1e-5)  # BLAS threads may change the last bit
        np.testing.assert_allclose(lin, ref_lin, atol=1e-5)


def test_cli_config_yaml_segments_and_no_linear(tmp_path):
    scp, audio = make_scp(tmp_path, seconds=(1.0,))
    segs = tmp_path / "segments"
    segs.write_text("u0-a u0 0.0 0.4\nu0-b u0 0.4 1.0\n")
    conf = tmp_path / "fbank.yaml"
    conf.write_text("fs: 16000\nn_fft: 1024\nwin_length_ms: 40\nn_mels: 40\nfmax: null\n")
    out = tmp_path / "dump"
    cli("--config", conf, "--wav-scp", scp, "--segments", segs, "--out-dir", out, "--job", 1,
        "--write-linear", "false")
    assert outputs(out) == ["feats.1.ark", "feats.1.scp", "utt2dur.1", "utt2num_frames.1"]
    feats = kaldiio.load_scp(str(out / "feats.1.scp"))
    assert feats["u0-a"].shape == (1 + 6400 // 200, 40) and feats["u0-b"].shape == (1 + 9600 // 200, 40)
    cfg = FbankConfig(n_fft=1024, win_length_ms=40, n_mels=40)
    np.testing.assert_allclose(feats["u0-b"], Fbank(cfg)(audio["u0"][6400:], linear=False)[0], atol=1e-5)


def test_cli_rejects_unknown_config_key_by_name(tmp_path):
    conf = tmp_path / "fbank.yaml"
    conf.write_text("n_fft: 1024\nn_mel: 40\n")
    proc = cli("--config", conf, "--wav-scp", "x", "--out-dir", tmp_path, check=False)
    assert proc.returncode == 2 and "n-mel" in proc.stderr


def test_cli_corrupt_wav_midway_fails_and_leaves_no_scp(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    scp, _ = make_scp(tmp_path, bad=(1, tmp_path / "bad.wav"))
    out = tmp_path / "dump"
    out.mkdir()
    (out / "feats.3.scp").write_text("u0 feats.3.ark:5\n")  # from an earlier run: must not survive
    proc = cli("--wav-scp", scp, "--out-dir", out, "--job", 3, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"feat_extract: error: {scp}:2: utterance 'u1': cannot read")
    assert outputs(out) == []  # no scp (old or new), no utt2*, no partial ark, no temp file


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_job_leaves_no_scp(tmp_path, sig):
    scp, _ = make_scp(tmp_path, bad=(1, "sleep 60; cat x.wav |"))
    out = tmp_path / "dump"
    proc = subprocess.Popen([sys.executable, "-m", "chain.bin.feat_extract", "--wav-scp", str(scp),
                             "--out-dir", str(out), "--job", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while not any(p.name.startswith(".feats.1.scp") for p in out.glob(".*")) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # u0 is written, the job waits on u1's command
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) != 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the sleep too
        proc.wait()
    assert not (out / "feats.1.scp").exists() and not (out / "utt2num_frames.1").exists()
    if sig == signal.SIGTERM:
        assert outputs(out) == []  # a terminated job also removes its partial arks


def test_library_failure_cleans_up(tmp_path, monkeypatch):
    scp, _ = make_scp(tmp_path)
    calls = []

    def fail_second(self, x, linear=True):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, x, linear)

    real = extract.Fbank.__call__
    monkeypatch.setattr(extract.Fbank, "__call__", fail_second)
    with pytest.raises(KeyboardInterrupt):
        extract.extract_job(scp, tmp_path / "dump", "1")
    assert outputs(tmp_path / "dump") == []


def test_library_bad_input_is_data_error_before_writing(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text("b x.wav\na y.wav\n")
    with pytest.raises(DataError, match="not sorted"):
        extract.extract_job(scp, tmp_path / "dump", "1")
    assert not (tmp_path / "dump").exists()


def test_compute_cmvn_cli(tmp_path):
    scp, _ = make_scp(tmp_path)
    summary = extract.extract_job(scp, tmp_path / "dump", None, write_linear=False)
    assert summary.utterances == 3 and (tmp_path / "dump" / "feats.scp").exists()
    proc = subprocess.run([sys.executable, "-m", "chain.bin.compute_cmvn", tmp_path / "dump" / "feats.scp",
                           tmp_path / "cmvn.ark"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"3 utterances, {summary.frames} frames, dim 80" in proc.stdout
    stats = kaldiio.load_mat(str(tmp_path / "cmvn.ark"))
    assert stats.shape == (2, 81) and stats[0, -1] == summary.frames
    proc = subprocess.run([sys.executable, "-m", "chain.bin.compute_cmvn", tmp_path / "nope.scp",
                           tmp_path / "x.ark"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "nope.scp: no such file" in proc.stderr
