"""egs/zerospeech19/vqvae1: data preparation on a tiny release-shaped fixture, and the
embedded setting (egs/mini_espeak/vqvae1) through every stage on a tiny configuration."""
import kaldiio
import numpy as np
import soundfile
import yaml

from fixtures.recipe import copy_recipe, run


def make_release(db, rng):
    """english/{train/unit,train/voice,test}/<SPEAKER>_<id>.wav (noise bursts) + an .item file."""
    layout = {"train/unit": ["S001", "S002"] * 3, "train/voice": ["V001"] * 4, "test": ["S003", "S004"]}
    for sub, speakers in layout.items():
        (db / "english" / sub).mkdir(parents=True)
        for k, spk in enumerate(speakers):
            soundfile.write(db / "english" / sub / f"{spk}_{k:04d}.wav",
                            rng.normal(scale=0.1, size=8000 + 800 * k), 16000, subtype="PCM_16")
    item = db / "byCtxt_acSpkr.item"
    item.write_text("#file onset offset #phone prev-phone next-phone speaker\n"
                    "S003_0000 0.10 0.20 AH B T S003\nS004_0001 0.10 0.20 AH B T S004\n")
    return item


def test_release_data_prep_and_features(tmp_path, monkeypatch):
    item = make_release(tmp_path / "db", np.random.default_rng(0))
    recipe = copy_recipe("zerospeech19", tmp_path / "zs", recipe="vqvae1")
    run(f'./run.sh --stop-stage 1 --local-data-opts "--db-dir {tmp_path}/db --item-file {item} '
        f'--dev-fraction 0.2"', cwd=recipe)
    spk = lambda s: (recipe / "data" / s / "utt2spk").read_text().split()  # noqa: E731
    assert sorted(set(spk("train_unit")[1::2] + spk("dev")[1::2])) == ["S001", "S002"]
    assert len(spk("dev")) == 2 and len(spk("train_unit")) == 10  # 1 of 6 held out
    assert set(spk("train_voice")[1::2] + spk("dev_voice")[1::2]) == {"V001"} and len(spk("dev_voice")) == 2
    assert spk("test")[::2] == ["S003_0000", "S004_0001"]
    assert (recipe / "data" / "local" / "test.item").read_text() == item.read_text()
    monkeypatch.chdir(recipe)
    frames = dict(line.split() for line in (recipe / "dump/test/utt2num_frames").read_text().splitlines())
    for name, dim in (("mfcc", 39), ("logmel", 80), ("linear", 1025)):
        mats = kaldiio.load_scp(f"dump/test/{name}.scp")
        assert {k: v.shape for k, v in mats.items()} == {k: (int(n), dim) for k, n in frames.items()}
    assert int(frames["S003_0000"]) == 1 + 8000 // 160  # 10 ms frames, centred


