"""utils/split_scp: contiguous, nearly equal parts, optionally whole speakers per part."""
import pytest


def _lines(n):
    return "".join(f"utt{i:03d} /w/{i}.wav\n" for i in range(n))


@pytest.mark.parametrize("m, n", [(10, 3), (7, 7), (5, 2), (100, 6), (1, 1)])
def test_parts_are_contiguous_and_nearly_equal(run_util, tmp_path, m, n):
    (tmp_path / "in.scp").write_text(_lines(m))
    outs = [tmp_path / "split" / f"out.{k}.scp" for k in range(1, n + 1)]
    r = run_util(["split_scp", tmp_path / "in.scp", *outs])
    assert r.returncode == 0, r.stderr
    parts = [o.read_text() for o in outs]
    assert "".join(parts) == _lines(m)
    sizes = [p.count("\n") for p in parts]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    assert sorted(p.name for p in (tmp_path / "split").iterdir()) == sorted(o.name for o in outs)


def test_ten_lines_in_three(run_util, tmp_path):
    (tmp_path / "in.scp").write_text(_lines(10))
    outs = [tmp_path / f"o{k}" for k in (1, 2, 3)]
    assert run_util(["split_scp", tmp_path / "in.scp", *outs]).returncode == 0
    assert [o.read_text().count("\n") for o in outs] == [3, 4, 3]


def test_speakers_are_kept_whole(run_util, tmp_path):
    counts = {"a": 3, "b": 1, "c": 2, "d": 4, "e": 2}
    utts = [f"{s}-{i}" for s, n in counts.items() for i in range(n)]
    (tmp_path / "in.scp").write_text("".join(f"{u} x\n" for u in utts))
    (tmp_path / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u in utts))
    outs = [tmp_path / f"o{k}" for k in (1, 2, 3)]
    r = run_util(["split_scp", "--utt2spk", tmp_path / "utt2spk", tmp_path / "in.scp", *outs])
    assert r.returncode == 0, r.stderr
    parts = [[line.split()[0] for line in o.read_text().splitlines()] for o in outs]
    assert sum(parts, []) == utts
    speakers = [{u.split("-")[0] for u in p} for p in parts]
    assert all(p for p in parts)
    assert not (speakers[0] & speakers[1] or speakers[1] & speakers[2] or speakers[0] & speakers[2])
    assert [len(p) for p in parts] == [4, 2, 6]      # boundaries nearest to 4 and 8 of 12


@pytest.mark.parametrize("content, utt2spk, message", [
    (_lines(2), None, "in.scp: has 2 lines, cannot split it into 3 parts"),
    ("a-1 x\nb-1 x\nb-2 x\n", "a-1 a\nb-1 b\nb-2 b\n", "in.scp: has 2 speakers, cannot split it into 3 parts"),
    ("a-1 x\nb-1 x\na-2 x\n", "a-1 a\na-2 a\nb-1 b\n", "in.scp:3: the lines of speaker a are not consecutive"),
    ("a-1 x\nz-1 x\nb-1 x\n", "a-1 a\nb-1 b\n", "in.scp:2: z-1 is not in"),
    ("a x\n\nb x\nc x\n", None, "in.scp:2: empty line"),
    ("", None, "in.scp: is empty"),
])
def test_bad_input_fails_and_writes_nothing(run_util, tmp_path, content, utt2spk, message):
    (tmp_path / "in.scp").write_text(content)
    opts = []
    if utt2spk is not None:
        (tmp_path / "utt2spk").write_text(utt2spk)
        opts = ["--utt2spk", tmp_path / "utt2spk"]
    out = tmp_path / "out"
    r = run_util(["split_scp", *opts, tmp_path / "in.scp", out / "1", out / "2", out / "3"])
    assert r.returncode == 1
    assert message in r.stderr
    assert list(out.iterdir()) == []                # no output, no temp file left


def test_usage_errors(run_util, tmp_path):
    r = run_util(["split_scp", tmp_path / "in.scp"])
    assert r.returncode == 2 and "Usage:" in r.stderr
    r = run_util(["split_scp", tmp_path / "missing.scp", tmp_path / "o1"])
    assert r.returncode == 1 and "no such file" in r.stderr and "missing.scp" in r.stderr
