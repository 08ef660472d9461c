"""Stage 1 re-runs: a killed run leaves nothing trusted, and changed inputs are re-extracted."""
import os
import random
import shutil
import signal
import subprocess
import time

import kaldiio
import numpy as np
import pytest

from fixtures.recipe import run

SETS = ("train_full", "dev", "test", "train_paired", "train_speech_only")
STAGE1 = "./run.sh --stage 1 --stop-stage 1 --nj 2"


def features(recipe):
    """Every matrix of stage 1 by (set, scp, utterance), and the CMVN stats."""
    out = {}
    cwd = os.getcwd()
    os.chdir(recipe)  # scp files name their arks relative to the recipe dir
    try:
        for dset in SETS:
            for scp in ("feats.scp", "linear.scp"):
                for utt, mat in kaldiio.load_scp_sequential(f"dump/{dset}/{scp}"):
                    out[dset, scp, utt] = mat
        for name in ("cmvn.ark", "cmvn_linear.ark"):
            out[name] = kaldiio.load_mat(f"data/{name}")
    finally:
        os.chdir(cwd)
    return out


def assert_same(a, b):
    assert sorted(map(str, a)) == sorted(map(str, b))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=str(key))


def leftover_processes(recipe):
    """Processes whose working directory is the recipe (what a killed stage could leave)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(recipe)):
                found.append(pid)
        except OSError:
            pass
    return found


def slow_wav_scp(recipe, dset, seconds):
    """Read the wavs of ``dset`` through a command that takes ``seconds`` per utterance."""
    scp = recipe / "data" / dset / "wav.scp"
    scp.write_text("".join(f"{utt} sleep {seconds}; cat {path} |\n" for utt, path in
                           (line.split() for line in scp.read_text().splitlines())))


@pytest.fixture(scope="module")
def extracted(stage0_recipe, tmp_path_factory):
    """Stage 1 of a copy of ``stage0_recipe``, uninterrupted: ``(recipe dir, its features,
    seconds it took)``; read-only."""
    recipe = tmp_path_factory.mktemp("extracted") / "chain1"
    shutil.copytree(stage0_recipe, recipe, symlinks=True, ignore=shutil.ignore_patterns("downloads"))
    start = time.monotonic()
    run(STAGE1, cwd=recipe)
    return recipe, features(recipe), time.monotonic() - start


@pytest.fixture
def extracted_copy(extracted, tmp_path):
    """A private copy of the ``extracted`` recipe (its scp files name arks relative to it)."""
    shutil.copytree(extracted[0], tmp_path / "chain1", symlinks=True)
    return tmp_path / "chain1"


def wait_for(path, timeout=30.0):
    end = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.01)


def test_kill_stage1_then_rerun_gives_the_uninterrupted_features(recipe, extracted):
    """kill -9 of the stage's process group at seeded points, each followed by a quick re-run."""
    _, reference, duration = extracted
    slow_wav_scp(recipe, "train_full", 0.15)  # jobs that outlive a kill if nothing stops them
    rng = random.Random(12)
    # a seeded delay after: the train_full jobs start, the dev job starts, the stage starts
    points = [("dump/train_full/log/feat_extract.1.log", rng.uniform(0, 0.5)),
              ("dump/dev/log/feat_extract.1.log", rng.uniform(0, 0.3)),
              ("data", rng.uniform(0, duration))]
    for path, delay in points:
        if (recipe / "dump").exists():
            shutil.rmtree(recipe / "dump")  # a first run, killed
        proc = subprocess.Popen(["bash", "-c", STAGE1], cwd=recipe, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(recipe / path)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)  # what kill -9 of a terminal's job does
        proc.wait()
        run(STAGE1, cwd=recipe)  # at once, while the killed run's jobs may still be there
        assert_same(features(recipe), reference)
        assert not list(recipe.glob("dump/**/*.tmp")) and not list(recipe.glob("data/**/*.tmp"))
    assert leftover_processes(recipe) == []
    rerun = run(STAGE1, cwd=recipe).stderr
    assert rerun.count("features up to date, skipped") == 3, rerun


def test_finished_set_with_a_lost_ark_is_extracted_again(extracted_copy, extracted):
    recipe, reference = extracted_copy, extracted[1]
    ark = next((recipe / "dump" / "dev").glob("data*/feats.1.ark"))
    ark.write_bytes(ark.read_bytes()[:100])
    leftovers = [recipe / "data/.cmvn.ark.x1y2.tmp", recipe / "dump/test/.utt2dur.x1y2.tmp"]
    for path in leftovers:  # what writers killed by kill -9 leave
        path.write_text("partial")
    rerun = run(STAGE1, cwd=recipe)
    assert not any(path.exists() for path in leftovers)
    assert "data: removed 1 temp file(s) left by a killed run" in rerun.stderr
    assert "dump/dev: features up to date" not in rerun.stderr
    assert "dump/dev: features incomplete" in rerun.stderr and "cut short" in rerun.stderr
    assert_same(features(recipe), reference)


def test_changed_wav_scp_or_config_is_extracted_again(extracted_copy):
    recipe = extracted_copy
    test_wav = (recipe / "data/test/wav.scp").read_text().split()[1]
    dev_utt = (recipe / "data/dev/wav.scp").read_text().split()[0]
    (recipe / "data/dev/wav.scp").write_text(f"{dev_utt} {test_wav}\n")  # dev now speaks test's wav
    rerun = run(STAGE1, cwd=recipe)
    assert "dump/dev: features up to date" not in rerun.stderr
    assert "dump/test: features up to date, skipped" in rerun.stderr
    feats = features(recipe)
    test_utt = next(k[2] for k in feats if k[0] == "test")
    np.testing.assert_array_equal(feats["dev", "feats.scp", dev_utt], feats["test", "feats.scp", test_utt])

    conf = recipe / "conf" / "fbank.yaml"
    conf.write_text(conf.read_text().replace("n_mels: 80", "n_mels: 40"))
    rerun = run(STAGE1, cwd=recipe)
    assert "up to date" not in rerun.stderr
    assert features(recipe)["dev", "feats.scp", dev_utt].shape[1] == 40