def test_embedded_recipe_every_stage(tmp_path, listeners):
    """Every stage on the VQ-VAE's units, then stages 2-6 on K-Means units through Code2Spec;
    the resynthesised speech of both scored by the machine listeners of another recipe (whose
    features differ: 50 ms windows every 12.5 ms)."""
    recipe = copy_recipe("mini_espeak", tmp_path / "zs", recipe="vqvae1")
    c2s = '--c2s-args "--epochs 1 --c2s-channels 16 --disc-channels 8 --batch-size 8" --griffin-lim-iters 2'
    scoring = f"--scoring-asr-exp {listeners}/exp/asr --scoring-spk-exp {listeners}/exp/spk"
    first = run('./run.sh --local-data-opts "--num-utts 45 --speakers 3 --dev-fraction 0.2 --test-fraction 0.25" '
        f'--vq-args "--epochs 1 --channels 16 --num-codes 16 --batch-size 8" {c2s} {scoring} '
        '--baselines "kmeans:8:2 gmm:4:2"', cwd=recipe)
    proc = run(f"./run.sh --stage 2 --stop-stage 6 --units kmeans:8:2 {c2s} {scoring}", cwd=recipe)
    assert "stage 2: --units kmeans:8:2: a baseline" in proc.stderr
    vq = recipe / "exp" / "vq_vqvae"
    results = {p.parent.parent.name: yaml.safe_load(p.read_text())
               for p in (recipe / "exp").glob("**/units_test/result.yaml")}
    assert set(results) == {"vq_vqvae", "kmeans8_2T", "gmm4_2T"}
    for name, r in results.items():
        assert 0 <= r["abx"] <= 100 and r["triplets"] > 0 and r["bitrate"] >= 0, name
        assert 0 <= r["speaker_information"] <= 1, name  # of data/test/utt2spk's three voices
    assert results["kmeans8_2T"]["bitrate"] > 0  # (one epoch of a tiny VQ-VAE may use a single code)
    assert results["gmm4_2T"]["distance"] == "kl" and results["vq_vqvae"]["stride"] == 4
    # 16 codes at 4T cannot carry more than log2(16) bits per 40 ms unit
    assert results["vq_vqvae"]["bitrate"] <= 4 / 0.04
    for name in ("vq_vqvae", "kmeans8_2T"):  # resynthesised: scored by the listeners
        r = results[name]
        assert r["resynth_cer"] >= 0 and r["resynth_wer"] >= 0 and -1 <= r["resynth_spk_cos"] <= 1, name
        assert r["resynth_voice"] == "data/train_voice" and r["resynth_asr"].startswith(f"{listeners}/exp/asr/")
        speakers = {line.split()[1] for line in (recipe / "data/test/utt2spk").read_text().splitlines()}
        assert set(r["resynth_cer_by_speaker"]) == speakers and min(r["resynth_cer_by_speaker"].values()) >= 0
    assert not any(key.startswith("resynth") for key in results["gmm4_2T"])  # no Code2Spec of its units
    assert "synth_test/wav.scp: no resynthesis of exp/baselines/gmm4_2T (stages 3 and 5): not scored" in first.stderr
    assert "| baselines/kmeans8_2T | " in proc.stdout and "| vq_vqvae | " in proc.stdout  # show_results.sh
    test_utts = [line.split()[0] for line in (recipe / "data/test/utt2spk").read_text().splitlines()]
    hyp = recipe / "exp/baselines/kmeans8_2T/code2spec/synth_test/hyp.trn"
    assert [line.rsplit("(", 1)[1].rstrip(")") for line in hyp.read_text().splitlines()] == test_utts
    assert sorted(p.stem for p in (vq / "submission/english/test").glob("*.txt")) == test_utts
    assert (vq / "submission/metadata.yaml").is_file()
    wavs = sorted((vq / "code2spec/synth_test/wav").glob("*.wav"))
    assert [w.stem for w in wavs] == test_utts and soundfile.info(wavs[0]).samplerate == 16000
    assert "discriminator" in (vq / "code2spec/train.log").read_text()


def test_every_conf_loads():
    from pathlib import Path

    from chain.bin import code2spec_train, vq_train
    from chain.feats.fbank import FbankConfig

    root = Path(__file__).resolve().parents[2] / "egs"
    for recipe in (root / "zerospeech19" / "vqvae1", root / "mini_espeak" / "vqvae1"):
        args = vq_train.get_parser().parse_args(["--config", str(recipe / "conf/vqvae.yaml"), "--train-dir", "x",
                                                 "--train-utt2spk", "x", "--dev-dir", "x", "--dev-utt2spk", "x",
                                                 "--cmvn", "x", "--exp-dir", "x"])
        assert args.stride == 4 and args.num_codes == 256 and args.restart_threshold > 0
        args = code2spec_train.get_parser().parse_args([
            "--config", str(recipe / "conf/code2spec.yaml"), "--train-units", "x", "--train-dir", "x",
            "--dev-units", "x", "--dev-dir", "x", "--cmvn-linear", "x", "--exp-dir", "x"])
        assert args.kernel_sizes == [1, 3, 5, 7] and args.gan_type == "lsgan" and args.adv_weight == 1.0
        cfg = FbankConfig.from_yaml(recipe / "conf/fbank.yaml")
        assert (cfg.win_length_ms, cfg.hop_length_ms) == (25.0, 10.0)
