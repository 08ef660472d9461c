"""validate_data_dir.sh, fix_data_dir.sh, subset_data_dir.sh, combine_data.sh, filter_scp,
utt2spk_to_spk2utt on good and bad data dirs built in tmp_path."""
import subprocess

import pytest

from chain.data.datadir import DataDir

SEGMENTED = {
    "utt2spk": "s1-a s1\ns1-b s1\ns2-a s2\n",
    "spk2utt": "s1 s1-a s1-b\ns2 s2-a\n",
    "segments": "s1-a rec1 0.0 1.5\ns1-b rec1 1.5 3.2\ns2-a rec2 0 2\n",
    "wav.scp": "rec1 /w/rec1.wav\nrec2 /w/rec2.wav\nrec3 /w/rec3.wav\n",
    "text": "s1-a one\ns1-b two\ns2-a three\n",
}


def _validate(run_util, d, *opts):
    return run_util(["validate_data_dir.sh", *opts, d])


# validate_data_dir.sh

def test_validate_accepts_good_dirs(run_util, make_dir, tmp_path, good_files):
    d = make_dir(tmp_path / "good", good_files)
    r = _validate(run_util, d)
    assert r.returncode == 0, r.stderr
    assert f"validate_data_dir.sh: Successfully validated data-directory {d}" in r.stdout
    seg = make_dir(tmp_path / "seg", SEGMENTED)
    assert _validate(run_util, seg).returncode == 0


def test_validate_speech_only_and_text_only(run_util, make_dir, tmp_path, good_files):
    speech = make_dir(tmp_path / "speech", {k: v for k, v in good_files.items() if k != "text"})
    r = _validate(run_util, speech)
    assert r.returncode == 1 and "pass --no-text true" in r.stderr and f"{speech}/text" in r.stderr
    assert _validate(run_util, speech, "--no-text", "true").returncode == 0
    text = make_dir(tmp_path / "text", {k: good_files[k] for k in ("utt2spk", "spk2utt", "text")})
    r = _validate(run_util, text)
    assert r.returncode == 1 and "pass --no-wav true" in r.stderr
    assert _validate(run_util, text, "--no-wav", "true").returncode == 0


@pytest.mark.parametrize("name, content, message", [
    ("text", "spkA-u2 x\nspkA-u1 y\nspkB-u1 z\nspkB-u2 w\n", "text:2: key spkA-u1 is not sorted after spkA-u2"),
    ("text", "spkA-u1 x\nspkA-u1 y\nspkB-u1 z\nspkB-u2 w\n", "text:2: duplicate key spkA-u1"),
    ("text", "spkA-u1 x\nspkA-u2\nspkB-u1 z\nspkB-u2 w\n", "text:2: no transcription for key spkA-u2"),
    ("text", "spkA-u1 x\n\nspkB-u1 z\nspkB-u2 w\n", "text:2: empty line"),
    ("text", "spkA-u1 x\nspkA-u2 y\nspkB-u1 z\n", "text: utterances disagree with"),
    ("text", "spkA-u1 x\r\nspkA-u2 y\nspkB-u1 z\nspkB-u2 w\n", "text:1: line ends with a carriage return"),
    ("wav.scp", "spkA-u1 a\nspkA-u2 b\nspkB-u1 c\nspkB-u2 d\nspkB-u3 e\n", "1 not in utt2spk (e.g. spkB-u3)"),
    ("utt2spk", "spkA-u1 spkA\nspkA-u2 spkA\nspkB-u1 spkA\nspkB-u2 spkB\n", "speaker id spkA is not a prefix"),
    ("spk2utt", "spkA spkA-u1\nspkB spkB-u1 spkB-u2\n", "'spkA-u2 spkA' only in utt2spk"),
    ("utt2num_frames", "spkA-u1 100\nspkA-u2 0\nspkB-u1 90\nspkB-u2 80\n", "utt2num_frames:2: value of spkA-u2"),
    ("feats.scp", "spkA-u1 f.ark:1\nspkB-u1 f.ark:9\nspkB-u2 f.ark:20\n", "feats.scp: utterances disagree"),
    ("utt2spk", "", "utt2spk: empty file"),
])
def test_validate_rejects_and_names_the_problem(run_util, make_dir, tmp_path, good_files,
                                                 name, content, message):
    d = make_dir(tmp_path / "d", {**good_files, name: content})
    r = _validate(run_util, d)
    assert r.returncode == 1
    assert message in r.stderr
    assert "Successfully" not in r.stdout


