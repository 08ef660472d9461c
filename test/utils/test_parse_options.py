"""utils/parse_options.sh, sourced by a small script under `set -euo pipefail`."""
import subprocess

import pytest

CALLER = """#!/usr/bin/env bash
set -euo pipefail
stage=1            # first stage to run
stop_stage=100     # last stage to run
use_gpu=false      # run on a GPU
cmd="utils/run.pl --mem 2G"  # job runner
tag=""             # experiment name
help_message=$(cat <<EOF
Usage: $0 [options] <data-dir>
not_an_option=1
EOF
)
. {utils}/parse_options.sh
echo "stage=$stage stop_stage=$stop_stage use_gpu=$use_gpu cmd=$cmd tag=$tag"
echo "rest=$#:$*"
echo "leaked=$(compgen -v | grep -c '^_po_' || true)"
"""


@pytest.fixture
def caller(tmp_path, utils_dir):
    script = tmp_path / "caller.sh"
    script.write_text(CALLER.replace("{utils}", str(utils_dir)))

    def call(*args):
        return subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=30)
    return call


def test_defaults_and_both_option_forms(caller):
    r = caller("--stage", "3", "--stop-stage=5", "--tag", "a b", "--use-gpu=true", "data/x", "more")
    assert r.returncode == 0, r.stderr
    assert "stage=3 stop_stage=5 use_gpu=true cmd=utils/run.pl --mem 2G tag=a b" in r.stdout
    assert "rest=2:data/x more" in r.stdout
    assert "leaked=0" in r.stdout
    r = caller()
    assert "stage=1 stop_stage=100 use_gpu=false" in r.stdout and "rest=0:" in r.stdout


def test_stops_at_first_argument_and_after_double_dash(caller):
    r = caller("data/x", "--stage", "3")
    assert "stage=1 " in r.stdout and "rest=3:data/x --stage 3" in r.stdout
    r = caller("--stage", "2", "--", "--stage", "4")
    assert "stage=2 " in r.stdout and "rest=2:--stage 4" in r.stdout


def test_empty_value_with_equals(caller):
    r = caller("--cmd=", "x")
    assert r.returncode == 0 and "cmd= tag=" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--foo-bar", "1", "x"], "unknown option --foo-bar"),
    (["--help-message", "x", "y"], "unknown option --help-message"),
    (["--use-gpu", "yes", "x"], "--use-gpu must be true or false, got 'yes'"),
    (["--use-gpu=1", "x"], "--use-gpu must be true or false, got '1'"),
    (["--stage"], "option --stage needs a value"),
])
def test_usage_errors_exit_2_with_message(caller, args, message):
    r = caller(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Usage:" in r.stderr          # the caller's help comes with the error
    assert r.stdout == ""                # nothing after the source line ran


def test_help_lists_defaults_and_comments(caller):
    r = caller("--stage", "7", "--help")
    assert r.returncode == 0
    out = r.stdout
    assert out.startswith("Usage: ")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  --")}
    assert "--stage 1" in lines["--stage"] and "first stage to run" in lines["--stage"]
    assert "--stop-stage 100" in lines["--stop-stage"]
    assert "--use-gpu false" in lines["--use-gpu"]
    assert "--cmd 'utils/run.pl --mem 2G'" in lines["--cmd"]
    assert "--tag ''" in lines["--tag"]
    assert "--config" in lines
    assert "--not-an-option" not in out and "--help-message" not in out
    assert caller("-h").returncode == 0


def test_config_file(caller, tmp_path):
    (tmp_path / "good.sh").write_text("# a comment\n\nstage=4\nuse_gpu=true\ntag=from_config\n")
    r = caller("--tag", "cli", "--config", "good.sh", "x")
    assert r.returncode == 0, r.stderr
    assert "stage=4 stop_stage=100 use_gpu=true" in r.stdout
    assert "tag=cli" in r.stdout            # the command line wins wherever it is
    (tmp_path / "bad.sh").write_text("stage=4\nstgae=5\n")
    r = caller("--config", "bad.sh", "x")
    assert r.returncode == 2 and "bad.sh:2: unknown option 'stgae'" in r.stderr
    (tmp_path / "bool.sh").write_text("use_gpu=yes\n")
    r = caller("--config", "bool.sh", "x")
    assert r.returncode == 2 and "use_gpu must be true or false" in r.stderr
    r = caller("--config", "missing.sh", "x")
    assert r.returncode == 2 and "missing.sh" in r.stderr
