import os
import subprocess
import sys
from pathlib import Path

import pytest

from chain.data.datadir import DataDir, combine
from chain.data.split import SETS, chain_split, shuffle_split, split_corpus, write_sets

UTILS = Path(__file__).resolve().parents[2] / "utils"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def test_shuffle_split_sizes_disjoint_deterministic():
    keys = [f"u{i:03d}" for i in range(200)]
    parts = shuffle_split(keys, (0.94, 0.03, 0.03), seed=1)
    assert [len(p) for p in parts] == [188, 6, 6]
    assert sorted(sum(parts, []), key=str.encode) == keys
    assert parts == shuffle_split(list(reversed(keys)), (0.94, 0.03, 0.03), seed=1)
    assert parts != shuffle_split(keys, (0.94, 0.03, 0.03), seed=2)


def test_shuffle_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="sum to 1"):
        shuffle_split(["a"], (0.5, 0.6), seed=0)


def test_chain_split(tmp_path):
    utts = [f"spk1-{i:03d}" for i in range(100)]
    full = DataDir(utt2spk={u: "spk1" for u in utts}, wav_scp={u: f"/w/{u}.wav" for u in utts},
                   text={u: f"text {u}" for u in utts})
    sets = chain_split(full, seed=0)
    paired, speech, text = (set(sets[n].utts) for n in
                            ("train_paired", "train_speech_only", "train_text_only"))
    assert (len(paired), len(speech), len(text)) == (30, 35, 35)
    assert not (paired & speech or paired & text or speech & text)
    assert sets["train_speech_only"].text is None
    assert sets["train_text_only"].wav_scp is None
    write_sets(sets, tmp_path)
    assert not (tmp_path / "train_speech_only" / "text").exists()
    assert not (tmp_path / "train_text_only" / "wav.scp").exists()
    assert DataDir.load(tmp_path / "train_full").utts == utts


def corpus(num_spk: int, per_spk: int, prefix: str = "s") -> DataDir:
    utts = [f"{prefix}{k:02d}-{i:03d}" for k in range(num_spk) for i in range(per_spk)]
    return DataDir(utt2spk={u: u.split("-")[0] for u in utts}, wav_scp={u: f"/w/{u}.wav" for u in utts},
                   text={u: f"text {u}" for u in utts}, extra={"utt2dur": dict.fromkeys(utts, "1.0")})


def speakers(data: DataDir) -> set[str]:
    return set(data.utt2spk.values())


def assert_disjoint(sets: dict[str, DataDir], of=lambda d: set(d.utts)) -> None:
    names = ["train_paired", "train_speech_only", "train_text_only", "dev", "test"]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not of(sets[a]) & of(sets[b]), (a, b)


def test_split_corpus_sizes_and_no_overlap():
    full = corpus(1, 1000)
    sets = split_corpus(full, seed=0)
    assert list(sets) == list(SETS)
    n = {name: len(d.utts) for name, d in sets.items()}
    assert (n["dev"], n["test"], n["train_full"]) == (30, 30, 940)
    assert (n["train_paired"], n["train_speech_only"], n["train_text_only"]) == (282, 329, 329)
    assert_disjoint(sets)
    parts = set().union(*(sets[s].utts for s in ("train_paired", "train_speech_only", "train_text_only")))
    assert parts == set(sets["train_full"].utts)
    assert parts | set(sets["dev"].utts) | set(sets["test"].utts) == set(full.utts)
    assert sets["train_speech_only"].text is None and sets["train_text_only"].wav_scp is None
    assert sets["train_paired"].extra["utt2dur"] and not sets["train_text_only"].extra
    tiny = split_corpus(corpus(1, 12), seed=0)  # 3% of 12 rounds to 0: at least one each
    assert len(tiny["dev"].utts) == len(tiny["test"].utts) == 1


def test_split_corpus_seeds():
    full = corpus(3, 100)
    a, b, c = (split_corpus(full, seed=s) for s in (5, 5, 6))
    assert all(a[s].utts == b[s].utts for s in SETS)
    assert a["dev"].utts != c["dev"].utts and a["train_paired"].utts != c["train_paired"].utts
    shuffled = DataDir(utt2spk=dict(reversed(full.utt2spk.items())), wav_scp=full.wav_scp, text=full.text)
    assert all(set(split_corpus(shuffled, seed=5)[s].utts) == set(a[s].utts) for s in SETS)


