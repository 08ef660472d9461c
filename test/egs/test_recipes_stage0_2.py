"""The embedded recipe and the LJSpeech recipe through stages 0-2 on tiny data."""
import kaldiio
import numpy as np

from fixtures.recipe import copy_recipe, run
from fixtures.ljspeech import make_ljspeech_fixture

SETS = ("train_full", "train_paired", "train_speech_only", "dev", "test")


def check_stage_outputs(recipe, n_lin, monkeypatch):
    monkeypatch.chdir(recipe)  # scp files name their arks relative to the recipe dir
    for dset in SETS:
        feats = kaldiio.load_scp(str(recipe / "dump" / dset / "feats.scp"))
        linear = kaldiio.load_scp(str(recipe / "dump" / dset / "linear.scp"))
        frames = dict(line.split() for line in
                      (recipe / "dump" / dset / "utt2num_frames").read_text().splitlines())
        utts = [line.split()[0] for line in (recipe / "data" / dset / "utt2spk").read_text().splitlines()]
        assert list(feats) == utts
        utt = utts[0]
        assert feats[utt].shape == (int(frames[utt]), 80) and linear[utt].shape[1] == n_lin
        assert np.isfinite(feats[utt]).all()
    assert not (recipe / "dump" / "train_speech_only" / "text").exists()
    stats = kaldiio.load_mat(str(recipe / "data" / "cmvn.ark"))
    assert stats.shape == (2, 81)
    paired_frames = sum(int(line.split()[1]) for line in
                        (recipe / "dump" / "train_paired" / "utt2num_frames").read_text().splitlines())
    assert stats[0, -1] == paired_frames  # CMVN on the paired speech only
    units = (recipe / "data" / "lang" / "units.txt").read_text().split("\n")
    assert units[:5] == ["<pad> 0", "<unk> 1", "<s> 2", "</s> 3", "<spc> 4"]


def test_mini_espeak_stages_0_to_2(tmp_path, monkeypatch):
    recipe = copy_recipe("mini_espeak", tmp_path / "mini_espeak")
    run('./run.sh --stop-stage 2 --nj 2 --local-data-opts "--num-utts 60 --speakers 2"', cwd=recipe)
    check_stage_outputs(recipe, 513, monkeypatch)
    assert (recipe / "data" / "local" / "phones.ctm").stat().st_size > 0
    summary = run(". ./path.sh && python -m chain.bin.data_summary .", cwd=recipe)
    assert "train_text_only" in summary.stdout

    # A finished feature set is skipped; one killed midway (no .done) is redone.
    (recipe / "dump" / "dev" / ".done").unlink()
    (recipe / "dump" / "dev" / "feats.scp").write_text("half")
    rerun = run("./run.sh --stage 1 --stop-stage 1 --nj 2", cwd=recipe)
    assert "dump/train_full: features up to date, skipped" in rerun.stderr
    assert "dump/dev: features up to date" not in rerun.stderr
    check_stage_outputs(recipe, 513, monkeypatch)


def test_ljspeech_stages_0_to_2_on_fixture(tmp_path, monkeypatch):
    make_ljspeech_fixture(tmp_path / "db", num_utts=40)
    recipe = copy_recipe("ljspeech", tmp_path / "ljspeech")
    proc = run(f'./run.sh --stop-stage 2 --nj 2 --local-data-opts "--db-dir {tmp_path}/db"', cwd=recipe)
    assert "resampled" in proc.stderr + "".join(
        p.read_text() for p in (recipe / "dump" / "train_full" / "log").glob("*.log"))
    check_stage_outputs(recipe, 1025, monkeypatch)
    text = (recipe / "data" / "train_full" / "text").read_text()
    transcripts = [line.split(' ', 1)[1] for line in text.splitlines()]
    assert all('"' not in t and t == t.lower() for t in transcripts)
