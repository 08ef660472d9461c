from chain.data.datadir import DataDir, write_kv
from chain.data.summary import format_table, summarize_sets


def test_summarize_sets(tmp_path):
    utts = {"s1-a": "s1", "s1-b": "s1", "s2-a": "s2"}
    DataDir(utt2spk=utts, wav_scp={u: "/w.wav" for u in utts}, text={u: "x" for u in utts}) \
        .save(tmp_path / "data" / "train_full")
    DataDir(utt2spk={"s1-b": "s1"}, text={"s1-b": "x"}).save(tmp_path / "data" / "train_text_only")
    write_kv(tmp_path / "dump" / "train_full" / "utt2dur", {u: "1.8" for u in utts})
    write_kv(tmp_path / "dump" / "train_full" / "utt2num_frames", {u: "144" for u in utts})
    rows = summarize_sets(tmp_path)
    assert [r["set"] for r in rows] == ["train_full", "train_text_only"]
    assert rows[0]["utts"] == 3 and rows[0]["spks"] == 2 and rows[0]["frames"] == 432
    assert abs(rows[0]["hours"] - 5.4 / 3600) < 1e-9
    assert rows[1]["has"] == "text" and "hours" not in rows[1]
    assert "train_text_only" in format_table(rows)
