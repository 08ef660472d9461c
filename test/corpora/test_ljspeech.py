import subprocess
import sys
from pathlib import Path

import pytest

from chain.corpora.ljspeech import prepare, read_metadata
from chain.data.datadir import DataDir, DataError
from fixtures.ljspeech import make_ljspeech_fixture

SETS = ("train_full", "train_paired", "train_speech_only", "train_text_only", "dev", "test")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_ljspeech_fixture(tmp_path_factory.mktemp("corpus"), num_utts=40)


def test_read_metadata(db):
    corpus = read_metadata(db)
    assert len(corpus.utts) == 40 and corpus.utts[0] == "LJ001-0001"
    assert set(corpus.utt2spk.values()) == {"LJ"}
    for utt, wav in corpus.wav_scp.items():
        assert Path(wav).is_absolute() and Path(wav).is_file() and wav.endswith(f"/{utt}.wav")
    raw = (db / "metadata.csv").read_text().splitlines()[0].split("|")
    text = corpus.text["LJ001-0001"]
    assert '"' in raw[2] and '"' not in text and "'" in text  # normalised column, " -> '
    assert text == text.lower() and "  " not in text


def test_prepare_writes_the_chain_sets(db, tmp_path):
    sets = prepare(db, tmp_path / "data", seed=0)
    loaded = {name: DataDir.load(tmp_path / "data" / name) for name in SETS}
    assert set(sets) == set(SETS)
    n = {name: len(d.utts) for name, d in loaded.items()}
    assert n["train_full"] + n["dev"] + n["test"] == 40
    assert n["dev"] == n["test"] == round(0.03 * 40)
    assert n["train_paired"] == round(0.30 * n["train_full"])
    assert n["train_speech_only"] == round(0.35 * n["train_full"])
    assert n["train_paired"] + n["train_speech_only"] + n["train_text_only"] == n["train_full"]
    parts = [set(loaded[s].utts) for s in ("train_paired", "train_speech_only", "train_text_only")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set.union(*parts) == set(loaded["train_full"].utts)
    assert not set(loaded["train_full"].utts) & (set(loaded["dev"].utts) | set(loaded["test"].utts))
    out = tmp_path / "data"
    assert not (out / "train_speech_only" / "text").exists()
    assert not (out / "train_text_only" / "wav.scp").exists()
    assert (out / "train_paired" / "text").exists() and (out / "train_paired" / "wav.scp").exists()
    for name in SETS:
        keys = [line.split()[0] for line in (out / name / "utt2spk").read_text().splitlines()]
        assert keys == sorted(keys, key=str.encode)


def test_prepare_is_deterministic(db, tmp_path):
    a = prepare(db, tmp_path / "a", seed=3)
    b = prepare(db, tmp_path / "b", seed=3)
    c = prepare(db, tmp_path / "c", seed=4)
    assert all(a[s].utts == b[s].utts for s in SETS)
    assert any(a[s].utts != c[s].utts for s in SETS)
    for name in ("train_paired", "dev"):
        assert (tmp_path / "a" / name / "text").read_text() == (tmp_path / "b" / name / "text").read_text()


def test_fallback_to_raw_text(tmp_path):
    db = make_ljspeech_fixture(tmp_path, num_utts=2)
    first = (db / "metadata.csv").read_text().splitlines()[0]
    (db / "metadata.csv").write_text(f'{first}\nLJ001-0002|Raw "Text" (1820)!|\n')
    assert read_metadata(db).text["LJ001-0002"] == "raw 'text' 1820."


@pytest.mark.parametrize("bad, what", [
    ("LJ001-0002|only two fields", "expected 3 fields"),
    ("LJ001-0002|a|b|c", "expected 3 fields"),
    ("LJ001 0002|a|b", "bad clip id"),
    ("LJ001-0001|a|b", "clip id LJ001-0001 appears twice"),
    ("LJ001-0002|  |", "no text for clip LJ001-0002"),
    ("", "expected 3 fields"),
])
def test_bad_metadata_line(tmp_path, bad, what):
    db = make_ljspeech_fixture(tmp_path, num_utts=3)
    lines = (db / "metadata.csv").read_text().splitlines()
    lines[1] = bad
    (db / "metadata.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=f"{db / 'metadata.csv'}:2: {what}"):
        read_metadata(db)


def test_missing_wav(tmp_path):
    db = make_ljspeech_fixture(tmp_path, num_utts=3)
    (db / "wavs" / "LJ001-0003.wav").unlink()
    with pytest.raises(DataError, match=rf"metadata.csv:3: no such wav file \S+/wavs/LJ001-0003.wav"):
        read_metadata(db)


def test_too_few_clips(tmp_path):
    db = make_ljspeech_fixture(tmp_path, num_utts=3)
    with pytest.raises(ValueError, match="3 utterances are too few .* train_paired, "
                                         "train_speech_only would be empty"):
        prepare(db, tmp_path / "data")
    with pytest.raises(ValueError, match="--paired \\+ --speech-only must be at most 1"):
        prepare(db, tmp_path / "data", paired=0.7, speech_only=0.5)
    assert not (tmp_path / "data").exists()


def test_cli(db, tmp_path):
    cmd = [sys.executable, "-m", "chain.bin.prepare_ljspeech", "--db-dir", str(db),
           "--out-dir", str(tmp_path / "data"), "--seed", "1"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "train_paired: 11 utterances" in run.stdout and "dev: 1 utterances" in run.stdout
    assert all((tmp_path / "data" / name / "utt2spk").is_file() for name in SETS)
    run = subprocess.run([*cmd[:4], str(tmp_path / "nowhere"), *cmd[5:]], capture_output=True, text=True)
    assert run.returncode == 1 and "metadata.csv: no such file" in run.stderr
