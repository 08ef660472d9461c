"""The embedded recipe with several voices and --use-spk true: a speaker encoder in stage 3,
the multi-speaker TTS in stages 4 and 7 (one-shot references), the speaker-aware chain in stage 5."""
import kaldiio
import numpy as np
import yaml

from chain.data.datadir import read_kv, write_kv
from fixtures.recipe import copy_recipe, run, run_bin
from fixtures.tiny import TINY_ASR, TINY_SPK, TINY_TTS


def test_mini_espeak_multispeaker_stages_0_to_7_and_the_chain(tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "mini_espeak")
    conf = recipe / "conf"
    for name, values in (("asr_tiny", TINY_ASR), ("tts_tiny", {**TINY_TTS, "epochs": 1}),
                         ("spk_tiny", {**TINY_SPK, "dev_metric": "loss"}),
                         ("chain_tiny", dict(epochs=1, batch_size=8, max_frames_per_token=3.0, tensorboard=False))):
        (conf / f"{name}.yaml").write_text(yaml.safe_dump(values))
    tiny = ("--use-spk true --spk-config conf/spk_tiny.yaml --asr-config conf/asr_tiny.yaml "
            "--tts-config conf/tts_tiny.yaml --chain-config conf/chain_tiny.yaml --griffin-lim-iters 2 --beam 2")
    proc = run(f'./run.sh --nj 2 --local-data-opts "--num-utts 50 --speakers 3" {tiny}', cwd=recipe)
    assert "stage 3: speaker encoder training" in proc.stderr

    spk, tts = recipe / "exp" / "spk_spk_tiny_train_paired", recipe / "exp" / "tts_tts_tiny_train_paired_spk"
    assert (spk / "best.pt").is_file() and len((spk / "speakers").read_text().split()) > 1
    assert yaml.safe_load((tts / "config.yaml").read_text())["spk_exp_dir"] == str(spk.relative_to(recipe))
    utt2spk = read_kv(recipe / "dump" / "test" / "utt2spk")
    refs = read_kv(tts / "synth_test" / "ref")
    assert refs.keys() == utt2spk.keys()
    assert all(utt2spk[ref] == utt2spk[utt] for utt, ref in refs.items())
    assert "mel_l2" in (tts / "synth_test" / "result.txt").read_text()
    vectors = [kaldiio.load_mat(str(recipe / v)) for v in read_kv(spk / "embed_test" / "embeddings.scp").values()]
    assert len(vectors) == len(utt2spk) and all(abs(np.linalg.norm(v) - 1) < 1e-4 for v in vectors)
    assert read_kv(spk / "embed_test" / "spk_embeddings.scp").keys() == set(utt2spk.values())

    # one-shot synthesis from given references: a sound file and a feature matrix
    utts, wavs = sorted(utt2spk), read_kv(recipe / "data" / "test" / "wav.scp")
    feats = read_kv(recipe / "dump" / "test" / "feats.scp")
    given = {utt: wavs[utts[-1]] if i == 0 else feats[utts[0]] for i, utt in enumerate(utts)}
    write_kv(tmp_path / "ref.scp", given)
    run_bin("tts_decode", "--exp-dir", tts.relative_to(recipe), "--data-dir", "dump/test", "--out-dir",
            tmp_path / "oneshot", "--ref-scp", tmp_path / "ref.scp", "--write-wav", "false", cwd=recipe)
    assert read_kv(tmp_path / "oneshot" / "ref") == given
    assert read_kv(tmp_path / "oneshot" / "feats.scp").keys() == utt2spk.keys()

    # stage 5: the speaker-aware chain (speech-only branch off to keep the test short: its
    # z = SPKEMB(x) is that of the paired step, test/loop/test_speakers.py)
    run(f'./run.sh --stage 5 --stop-stage 5 --system chain {tiny} --chain-args "--ratio 1 0 1"', cwd=recipe)
    chain = recipe / "exp" / "chain_chain_tiny_spk"
    assert (chain / "asr" / "best.pt").is_file() and (chain / "tts" / "best.pt").is_file()
    assert "text-only step: speaker vectors of" in (chain / "log" / "chain_train.log").read_text()
