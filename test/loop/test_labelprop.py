"""Label propagation's pseudo-labelled set (chain.loop.labelprop, chain.bin.labelprop)."""
import pytest

from chain.bin.labelprop import main
from chain.data.datadir import DataError, read_kv
from chain.loop.labelprop import pseudo_labelled_set, read_transcriptions


def write_dir(path, utts, *, text=True):
    """A dump dir of speaker-prefixed utterances with features (and text)."""
    path.mkdir(parents=True)
    files = {"utt2spk": lambda u: u.split("_")[0], "feats.scp": lambda u: f"feats.ark:{len(u)}",
             "linear.scp": lambda u: f"linear.ark:{len(u)}", "utt2num_frames": lambda u: "42",
             "wav.scp": lambda u: f"wav/{u}.wav"}
    if text:
        files["text"] = lambda u: f"words of {u}"
    for name, value in files.items():
        (path / name).write_text("".join(f"{u} {value(u)}\n" for u in sorted(utts)))
    return path


@pytest.fixture
def sets(tmp_path):
    paired = write_dir(tmp_path / "paired", ["a_1", "a_2"])
    speech = write_dir(tmp_path / "speech", ["b_1", "b_2", "c_1"], text=False)
    return paired, speech


def test_union_of_paired_and_non_empty_pseudo_labels(sets, tmp_path):
    paired, speech = sets
    out = tmp_path / "exp" / "labelprop_x" / "data" / "train_labelprop"
    summary = pseudo_labelled_set(paired, speech, {"b_1": "hello there", "b_2": "", "c_1": "hi"}, out)
    assert (summary.paired, summary.labelled, summary.speech_only) == (2, 2, 3)
    assert read_kv(out / "text") == {"a_1": "words of a_1", "a_2": "words of a_2", "b_1": "hello there",
                                     "c_1": "hi"}
    for name in ("utt2spk", "feats.scp", "linear.scp", "utt2num_frames", "wav.scp"):
        assert list(read_kv(out / name)) == ["a_1", "a_2", "b_1", "c_1"], name
    assert read_kv(out / "feats.scp")["b_1"] == read_kv(speech / "feats.scp")["b_1"]
    assert read_kv(out / "spk2utt") == {"a": "a_1 a_2", "b": "b_1", "c": "c_1"}
    assert sorted(p.name for p in out.parent.iterdir()) == ["train_labelprop"]  # no temp dir left


def test_two_experiments_keep_their_own_sets(sets, tmp_path):
    paired, speech = sets
    first, second = (tmp_path / "exp" / tag / "data" / "train_labelprop" for tag in ("lp_a", "lp_b"))
    pseudo_labelled_set(paired, speech, {"b_1": "one", "b_2": "two", "c_1": ""}, first)
    pseudo_labelled_set(paired, speech, {"b_1": "uno", "b_2": "", "c_1": ""}, second)
    assert read_kv(first / "text")["b_1"] == "one" and "b_2" in read_kv(first / "feats.scp")
    assert read_kv(second / "text")["b_1"] == "uno" and "b_2" not in read_kv(second / "feats.scp")
    # a re-run replaces its own set whole
    pseudo_labelled_set(paired, speech, {"b_1": "", "b_2": "", "c_1": "three"}, first)
    assert list(read_kv(first / "utt2spk")) == ["a_1", "a_2", "c_1"]


def test_bad_inputs_raise(sets, tmp_path):
    paired, speech = sets
    out = tmp_path / "out"
    with pytest.raises(DataError, match="not in this speech-only set, e.g. 'a_1'"):
        pseudo_labelled_set(paired, speech, {"a_1": "x"}, out)
    with pytest.raises(DataError, match="'a_1' is also in"):
        pseudo_labelled_set(paired, paired, {"a_1": "x"}, out)
    with pytest.raises(DataError, match="paired set needs its transcriptions"):
        pseudo_labelled_set(speech, speech, {}, out)
    assert not out.exists()
    hyp = tmp_path / "hyp"
    hyp.write_text("b_1 x\n")
    with pytest.raises(DataError, match="'b_1' is transcribed in another file"):
        read_transcriptions([hyp, hyp])


def test_entry_point_reads_job_outputs(sets, tmp_path, capsys):
    paired, speech = sets
    (tmp_path / "hyp.1").write_text("c_1 hi\nb_1\n")  # unsorted, one empty transcription
    (tmp_path / "hyp.2").write_text("b_2 yes\n")
    out = tmp_path / "lp"
    main(["--paired-dir", str(paired), "--speech-dir", str(speech), "--hyp", str(tmp_path / "hyp.1"),
          str(tmp_path / "hyp.2"), "--out-dir", str(out)])
    assert "2 of 3 speech-only utterances pseudo-labelled + 2 paired" in capsys.readouterr().out
    assert list(read_kv(out / "text")) == ["a_1", "a_2", "b_2", "c_1"]
    with pytest.raises(SystemExit, match="labelprop: error: .*no such file"):
        main(["--paired-dir", str(tmp_path / "nowhere"), "--speech-dir", str(speech), "--hyp",
              str(tmp_path / "hyp.1"), "--out-dir", str(out)])


def test_segments_keep_the_recordings_of_the_utterances_kept(sets, tmp_path):
    paired, speech = sets
    for d, recs in ((paired, {"a_1": "a_rec", "a_2": "a_rec"}), (speech, {"b_1": "b_rec", "b_2": "b_rec2",
                                                                          "c_1": "c_rec"})):
        (d / "segments").write_text("".join(f"{u} {r} 0.0 1.0\n" for u, r in sorted(recs.items())))
        (d / "wav.scp").write_text("".join(f"{r} {r}.wav\n" for r in sorted(set(recs.values()))))
    out = tmp_path / "lp"
    pseudo_labelled_set(paired, speech, {"b_1": "x", "b_2": "", "c_1": "y"}, out)
    assert list(read_kv(out / "segments")) == ["a_1", "a_2", "b_1", "c_1"]
    assert read_kv(out / "wav.scp") == {"a_rec": "a_rec.wav", "b_rec": "b_rec.wav", "c_rec": "c_rec.wav"}