@pytest.mark.parametrize("segments, message", [
    ("s1-a rec1 0.0 1.5\ns1-b rec1 1.5 1.5\ns2-a rec2 0 2\n", "segments:2: start 1.5 of s1-b is not before its end"),
    ("s1-a rec1 0.0 1.5\ns1-b rec9 1.5 3\ns2-a rec2 0 2\n", "segments:2: recording rec9 of s1-b is not in wav.scp"),
    ("s1-a rec1 0.0 1.5\ns1-b rec1 -1 3\ns2-a rec2 0 2\n", "segments:2: start and end of s1-b"),
    ("s1-a rec1 0.0 1.5\ns1-b rec1 2\ns2-a rec2 0 2\n", "segments:2: no recording, start and end"),
])
def test_validate_checks_segments(run_util, make_dir, tmp_path, segments, message):
    d = make_dir(tmp_path / "d", {**SEGMENTED, "segments": segments})
    r = _validate(run_util, d)
    assert r.returncode == 1 and message in r.stderr


def test_validate_no_feats_skips_feature_files(run_util, make_dir, tmp_path, good_files):
    d = make_dir(tmp_path / "d", {**good_files, "feats.scp": "spkA-u1 f.ark:1\n", "utt2num_frames": "x\n"})
    assert _validate(run_util, d).returncode == 1
    assert _validate(run_util, d, "--no-feats", "true").returncode == 0


def test_validate_usage(run_util, tmp_path):
    assert run_util(["validate_data_dir.sh"]).returncode == 2
    assert run_util(["validate_data_dir.sh", "--no-text", "yes", tmp_path]).returncode == 2
    r = run_util(["validate_data_dir.sh", tmp_path / "nope"])
    assert r.returncode == 1 and "no such directory" in r.stderr


# fix_data_dir.sh

def test_fix_sorts_drops_and_backs_up(run_util, make_dir, tmp_path, good_files):
    broken = {
        "utt2spk": "spkB-u2 spkB\nspkA-u1 spkA\nspkA-u2 spkA\nspkB-u1 spkB\nspkC-u1 spkC\nspkA-u1 spkA\n",
        "spk2utt": "stale line\n",
        "text": "spkA-u1 hello\nspkA-u2\nspkB-u1 yes\nspkB-u2 no\nspkC-u1 hi\nspkZ-u9 orphan\n",
        "wav.scp": good_files["wav.scp"],            # spkC-u1 has no audio
        "utt2num_frames": good_files["utt2num_frames"],
        "spk2gender": "spkA m\nspkB f\nspkC f\n",
    }
    d = make_dir(tmp_path / "d", broken)
    r = run_util(["fix_data_dir.sh", d])
    assert r.returncode == 0, r.stderr
    assert "fix_data_dir.sh: kept 3 of 5 utterances" in r.stdout
    assert (d / "utt2spk").read_text() == "spkA-u1 spkA\nspkB-u1 spkB\nspkB-u2 spkB\n"
    assert (d / "spk2utt").read_text() == "spkA spkA-u1\nspkB spkB-u1 spkB-u2\n"
    assert (d / "text").read_text() == "spkA-u1 hello\nspkB-u1 yes\nspkB-u2 no\n"
    assert (d / "spk2gender").read_text() == "spkA m\nspkB f\n"
    for name, content in broken.items():
        assert (d / ".backup" / name).read_text() == content
    assert _validate(run_util, d).returncode == 0
    assert DataDir.load(d).utts == ["spkA-u1", "spkB-u1", "spkB-u2"]
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".")) == [".backup"]


def test_fix_drops_unused_recordings_and_missing_recordings(run_util, make_dir, tmp_path):
    d = make_dir(tmp_path / "d", {**SEGMENTED, "wav.scp": "rec1 /w/rec1.wav\nrec3 /w/rec3.wav\n"})
    r = run_util(["fix_data_dir.sh", d])
    assert r.returncode == 0, r.stderr
    assert "kept 2 of 3 utterances" in r.stdout
    assert (d / "wav.scp").read_text() == "rec1 /w/rec1.wav\n"
    assert (d / "segments").read_text() == "s1-a rec1 0.0 1.5\ns1-b rec1 1.5 3.2\n"
    assert _validate(run_util, d).returncode == 0


