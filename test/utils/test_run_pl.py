"""utils/run.pl: local job arrays with one log per job."""
import os
import signal
import subprocess
import time

import pytest


def test_job_array_logs_and_substitution(run_util, tmp_path):
    r = run_util(["run.pl", "JOB=1:3", "exp/log/echo.JOB.log", "echo", "id=JOB"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        lines = (tmp_path / f"exp/log/echo.{j}.log").read_text().splitlines()
        assert lines[0] == f"# echo id={j}"
        assert lines[1].startswith("# started at ")
        assert lines[2] == f"id={j}"
        assert lines[3].startswith("# ended with exit status 0 at ") and "elapsed time" in lines[3]
    assert not (tmp_path / "exp/log/echo.4.log").exists()


def test_quoted_command_runs_through_bash(run_util, tmp_path):
    r = run_util(["run.pl", "JOB=1:2", "l/JOB.log", "echo JOB | sed s/^/x/ >&2"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "\nx2\n" in (tmp_path / "l/2.log").read_text()     # stderr goes to the log too


def test_words_with_spaces_are_quoted_others_verbatim(run_util, tmp_path):
    # "a  b" and "it's" arrive as one argument each; the bare word "|" is a pipe (Kaldi convention)
    r = run_util(["run.pl", "one.log", "printf", "%s.", "a  b", "it's", "|", "tr", "a", "A"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "\nA  b.it's.\n# ended" in (tmp_path / "one.log").read_text()


def test_failing_jobs_are_named(run_util, tmp_path):
    r = run_util(["run.pl", "JOB=1:4", "log/x.JOB.log", "test JOB -ne 2 && test JOB -ne 4"], cwd=tmp_path)
    assert r.returncode == 1
    assert "run.pl: 2 of 4 jobs failed, see log/x.2.log log/x.4.log" in r.stderr
    assert "# ended with exit status 1" in (tmp_path / "log/x.2.log").read_text()
    assert "# ended with exit status 0" in (tmp_path / "log/x.3.log").read_text()


def test_single_job_without_array(run_util, tmp_path):
    ok = run_util(["run.pl", "a/b/c.log", "echo", "hi"], cwd=tmp_path)
    assert ok.returncode == 0 and "\nhi\n" in (tmp_path / "a/b/c.log").read_text()
    bad = run_util(["run.pl", "d.log", "exit 3"], cwd=tmp_path)
    assert bad.returncode == 1 and "1 of 1 jobs failed, see d.log" in bad.stderr
    assert "# ended with exit status 3" in (tmp_path / "d.log").read_text()


def test_range_not_starting_at_one_and_ignored_options(run_util, tmp_path):
    r = run_util(["run.pl", "--gpu", "1", "--mem=4G", "--num-threads", "2", "JOB=3:5", "l/JOB.log", "true"],
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["3.log", "4.log", "5.log"]


def test_jobs_run_in_parallel_by_default(run_util, tmp_path):
    # each job succeeds only if it sees all three jobs started: they must overlap
    cmd = "touch started.JOB; for i in $(seq 100); do [ $(ls started.* | wc -l) -eq 3 ] && exit 0; sleep 0.05; done; exit 1"
    r = run_util(["run.pl", "JOB=1:3", "l/JOB.log", cmd], cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_max_jobs_run_1_is_sequential(run_util, tmp_path):
    cmd = "echo start JOB >> trace; sleep 0.1; echo end JOB >> trace"
    r = run_util(["run.pl", "--max-jobs-run", "1", "JOB=1:3", "l/JOB.log", cmd], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    trace = (tmp_path / "trace").read_text().split("\n")[:-1]
    assert trace == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]


@pytest.mark.parametrize("args, message", [
    (["x.log"], "expected a log file and a command"),
    (["JOB=1:2", "same.log", "true"], "put JOB in the log name"),
    (["JOB=3:1", "l/JOB.log", "true"], "first id 3 is after last id 1"),
    (["JOB=a:b", "l/JOB.log", "true"], "bad job range"),
    (["--max-jobs-run", "0", "l.log", "true"], "--max-jobs-run must be a positive integer"),
    (["--queue", "gpu", "l.log", "true"], "unknown option --queue"),
])
def test_usage_errors(run_util, tmp_path, args, message):
    r = run_util(["run.pl", *args], cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr and "Usage:" in r.stderr
    assert list(tmp_path.iterdir()) == []       # nothing ran


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_sigterm_stops_running_jobs(utils_dir, tmp_path):
    p = subprocess.Popen([str(utils_dir / "run.pl"), "JOB=1:2", "l/JOB.log", "echo $$ > pid.JOB; sleep 30"],
                         cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    pids = [tmp_path / "pid.1", tmp_path / "pid.2"]
    for _ in range(200):
        if all(f.exists() and f.read_text().strip() for f in pids):
            break
        time.sleep(0.02)
    p.terminate()
    assert p.wait(timeout=10) == 143
    assert "got SIGTERM" in p.stderr.read()
    time.sleep(0.2)
    assert not any(_alive(int(f.read_text())) for f in pids)


@pytest.mark.parametrize("whole_group", [False, True])
def test_jobs_die_with_a_killed_run_pl(utils_dir, tmp_path, whole_group):
    """kill -9 of run.pl (or of its process group) stops its jobs, whose groups are their own."""
    p = subprocess.Popen([str(utils_dir / "run.pl"), "JOB=1:2", "l/JOB.log", "echo $$ > pid.JOB; sleep 30"],
                         cwd=tmp_path, start_new_session=True)
    pids = [tmp_path / "pid.1", tmp_path / "pid.2"]
    for _ in range(200):
        if all(f.exists() and f.read_text().strip() for f in pids):
            break
        time.sleep(0.02)
    if whole_group:
        os.killpg(p.pid, signal.SIGKILL)
    else:
        p.kill()
    p.wait()
    logs = [tmp_path / "l/1.log", tmp_path / "l/2.log"]
    for _ in range(100):
        if all("# ended" in f.read_text() for f in logs):
            break
        time.sleep(0.02)
    assert not any(_alive(int(f.read_text())) for f in pids)
    for f in logs:
        log = f.read_text()
        assert "run.pl was killed; stopping this job" in log and "# ended with exit status 143" in log