def test_split_corpus_by_speaker():
    full = corpus(100, 5)
    sets = split_corpus(full, seed=1, by_speaker=True)
    n = {name: len(speakers(d)) for name, d in sets.items()}
    assert (n["dev"], n["test"], n["train_full"]) == (3, 3, 94)
    assert (n["train_paired"], n["train_speech_only"], n["train_text_only"]) == (28, 33, 33)
    assert_disjoint(sets, of=speakers)
    for name, data in sets.items():  # every speaker whole
        assert len(data.utts) == 5 * len(speakers(data)), name
    few = split_corpus(corpus(10, 5), seed=0, by_speaker=True)  # 3% of 10 speakers: one each
    assert len(speakers(few["test"])) == 1 and not speakers(few["test"]) & speakers(few["train_full"])


def test_split_corpus_given_dev_and_test():
    full = corpus(10, 20)
    held = full.subset([u for u in full.utts if u.startswith(("s08-", "s09-"))])
    sets = split_corpus(full, seed=0, test_set=held)
    assert sets["test"] is held and len(sets["dev"].utts) == round(0.03 * 160)
    assert not speakers(held) & speakers(sets["train_full"])
    assert len(sets["train_full"].utts) + len(sets["dev"].utts) == 160
    other = corpus(2, 4, prefix="x")
    both = split_corpus(full, seed=0, dev_set=other, test_set=held)
    assert both["dev"] is other and len(both["train_full"].utts) == 160
    # by speaker, a given set's speakers are left out of training even where it has few of their utterances
    one_each = full.subset(["s00-000", "s01-000"])
    by_spk = split_corpus(full, seed=0, by_speaker=True, test_set=one_each)
    assert not {"s00", "s01"} & set().union(*(speakers(by_spk[s]) for s in SETS if s != "test"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(dev=1.2), "--dev must be a fraction"),
    (dict(paired=0.7, speech_only=0.4), "--paired \\+ --speech-only must be at most 1"),
    (dict(dev=0.5, test=0.5), "4 utterances are too few for --dev 0.5 --test 0.5"),
    (dict(paired=0.0), "train_paired would be empty"),
])
def test_split_corpus_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_corpus(corpus(1, 4), seed=0, **kwargs)
    with pytest.raises(ValueError, match="must be paired"):
        split_corpus(corpus(1, 40).subset(corpus(1, 40).utts, keep_text=False))


def test_write_sets_replaces_old_dirs(tmp_path):
    (tmp_path / "train_speech_only").mkdir()
    (tmp_path / "train_speech_only" / "text").write_text("stale\n")
    write_sets(split_corpus(corpus(1, 100), seed=0), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SETS)  # no temp dirs left
    assert not (tmp_path / "train_speech_only" / "text").exists()
    assert len(DataDir.load(tmp_path / "train_paired").utts) == 28


def test_split_data_cli(tmp_path):
    a, b = corpus(1, 30, prefix="a"), corpus(1, 30, prefix="b")
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    out = tmp_path / "data"
    cmd = [str(UTILS / "split_chain_data.sh"), "--out-dir", str(out), "--seed", "2",
           str(tmp_path / "a"), str(tmp_path / "b")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert f"{out}/train_paired: 17 utterances, 2 speakers" in proc.stderr
    for name in SETS:
        flags = {"train_speech_only": ["--no-text", "true"],
                 "train_text_only": ["--no-wav", "true"]}.get(name, [])
        check = subprocess.run([str(UTILS / "validate_data_dir.sh"), "--no-feats", "true", *flags,
                                str(out / name)], capture_output=True, text=True, env=ENV)
        assert check.returncode == 0, check.stderr
    assert not (out / "train_speech_only" / "text").exists()
    assert not (out / "train_text_only" / "wav.scp").exists()
    expected = split_corpus(combine({"a": a, "b": b}), seed=2)
    assert all(DataDir.load(out / s).utts == expected[s].utts for s in SETS)
    a.save(tmp_path / "a_again")
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "a_again")], capture_output=True, text=True, env=ENV)
    assert bad.returncode == 1 and "'a00-000' is also in" in bad.stderr
    missing = subprocess.run([*cmd[:-2], str(tmp_path / "nowhere")], capture_output=True, text=True,
                             env=ENV)
    assert missing.returncode == 1 and "nowhere/utt2spk: no such file" in missing.stderr
    usage = subprocess.run([str(UTILS / "split_chain_data.sh")], capture_output=True, text=True)
    assert usage.returncode == 2 and "Usage:" in usage.stderr
