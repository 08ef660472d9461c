"""What users are told about wav.scp commands, and that the tools point to files that exist."""
import re
import subprocess
import sys

from fixtures.recipe import ROOT


def test_wav_scp_commands_are_said_to_run_through_the_shell():
    help_text = subprocess.run([sys.executable, "-m", "chain.bin.feat_extract", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "runs with 'bash -o pipefail -c', as in Kaldi" in " ".join(help_text.split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "A `wav.scp` value that ends in `|` is a shell command" in readme
    assert "run with `bash -o pipefail -c` as Kaldi runs it" in readme


def test_data_dir_scripts_name_files_of_the_repository():
    for script in ("validate_data_dir.sh", "fix_data_dir.sh"):
        named = re.findall(r"\b(?:docs|egs|utils|chain)/[\w./-]+\.(?:md|sh|py)\b",
                           (ROOT / "utils" / script).read_text())
        assert named and all((ROOT / path).is_file() for path in named), (script, named)
