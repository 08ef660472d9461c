"""The generic importer: a folder of audio files plus a transcript file -> one data dir."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from chain.corpora.folder import find_audio, import_folder, read_transcripts
from chain.data.datadir import DataDir, DataError

UTILS = Path(__file__).resolve().parents[2] / "utils"

METADATA = """\
a1|Hello, World!
a2|Raw text 2|Caf\u00e9 "D\u00e9j\u00e0 vu"
b1|I have 2 cats & 1 dog.
b2|ok
orphan|no file here
b5|
"""


def tone(path: Path, seconds: float, rate: int) -> None:
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


@pytest.fixture
def folder(tmp_path):
    """Nested speaker dirs, a flac at 22.05 kHz, a file without transcript, a transcript
    without file, an empty transcript, digits and '&' outside the character set."""
    audio = tmp_path / "corpus" / "audio"
    tone(audio / "alice" / "s1" / "a1.wav", 0.5, 16000)
    tone(audio / "alice" / "a2.flac", 0.75, 22050)
    tone(audio / "bob" / "b1.wav", 0.5, 16000)
    tone(audio / "bob" / "deep" / "er" / "b2.wav", 0.25, 16000)
    tone(audio / "bob" / "b3.wav", 0.5, 16000)  # no transcript
    tone(audio / "bob" / "b5.wav", 0.5, 16000)  # empty transcript
    (audio / "bob" / "notes.txt").write_text("not audio\n")
    (tmp_path / "corpus" / "metadata.csv").write_text(METADATA, encoding="utf-8")
    return tmp_path / "corpus"


def test_import_folder(folder):
    data, report = import_folder(folder / "audio", folder / "metadata.csv", speaker_from="dir")
    assert data.utts == ["alice-a1", "alice-a2", "bob-b2"]
    assert data.utt2spk == {"alice-a1": "alice", "alice-a2": "alice", "bob-b2": "bob"}
    assert data.text == {"alice-a1": "hello, world.", "alice-a2": "cafe 'deja vu'", "bob-b2": "ok"}
    assert data.wav_scp["alice-a2"] == str((folder / "audio/alice/a2.flac").resolve())
    assert data.wav_scp["bob-b2"].endswith("/bob/deep/er/b2.wav")
    assert float(data.extra["utt2dur"]["alice-a2"]) == pytest.approx(0.75, abs=1e-3)
    assert report.audio_files == 6 and report.transcripts == 6
    assert report.no_transcript == [str((folder / "audio/bob/b3.wav").resolve())]
    assert report.no_audio == [f"{folder / 'metadata.csv'}:5 (orphan)"]
    assert report.empty == [f"{folder / 'metadata.csv'}:6 (b5)"]
    assert report.outside == {"2": 1, "1": 1, "&": 1}
    assert report.outside_utts == [f"{folder / 'metadata.csv'}:3 (b1)"]
    assert report.normalised == 3  # a1, a2, b1 (b2 was already normal)
    assert report.sample_rates == {16000: 2, 22050: 1}
    lines = "\n".join(report.lines())
    for part in ("skipped 1 audio files without a transcript", "skipped 1 transcripts without an audio",
                 "skipped 1 empty", "normalised 3 of 6", "1 transcripts with characters outside the "
                 "set ('2' x1, '&' x1, '1' x1), skipped: ", "sample rates 16000 Hz x2, 22050 Hz x1"):
        assert part in lines


def test_outside_charset_delete_and_keep(folder):
    deleted, report = import_folder(folder / "audio", folder / "metadata.csv", speaker="me",
                                    outside="delete")
    assert deleted.text["me-b1"] == "i have cats dog." and set(deleted.utt2spk.values()) == {"me"}
    assert "), the characters deleted: " in "\n".join(report.lines())
    kept, _ = import_folder(folder / "audio", folder / "metadata.csv", outside="keep", normalise=False)
    assert kept.text["spk-b1"] == "I have 2 cats & 1 dog." and kept.text["spk-a1"] == "Hello, World!"


def test_kaldi_transcripts_and_utt2spk(folder):
    (folder / "text").write_text("a1 first one\nb2\tsecond one\n")
    (folder / "utt2spk").write_text("a1 x\nb2 y\n")
    data, report = import_folder(folder / "audio", folder / "text", utt2spk=folder / "utt2spk")
    assert data.text == {"x-a1": "first one", "y-b2": "second one"}
    assert data.utt2spk == {"x-a1": "x", "y-b2": "y"} and len(report.no_transcript) == 4
    (folder / "utt2spk").write_text("a1 x\n")
    with pytest.raises(DataError, match="utt2spk: no speaker for 'b2'"):
        import_folder(folder / "audio", folder / "text", utt2spk=folder / "utt2spk")


@pytest.mark.parametrize("content, message", [
    ("a1|x\na1|y\n", ":2: id 'a1' appears twice \\(first on line 1\\)"),
    ("a1|x\nb2 no pipe\n", ":2: expected 'id\\|text'"),
    ("a 1|x\n", ":1: bad id 'a 1'"),
])
def test_bad_transcript_lines(tmp_path, content, message):
    (tmp_path / "t.csv").write_text(content)
    with pytest.raises(DataError, match=f"t.csv{message}"):
        read_transcripts(tmp_path / "t.csv")


def test_bad_folders(folder, tmp_path):
    tone(folder / "audio" / "bob" / "a1.flac", 0.1, 16000)
    with pytest.raises(DataError, match="a1.flac: has the same id 'a1' as .*a1.wav"):
        find_audio(folder / "audio")
    with pytest.raises(DataError, match="no such directory"):
        find_audio(tmp_path / "nowhere")
    flat = tmp_path / "flat"
    tone(flat / "u1.wav", 0.1, 16000)
    (tmp_path / "flat.csv").write_text("u1|hi\n")
    with pytest.raises(DataError, match="u1.wav: is not in a speaker directory"):
        import_folder(flat, tmp_path / "flat.csv", speaker_from="dir")
    (tmp_path / "flat.csv").write_text("u2|hi\n")
    with pytest.raises(ValueError, match="no utterance left .* skipped 1 audio files"):
        import_folder(flat, tmp_path / "flat.csv")


def test_import_folder_cli(folder, tmp_path):
    out = tmp_path / "data" / "all"
    proc = subprocess.run([sys.executable, "-m", "chain.bin.import_folder", "--audio-dir",
                           str(folder / "audio"), "--transcripts", str(folder / "metadata.csv"),
                           "--speaker-from", "dir", "--out-dir", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "import_folder: warning: skipped 1 audio files without a transcript: " in proc.stderr
    assert f"{out}: 3 utterances of 2 speakers (6 audio files, 6 transcripts)" in proc.stderr
    assert DataDir.load(out).utts == ["alice-a1", "alice-a2", "bob-b2"]
    assert sorted(p.name for p in out.iterdir()) == ["spk2utt", "text", "utt2dur", "utt2spk", "wav.scp"]
    check = subprocess.run([str(UTILS / "validate_data_dir.sh"), "--no-feats", "true", str(out)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    bad = subprocess.run([sys.executable, "-m", "chain.bin.import_folder", "--audio-dir",
                          str(folder / "audio"), "--transcripts", str(folder / "missing.csv")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "missing.csv: no such file" in bad.stderr
