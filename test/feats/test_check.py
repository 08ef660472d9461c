"""chain.feats.check: a feature dir is complete only if every utterance has a readable matrix."""
import kaldiio
import numpy as np
import pytest

from chain.data.datadir import DataError
from chain.feats.check import check_feature_dir


@pytest.fixture
def dump(tmp_path, monkeypatch):
    """dump/x with feats.scp and linear.scp of 3 utterances (ark paths relative to tmp_path)."""
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "dump/x"
    d.mkdir(parents=True)
    frames = {"a": 5, "b": 7, "c": 3}
    for name, dim in (("feats", 4), ("linear", 6)):
        with kaldiio.WriteHelper(f"ark,scp:dump/x/{name}.ark,dump/x/{name}.scp") as w:
            for utt, n in frames.items():
                w(utt, np.ones((n, dim), np.float32))
    (d / "utt2spk").write_text("a s\nb s\nc s\n")
    (d / "utt2num_frames").write_text("".join(f"{u} {n}\n" for u, n in frames.items()))
    return d


def test_complete_dir(dump):
    assert check_feature_dir(dump) == 3


def cut_ark(dump):
    ark = dump / "linear.ark"
    ark.write_bytes(ark.read_bytes()[:-10])


def drop_line(dump):
    scp = dump / "feats.scp"
    scp.write_text("".join(scp.read_text().splitlines(keepends=True)[:2]))


@pytest.mark.parametrize("damage, message", [
    (cut_ark, r"linear.scp:3: utterance 'c': cannot read the matrix .*the 3 x 6 matrix at offset \d+ ends "
              r"at byte \d+, the ark has \d+ \(cut short\)"),
    (lambda d: (d / "feats.ark").unlink(), r"feats.scp:1: utterance 'a': cannot read the matrix .*No such file"),
    (lambda d: (d / "feats.ark").write_bytes(b"\0" * 400), r"feats.scp:1: .*no float matrix header at offset"),
    (drop_line, r"feats.scp: has 2 utterances, utt2spk 3: missing \['c'\]"),
    (lambda d: (d / "utt2num_frames").write_text("a 5\nb 8\nc 3\n"),
     r"feats.scp:2: utterance 'b': 7 frames, utt2num_frames says 8"),
    (lambda d: (d / "linear.scp").unlink(), None),  # a dir without linear features is complete
])
def test_damaged_dir(dump, damage, message):
    damage(dump)
    if message is None:
        assert check_feature_dir(dump) == 3
    else:
        with pytest.raises(DataError, match=message):
            check_feature_dir(dump)
