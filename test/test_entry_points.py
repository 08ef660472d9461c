"""Every entry point answers --help without data or GPU, as a module and as a console script."""
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parents[1] / "chain" / "bin"
NAMES = sorted(p.stem for p in BIN.glob("*.py") if not p.stem.startswith("_"))


def test_there_are_entry_points():
    assert {"feat_extract", "asr_train", "tts_train", "score"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_module_help(name):
    proc = subprocess.run([sys.executable, "-m", f"chain.bin.{name}", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and "--config" in proc.stdout


@pytest.mark.parametrize("name", NAMES)
def test_console_script_installed(name):
    script = Path(sys.executable).parent / f"chain-{name}"
    assert script.is_file(), f"{script}: missing (run 'make install' to register new entry points)"
