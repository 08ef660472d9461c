"""utils/slurm.pl against a real single-node Slurm cluster (skipped where none can start)."""
import subprocess
import sys
import time
from pathlib import Path

from fixtures.recipe import ROOT, copy_recipe, run
from fixtures.slurm import SlurmCluster, free_port, slurm_cluster  # noqa: F401 (the fixture)

CONF = ROOT / "egs" / "TEMPLATE" / "chain1" / "conf" / "slurm.conf"
SLURM = ["slurm.pl", "--config", CONF]

ALLREDUCE = """\
import torch
import torch.distributed as dist
from chain.train.launch import init_distributed
launch = init_distributed("cpu")
total = torch.tensor([launch.rank + 1.0])
dist.all_reduce(total)
print(f"rank {launch.rank} of {launch.world_size}: sum {total.item():g}", flush=True)
dist.destroy_process_group()
"""


def slurm_states(job_name: str, timeout: float = 30.0) -> list[str]:
    """'<task id> <state>' of the jobs called ``job_name`` that the cluster still lists.

    slurm.pl returns once every log has its footer; Slurm may still show a task as
    COMPLETING (epilog, accounting) for a moment after that, so wait for it to settle.
    """
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["squeue", "--noheader", "--array", "--states=all", f"--name={job_name}",
                              "--format=%K %T"], capture_output=True, text=True, check=True).stdout
        states = sorted(out.splitlines())
        if not any(s.endswith(" COMPLETING") for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


def test_array_job_one_log_per_task(slurm_cluster, run_util, tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_PL_TEST_MARK", "from-the-caller")
    cmd = ("echo id=JOB task=$SLURM_ARRAY_TASK_ID cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE "
           "mark=$SLURM_PL_TEST_MARK dir=$(pwd)")
    r = run_util([*SLURM, "--mem", "100M", "--num-threads=2", "JOB=1:3", "exp/log/echo.JOB.log", cmd],
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "slurm.pl: submitted Slurm job" in r.stderr
    for j in (1, 2, 3):
        lines = (tmp_path / f"exp/log/echo.{j}.log").read_text().splitlines()
        assert lines[0] == f"# {cmd.replace('JOB', str(j))}"
        assert lines[1].startswith("# started at ")
        assert lines[2] == f"id={j} task={j} cpus=2 mem=100 mark=from-the-caller dir={tmp_path}"
        assert lines[3].startswith("# ended with exit status 0 at ") and len(lines) == 4
    assert not (tmp_path / "exp/log/echo.4.log").exists()
    assert slurm_states("echo") == ["1 COMPLETED", "2 COMPLETED", "3 COMPLETED"]


def test_failing_tasks_are_named(slurm_cluster, run_util, tmp_path):
    r = run_util([*SLURM, "JOB=1:4", "log/x.JOB.log", "test JOB -ne 2 && test JOB -ne 4"], cwd=tmp_path)
    assert r.returncode == 1
    assert "slurm.pl: 2 of 4 jobs failed, see log/x.2.log log/x.4.log" in r.stderr
    assert "# ended with exit status 1" in (tmp_path / "log/x.2.log").read_text()
    assert "# ended with exit status 0" in (tmp_path / "log/x.3.log").read_text()


def test_max_jobs_run_1_is_sequential_and_a_single_job(slurm_cluster, run_util, tmp_path):
    cmd = "echo start JOB >> trace; sleep 0.2; echo end JOB >> trace"
    r = run_util([*SLURM, "--max-jobs-run", "1", "JOB=1:3", "l/JOB.log", cmd], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    trace = (tmp_path / "trace").read_text().split("\n")[:-1]
    assert trace == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    bad = run_util([*SLURM, "d.log", "exit 3"], cwd=tmp_path)
    assert bad.returncode == 1 and "1 of 1 jobs failed, see d.log" in bad.stderr
    assert "# ended with exit status 3" in (tmp_path / "d.log").read_text()


def test_refused_submission_names_the_config(slurm_cluster, run_util, tmp_path):
    # the template maps --gpu 1 to the partition "gpu", which this cluster does not have
    r = run_util([*SLURM, "--gpu", "1", "g.log", "true"], cwd=tmp_path)
    assert r.returncode == 1
    assert "--partition=gpu --gres=gpu:1" in r.stderr and f"its flags come from {CONF}" in r.stderr


def test_sigterm_cancels_the_job(slurm_cluster, utils_dir, tmp_path):
    p = subprocess.Popen([str(utils_dir / "slurm.pl"), "--config", str(CONF), "s.log", "touch started; sleep 60"],
                         cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if (tmp_path / "started").exists():
            break
        time.sleep(0.05)
    p.terminate()
    assert p.wait(timeout=20) == 143
    assert "got SIGTERM, cancelled Slurm job" in p.stderr.read()
    for _ in range(100):
        if slurm_states("s") == ["N/A CANCELLED"]:
            break
        time.sleep(0.1)
    assert slurm_states("s") == ["N/A CANCELLED"]


def test_two_tasks_join_a_gloo_group_through_srun(slurm_cluster, run_util, tmp_path):
    (tmp_path / "allreduce.py").write_text(ALLREDUCE)
    r = run_util([*SLURM, "--num-tasks", "2", "ddp.log",
                  f"MASTER_PORT={free_port()} srun {sys.executable} allreduce.py"], cwd=tmp_path)
    log = (tmp_path / "ddp.log").read_text()
    assert r.returncode == 0, r.stderr + log
    assert "rank 0 of 2: sum 3" in log and "rank 1 of 2: sum 3" in log


def test_recipe_feature_extraction_as_array_jobs(slurm_cluster, tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "chain1")
    cmd_sh = recipe / "cmd.sh"
    cmd_sh.write_text(cmd_sh.read_text().replace("cmd_backend=local", "cmd_backend=slurm"))
    proc = run('./run.sh --stop-stage 1 --nj 2 --local-data-opts "--num-utts 40 --speakers 1"', cwd=recipe)
    assert proc.stderr.count("slurm.pl: submitted Slurm job") == 3   # train_full, dev, test
    assert slurm_states("feat_extract") == ["1 COMPLETED"] * 3 + ["2 COMPLETED"] * 3
    for dset in ("train_full", "dev", "test"):
        for j in (1, 2):
            assert "# ended with exit status 0" in (recipe / f"dump/{dset}/log/feat_extract.{j}.log").read_text()
    utts = sum(len((recipe / f"dump/{d}/feats.scp").read_text().splitlines()) for d in ("train_full", "dev", "test"))
    assert utts == 40 and (recipe / "data" / "cmvn.ark").is_file()


def test_a_cluster_stops_every_daemon_it_started(slurm_cluster, tmp_path):
    cluster = SlurmCluster(tmp_path)
    try:
        cluster.start()
        assert sorted(cluster.procs) == ["munged", "slurmctld", "slurmd"]
        assert all(proc.poll() is None for proc in cluster.procs.values())
    finally:
        cluster.stop()
    assert all(proc.returncode is not None for proc in cluster.procs.values())
    assert not cluster.munge_dir.exists()
    pids = {str(proc.pid) for proc in cluster.procs.values()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            assert stat.read_text().rsplit(")", 1)[1].split()[1] not in pids   # no child left (slurmscriptd)
        except FileNotFoundError:
            pass


def test_usage_and_config_errors(run_util, tmp_path):
    # no cluster needed: nothing is submitted
    bad_conf = tmp_path / "bad.conf"
    bad_conf.write_text("command sbatch\noption mem=* --mem=$0\nqueue all.q\n")
    no_default_rule = tmp_path / "nodefault.conf"
    no_default_rule.write_text("command sbatch\ndefault gpu=0\n")
    for args, code, message in [
        ([*SLURM, "--queue", "gpu", "l.log", "true"], 2, "unknown option --queue (valid: --config, "
         "--max-jobs-run and what"),
        ([*SLURM, "JOB=1:2", "same.log", "true"], 2, "put JOB in the log name"),
        ([*SLURM, "JOB=3:1", "l/JOB.log", "true"], 2, "first id 3 is after last id 1"),
        ([*SLURM, "--max-jobs-run", "0", "l.log", "true"], 2, "--max-jobs-run must be a positive integer"),
        (["slurm.pl", "--config", bad_conf, "l.log", "true"], 2, f"{bad_conf}:3: expected 'command sbatch"),
        (["slurm.pl", "--config", no_default_rule, "l.log", "true"], 2, "'default gpu=...' has no 'option gpu="),
        (["slurm.pl", "--config", tmp_path / "none.conf", "l.log", "true"], 2, "cannot read the config"),
    ]:
        r = run_util(args, cwd=tmp_path)
        assert r.returncode == code and message in r.stderr, (args, r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.conf", "nodefault.conf"]  # nothing ran
