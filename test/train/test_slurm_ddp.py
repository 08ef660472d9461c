"""A 2-task DDP training job of the tiny ASR through utils/slurm.pl and srun, on the private
Slurm cluster of fixtures.slurm (skipped where none can start)."""
import subprocess
import sys

import yaml

from fixtures.recipe import ROOT
from fixtures.slurm import free_port, slurm_cluster  # noqa: F401 (the fixture)
from fixtures.tiny import TINY_ASR


def test_two_tasks_train_the_asr_with_srun(slurm_cluster, espeak_recipe, tmp_path):
    conf, exp = tmp_path / "asr.yaml", tmp_path / "asr"
    conf.write_text(yaml.safe_dump(TINY_ASR))
    command = [ROOT / "utils" / "slurm.pl", "--config", ROOT / "egs/TEMPLATE/chain1/conf/slurm.conf",
               "--num-tasks", "2", "--num-threads", "1", exp / "log" / "asr_train.log",
               f"MASTER_PORT={free_port()}", "srun", sys.executable, "-m", "chain.bin.asr_train", "--config", conf,
               "--train-dir", "dump/train_full", "--dev-dir", "dump/dev", "--dev-metric", "loss",
               "--dev-cer-every", "0", "--exp-dir", exp]
    r = subprocess.run(list(map(str, command)), cwd=espeak_recipe, capture_output=True, text=True, timeout=120)
    job_log = (exp / "log" / "asr_train.log").read_text()
    assert r.returncode == 0, r.stderr + job_log[-3000:]
    assert "global batch = per-rank batch (batch_size 8) x 2 ranks = batch_size 16" in job_log
    assert (exp / "train.log").read_text().count("epoch 1: lr") == 1  # rank 0 alone writes it
    assert (exp / "checkpoints" / "epoch1.pt").is_file() and (exp / "best.pt").is_file()
