"""Every ``.md`` file that a tracked file names exists in the repository."""
import posixpath
import re
import subprocess
from pathlib import Path

from fixtures.recipe import ROOT

# a path ending in .md, not inside a longer path or word; URLs are removed first
MD_REFERENCE = re.compile(r"(?<![\w./-])((?:\.\.?/)*[\w-][\w./-]*\.md)\b")
URL = re.compile(r"\w+://\S+")


def missing_md_references(root: Path, files: list[str]) -> list[str]:
    """``file:line: name`` for each ``.md`` reference in ``files`` that names none of them.

    ``files`` are paths relative to ``root``. A reference resolves against the directory
    of the file that holds it or any directory above it up to ``root`` (``RESULTS.md`` in
    a recipe's ``conf/`` is the recipe's, ``docs/data.md`` anywhere is the root's).
    """
    known = set(files)
    missing = []
    for name in files:
        path = root / name
        if path.is_symlink() or not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue  # binary
        bases = [posixpath.dirname(name)]
        while bases[-1]:
            bases.append(posixpath.dirname(bases[-1]))
        for n, line in enumerate(lines, 1):
            for ref in MD_REFERENCE.findall(URL.sub("", line)):
                if not any(posixpath.normpath(posixpath.join(base, ref)) in known for base in bases):
                    missing.append(f"{name}:{n}: {ref}")
    return missing


def test_tracked_files_name_only_existing_md_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert len(files) > 100
    this_file = Path(__file__).resolve().relative_to(ROOT).as_posix()  # names missing ones on purpose
    assert missing_md_references(ROOT, [f for f in files if f != this_file]) == []


def test_missing_reference_is_reported_with_file_and_line(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "data.md").write_text("# data\n")
    (tmp_path / "egs" / "x" / "conf").mkdir(parents=True)
    (tmp_path / "egs" / "x" / "RESULTS.md").write_text("figures\n")
    (tmp_path / "egs" / "x" / "conf" / "a.yaml").write_text(
        "# see RESULTS.md and docs/data.md\n# https://example.org/GONE.md\n"
        "lr: 1  # as in NOTES.md section 2\n")
    (tmp_path / "b.py").write_text('"""See ../outside.md, docs/data.md and docs/other.md."""\n')
    (tmp_path / "untracked.md").write_text("not in the list\n")
    (tmp_path / "c.sh").write_text("# see untracked.md\n")
    found = missing_md_references(tmp_path, ["egs/x/conf/a.yaml", "egs/x/RESULTS.md", "b.py",
                                             "c.sh", "docs/data.md"])
    assert found == ["egs/x/conf/a.yaml:3: NOTES.md", "b.py:1: ../outside.md",
                     "b.py:1: docs/other.md", "c.sh:1: untracked.md"]