def test_fix_changes_nothing_when_nothing_would_remain(run_util, make_dir, tmp_path, good_files):
    files = {**good_files, "text": "other-u1 x\n"}
    d = make_dir(tmp_path / "d", files)
    r = run_util(["fix_data_dir.sh", d])
    assert r.returncode == 1 and "nothing changed" in r.stderr
    assert {p.name: p.read_text() for p in d.iterdir()} == files


# subset_data_dir.sh

@pytest.mark.parametrize("selector, expected", [
    (["--first", "3"], ["spkA-u1", "spkA-u2", "spkB-u1"]),
    (["--last", "1"], ["spkB-u2"]),
    (["--speakers", "SPK"], ["spkB-u1", "spkB-u2"]),
    (["--utt-list", "UTTS"], ["spkA-u2", "spkB-u2"]),
])
def test_subset_selectors(run_util, make_dir, tmp_path, good_files, selector, expected):
    src = make_dir(tmp_path / "src", good_files)
    (tmp_path / "SPK").write_text("spkB\n")
    (tmp_path / "UTTS").write_text("spkB-u2 x\nspkA-u2\nnot-there\n")
    selector = [str(tmp_path / s) if s.isupper() else s for s in selector]
    r = run_util(["subset_data_dir.sh", *selector, src, tmp_path / "dst"])
    assert r.returncode == 0, r.stderr
    assert f"kept {len(expected)} of 4 utterances" in r.stdout
    d = DataDir.load(tmp_path / "dst")
    assert d.utts == expected
    assert list(d.text) == expected and list(d.wav_scp) == expected
    assert list(d.extra["utt2num_frames"]) == expected
    if "--utt-list" in selector:
        assert "1 id(s)" in r.stderr and "not-there" in r.stderr


def test_subset_keeps_used_recordings_and_removes_stale_files(run_util, make_dir, tmp_path):
    src = make_dir(tmp_path / "src", {k: v for k, v in SEGMENTED.items() if k != "text"})
    dst = make_dir(tmp_path / "dst", {"text": "stale text\n", "notes": "kept\n"})
    r = run_util(["subset_data_dir.sh", "--first", "2", src, dst])
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in dst.iterdir()) == ["notes", "segments", "spk2utt", "utt2spk", "wav.scp"]
    assert (dst / "wav.scp").read_text() == "rec1 /w/rec1.wav\n"


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "give exactly one of"),
    (["--first", "1", "--last", "1"], 2, "give exactly one of"),
    (["--first", "x"], 2, "must be a positive integer"),
    (["--first", "9"], 1, "has only 4 utterances"),
    (["--speakers", "/nonexistent"], 1, "no such file /nonexistent"),
])
def test_subset_errors(run_util, make_dir, tmp_path, good_files, args, code, message):
    src = make_dir(tmp_path / "src", good_files)
    r = run_util(["subset_data_dir.sh", *args, src, tmp_path / "dst"])
    assert r.returncode == code and message in r.stderr
    assert not (tmp_path / "dst").exists()


# combine_data.sh

def _split_good(run_util, make_dir, tmp_path, good_files):
    src = make_dir(tmp_path / "src", good_files)
    assert run_util(["subset_data_dir.sh", "--first", "3", src, tmp_path / "a"]).returncode == 0
    assert run_util(["subset_data_dir.sh", "--last", "1", src, tmp_path / "b"]).returncode == 0
    return src, tmp_path / "a", tmp_path / "b"


def test_combine_restores_the_whole(run_util, make_dir, tmp_path, good_files):
    src, a, b = _split_good(run_util, make_dir, tmp_path, good_files)
    r = run_util(["combine_data.sh", tmp_path / "all", b, a])
    assert r.returncode == 0, r.stderr
    assert "combined 4 utterances from 2 dirs" in r.stdout
    for name, content in good_files.items():
        assert (tmp_path / "all" / name).read_text() == content


def test_combine_drops_a_file_some_sources_lack(run_util, make_dir, tmp_path, good_files):
    src, a, b = _split_good(run_util, make_dir, tmp_path, good_files)
    (b / "text").unlink()
    r = run_util(["combine_data.sh", tmp_path / "all", a, b])
    assert r.returncode == 0, r.stderr
    assert "warning: text is missing in" in r.stderr and str(b) in r.stderr
    assert not (tmp_path / "all" / "text").exists()
    assert (tmp_path / "all" / "wav.scp").read_text() == good_files["wav.scp"]


