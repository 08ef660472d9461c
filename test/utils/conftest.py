"""Fixtures for the tests of the shell utilities in utils/: run a script, write a data dir."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"


def _run(args: list, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    cmd = [str(UTILS / str(args[0]))] + [str(a) for a in args[1:]]
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60)


def _make_dir(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (path / name).write_text(content)
    return path


@pytest.fixture
def utils_dir() -> Path:
    return UTILS


@pytest.fixture
def run_util():
    """``run_util(["split_scp", in, out1, ...], cwd=, stdin=)`` runs utils/split_scp, text output captured."""
    return _run


@pytest.fixture
def make_dir():
    """``make_dir(path, {name: content})`` creates a dir holding those files."""
    return _make_dir


@pytest.fixture
def good_files() -> dict[str, str]:
    """A valid data dir: 2 speakers, 4 utterances, wav.scp, text, utt2num_frames."""
    return {
        "utt2spk": "spkA-u1 spkA\nspkA-u2 spkA\nspkB-u1 spkB\nspkB-u2 spkB\n",
        "spk2utt": "spkA spkA-u1 spkA-u2\nspkB spkB-u1 spkB-u2\n",
        "text": "spkA-u1 hello world\nspkA-u2 good morning\nspkB-u1 yes\nspkB-u2 no thanks\n",
        "wav.scp": "spkA-u1 /w/a1.wav\nspkA-u2 /w/a2.wav\nspkB-u1 sox /w/b1.flac -t wav - |\nspkB-u2 /w/b2.wav\n",
        "utt2num_frames": "spkA-u1 100\nspkA-u2 120\nspkB-u1 90\nspkB-u2 80\n",
    }
