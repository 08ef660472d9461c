import os

import pytest

from chain.data.datadir import (DataDir, DataError, combine, read_kv, spk2utt_from_utt2spk, summary_table,
                                 write_kv)
from chain.fileio import atomic_write


def test_read_write_kv_round_trip(tmp_path):
    items = {"b-2": "two words", "a-1": "one", "B-3": "upper"}
    write_kv(tmp_path / "text", items)
    lines = (tmp_path / "text").read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["B-3", "a-1", "b-2"]  # byte order
    assert read_kv(tmp_path / "text") == items


@pytest.mark.parametrize("content, what, line", [
    ("a x\na y\n", "duplicate key 'a'", 2),
    ("b x\na y\n", "not sorted", 2),
    ("a x\nb\n", "no value", 2),
    ("a x\n\n", "empty line", 2),
])
def test_read_kv_bad_input_names_file_and_line(tmp_path, content, what, line):
    path = tmp_path / "text"
    path.write_text(content)
    with pytest.raises(DataError, match=f"{path}:{line}: .*{what}"):
        read_kv(path)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "f"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["f"]


def make_dir(tmp_path):
    d = DataDir(utt2spk={"s1-a": "s1", "s1-b": "s1", "s2-a": "s2"},
                wav_scp={"s1-a": "/x/a.wav", "s1-b": "/x/b.wav", "s2-a": "cat /x/c.wav |"},
                text={"s1-a": "hello", "s1-b": "good day", "s2-a": "bye"})
    d.save(tmp_path / "d")
    return tmp_path / "d"


def test_datadir_save_load(tmp_path):
    path = make_dir(tmp_path)
    assert (path / "spk2utt").read_text() == "s1 s1-a s1-b\ns2 s2-a\n"
    d = DataDir.load(path)
    assert d.utts == ["s1-a", "s1-b", "s2-a"]
    assert d.wav_scp["s2-a"] == "cat /x/c.wav |"
    assert spk2utt_from_utt2spk(d.utt2spk) == {"s1": "s1-a s1-b", "s2": "s2-a"}


def test_datadir_subset_drops_text_or_wav(tmp_path):
    d = DataDir.load(make_dir(tmp_path))
    speech = d.subset(["s1-a", "s2-a"], keep_text=False)
    speech.save(tmp_path / "speech")
    assert not (tmp_path / "speech" / "text").exists()
    text = d.subset(["s1-b"], keep_wav=False)
    text.save(tmp_path / "txt")
    assert not (tmp_path / "txt" / "wav.scp").exists()
    assert DataDir.load(tmp_path / "txt").text == {"s1-b": "good day"}


def test_datadir_mismatched_keys(tmp_path):
    path = make_dir(tmp_path)
    (path / "text").write_text("s1-a hello\ns1-b good day\n")
    with pytest.raises(DataError, match=r"text: keys disagree with utt2spk: missing \['s2-a'\]"):
        DataDir.load(path)


def test_datadir_speaker_prefix(tmp_path):
    with pytest.raises(DataError, match="not a prefix"):
        DataDir(utt2spk={"a-1": "b"}, text={"a-1": "x"}).validate(tmp_path)


def test_datadir_segments(tmp_path):
    d = DataDir(utt2spk={"s1-a": "s1", "s1-b": "s1"}, wav_scp={"rec1": "/x/r.wav"},
                segments={"s1-a": "rec1 0.0 1.5", "s1-b": "rec1 1.5 3.0"})
    d.validate(tmp_path)
    bad = DataDir(utt2spk={"s1-a": "s1"}, wav_scp={"rec1": "/x/r.wav"},
                  segments={"s1-a": "rec2 0.0 1.5"})
    with pytest.raises(DataError, match="segments"):
        bad.validate(tmp_path)
    sub = d.subset(["s1-a"])
    assert sub.wav_scp == {"rec1": "/x/r.wav"} and list(sub.segments) == ["s1-a"]