def test_combine_rejects_duplicate_utterances(run_util, make_dir, tmp_path, good_files):
    src, a, b = _split_good(run_util, make_dir, tmp_path, good_files)
    r = run_util(["combine_data.sh", tmp_path / "all", a, src])
    assert r.returncode == 1
    assert "3 utterance id(s) are in more than one source: spkA-u1 spkA-u2 spkB-u1" in r.stderr
    assert not (tmp_path / "all").exists()
    assert run_util(["combine_data.sh", tmp_path / "x"]).returncode == 2


def test_combine_segmented_dirs_share_recordings(run_util, make_dir, tmp_path):
    src = make_dir(tmp_path / "src", SEGMENTED)
    assert run_util(["subset_data_dir.sh", "--first", "1", src, tmp_path / "a"]).returncode == 0
    assert run_util(["subset_data_dir.sh", "--last", "2", src, tmp_path / "b"]).returncode == 0
    r = run_util(["combine_data.sh", tmp_path / "all", tmp_path / "a", tmp_path / "b"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "all/wav.scp").read_text() == "rec1 /w/rec1.wav\nrec2 /w/rec2.wav\n"
    (tmp_path / "b/wav.scp").write_text("rec1 /elsewhere.wav\nrec2 /w/rec2.wav\n")
    r = run_util(["combine_data.sh", tmp_path / "all2", tmp_path / "a", tmp_path / "b"])
    assert r.returncode == 1 and "wav.scp: 1 key(s) have different values" in r.stderr and "rec1" in r.stderr


# filter_scp and utt2spk_to_spk2utt

def test_filter_scp_keeps_order_and_reports(run_util, tmp_path):
    (tmp_path / "ids").write_text("c 1\na\n")
    (tmp_path / "in.scp").write_text("c x\nb y\na z\n")
    r = run_util(["filter_scp", tmp_path / "ids", tmp_path / "in.scp"])
    assert r.returncode == 0 and r.stdout == "c x\na z\n"
    assert "kept 2 of 3 lines" in r.stderr
    r = run_util(["filter_scp", "--exclude", "true", tmp_path / "ids"], stdin="c x\nb y\na z\n")
    assert r.stdout == "b y\n" and "kept 1 of 3 lines of <stdin>" in r.stderr
    r = run_util(["filter_scp", "--quiet", "true", tmp_path / "ids", tmp_path / "in.scp"])
    assert r.stderr == ""
    assert run_util(["filter_scp", tmp_path / "nope", tmp_path / "in.scp"]).returncode == 1
    assert run_util(["filter_scp"]).returncode == 2


def test_utt2spk_to_spk2utt(run_util, tmp_path):
    (tmp_path / "utt2spk").write_text("b-2 b\na-1 a\nb-1 b\nab-1 ab\n")
    r = run_util(["utt2spk_to_spk2utt", tmp_path / "utt2spk"])
    assert r.returncode == 0 and r.stdout == "a a-1\nab ab-1\nb b-2 b-1\n"
    r = run_util(["utt2spk_to_spk2utt"], stdin="x-1 x\nx-1 y\n")
    assert r.returncode == 1 and "<stdin>:2: utterance x-1 appears twice" in r.stderr and r.stdout == ""
    r = run_util(["utt2spk_to_spk2utt", "-"], stdin="x-1\n")
    assert r.returncode == 1 and "<stdin>:1: expected" in r.stderr



def test_scripts_work_through_a_recipe_symlink(make_dir, tmp_path, good_files, utils_dir):
    recipe = tmp_path / "egs" / "x" / "chain1"
    recipe.mkdir(parents=True)
    (recipe / "utils").symlink_to(utils_dir)
    make_dir(recipe / "data" / "train", good_files)
    (recipe / "data" / "spk").write_text("spkA\n")
    r = subprocess.run(["utils/subset_data_dir.sh", "--speakers", "data/spk", "data/train", "data/a"],
                       cwd=recipe, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (recipe / "data/a/spk2utt").read_text() == "spkA spkA-u1 spkA-u2\n"