def test_atomic_write_gives_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f") as f:
            f.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644


def test_combine_keeps_what_every_dir_has():
    a = DataDir(utt2spk={"a-1": "a"}, wav_scp={"a-1": "/a1.wav"}, text={"a-1": "x"},
                extra={"utt2dur": {"a-1": "1.0"}, "utt2gender": {"a-1": "f"}})
    b = DataDir(utt2spk={"b-1": "b"}, wav_scp={"b-1": "/b1.wav"}, text={"b-1": "y"},
                extra={"utt2dur": {"b-1": "2.0"}})
    both = combine({"data/a": a, "data/b": b})
    assert both.utt2spk == {"a-1": "a", "b-1": "b"} and both.text == {"a-1": "x", "b-1": "y"}
    assert both.extra == {"utt2dur": {"a-1": "1.0", "b-1": "2.0"}}
    speech = DataDir(utt2spk={"c-1": "c"}, wav_scp={"c-1": "/c1.wav"})
    assert combine({"a": a, "c": speech}).text is None
    with pytest.raises(DataError, match="data/b: 'a-1' is also in data/a"):
        combine({"data/a": a, "data/b": a})
    seg = DataDir(utt2spk={"d-1": "d"}, wav_scp={"rec": "/r.wav"}, segments={"d-1": "rec 0 1"})
    with pytest.raises(DataError, match="has segments and another data dir has none"):
        combine({"a": a, "d": seg})


def test_spk2gender_saved_subset_combined_and_checked(tmp_path):
    data = DataDir(utt2spk={"a-1": "a", "a-2": "a", "b-1": "b"}, text={"a-1": "x", "a-2": "y", "b-1": "z"},
                   spk2gender={"b": "f", "a": "m"})
    data.save(tmp_path / "d")
    assert (tmp_path / "d" / "spk2gender").read_text() == "a m\nb f\n"
    assert DataDir.load(tmp_path / "d").spk2gender == {"a": "m", "b": "f"}
    part = data.subset(["b-1"])
    assert part.spk2gender == {"b": "f"}
    part.save(tmp_path / "d")  # a rewritten dir keeps no stale speaker
    assert (tmp_path / "d" / "spk2gender").read_text() == "b f\n"
    other = DataDir(utt2spk={"c-1": "c"}, text={"c-1": "w"})
    assert combine({"x": part, "y": other}).spk2gender is None
    assert combine({"x": part, "y": DataDir(utt2spk={"c-1": "c"}, text={"c-1": "w"},
                                            spk2gender={"c": "m"})}).spk2gender == {"b": "f", "c": "m"}
    with pytest.raises(DataError, match="spk2gender: speakers disagree with utt2spk: missing \\['b'\\]"):
        DataDir(utt2spk={"a-1": "a", "b-1": "b"}, text={"a-1": "x", "b-1": "y"}, spk2gender={"a": "m"}).validate()
    with pytest.raises(DataError, match="speaker 'a': gender must be m or f, got 'x'"):
        DataDir(utt2spk={"a-1": "a"}, text={"a-1": "x"}, spk2gender={"a": "x"}).validate()


def test_summary_table_counts_utterances_speakers_and_minutes():
    speech = DataDir(utt2spk={"s1-a": "s1", "s1-b": "s1", "s2-a": "s2"},
                     wav_scp={u: f"/w/{u}.wav" for u in ("s1-a", "s1-b", "s2-a")},
                     extra={"utt2dur": {"s1-a": "30", "s1-b": "60", "s2-a": "90"}})
    text = DataDir(utt2spk={"s3-a": "s3"}, text={"s3-a": "hi"})
    lines = summary_table({"text_only": text, "speech": speech}, ("speech", "text_only", "absent")).splitlines()
    assert lines[0].split() == ["set", "utts", "speakers", "minutes"]
    assert lines[1].split() == ["speech", "3", "2", "3.00"] and lines[2].split() == ["text_only", "1", "1", "text"]
    assert len(lines) == 3
