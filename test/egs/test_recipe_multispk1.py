"""egs/mini_espeak/multispk1, the multi-speaker setting, on tiny configs: stages 0-7 (speaker
encoder in stage 3, multi-speaker TTS with one-shot references in stages 4 and 7, test_seen
and test_unseen), then the speaker-aware chain of stage 5."""
import kaldiio
import numpy as np
import yaml

from chain.data.datadir import read_kv, write_kv
from fixtures.recipe import copy_recipe, run, run_bin
from fixtures.tiny import TINY_ASR, TINY_SPK, TINY_TTS


def test_multispk_stages_0_to_7_and_the_chain(tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "multispk1", "multispk1")
    tiny = tmp_path / "tiny"  # conf/ holds links to ../chain1/conf: the tiny configs go elsewhere
    tiny.mkdir()
    for name, values in (("asr", TINY_ASR), ("tts", {**TINY_TTS, "epochs": 1}),
                         ("spk", {**TINY_SPK, "dev_metric": "loss"}),
                         ("chain", dict(epochs=1, batch_size=8, max_frames_per_token=3.0, tensorboard=False))):
        (tiny / f"{name}.yaml").write_text(yaml.safe_dump(values))
    opts = (f"--spk-config {tiny}/spk.yaml --asr-config {tiny}/asr.yaml --tts-config {tiny}/tts.yaml "
            f"--chain-config {tiny}/chain.yaml --griffin-lim-iters 2 --beam 2")
    paper = "--spk-train-set train_paired"  # the paper's encoder (paired voices); run.sh's default adds the speech-only ones
    data_opts = '--local-data-opts "--num-utts 64 --speakers 5 --paired-speakers 2 --unseen-speakers 1"'
    proc = run(f"./run.sh {data_opts} {opts} {paper}", cwd=recipe)
    assert "stage 3: speaker encoder training" in proc.stderr

    voices = {name: set(read_kv(recipe / "dump" / name / "utt2spk").values())
              for name in ("train_paired", "train_speech_only", "test_seen", "test_unseen")}
    assert voices["train_paired"] == voices["test_seen"] == {"spk01", "spk02"}
    assert voices["train_speech_only"] == {"spk03", "spk04"} and voices["test_unseen"] == {"spk05"}
    spk, asr = recipe / "exp" / "spk_spk_train_paired", recipe / "exp" / "asr_asr_train_paired"
    tts = recipe / "exp" / "tts_tts_train_paired_spk_spk_train_paired"
    assert (spk / "speakers").read_text().split() == ["spk01", "spk02"]
    assert yaml.safe_load((tts / "config.yaml").read_text())["spk_exp_dir"] == "exp/spk_spk_train_paired"
    for dset in ("test_seen", "test_unseen"):
        assert (asr / f"decode_{dset}_best_beam2" / "result.txt").read_text().startswith("CER ")
        utt2spk = read_kv(recipe / "dump" / dset / "utt2spk")
        refs = read_kv(tts / f"synth_{dset}" / "ref")  # one-shot: another utterance of the voice
        assert refs.keys() == utt2spk.keys() and all(utt2spk[r] == utt2spk[u] for u, r in refs.items())
        result = (tts / f"synth_{dset}" / "result.txt").read_text()
        assert "mel_l2" in result and "spk_cos" in result
    assert any(r != u for u, r in refs.items())  # test_unseen: one voice, many utterances
    assert (spk / "embed_test_seen" / "result.txt").read_text().startswith("EER ")
    vectors = [kaldiio.load_mat(str(recipe / v)) for v in read_kv(spk / "embed_test_unseen" / "embeddings.scp").values()]
    assert len(vectors) == len(utt2spk) and all(abs(np.linalg.norm(v) - 1) < 1e-4 for v in vectors)
    assert read_kv(spk / "embed_test_unseen" / "spk_embeddings.scp").keys() == {"spk05"}

    # one-shot synthesis from given references: a sound file and a feature matrix
    utts, wavs = sorted(utt2spk), read_kv(recipe / "data" / "test_seen" / "wav.scp")
    feats = read_kv(recipe / "dump" / "test_unseen" / "feats.scp")
    given = {utt: next(iter(wavs.values())) if i == 0 else feats[utts[0]] for i, utt in enumerate(utts)}
    write_kv(tmp_path / "ref.scp", given)
    run_bin("tts_decode", "--exp-dir", tts.relative_to(recipe), "--data-dir", "dump/test_unseen", "--out-dir",
            tmp_path / "oneshot", "--ref-scp", tmp_path / "ref.scp", "--write-wav", "false", cwd=recipe)
    assert read_kv(tmp_path / "oneshot" / "ref") == given
    assert read_kv(tmp_path / "oneshot" / "feats.scp").keys() == utt2spk.keys()

    # stage 5: the speaker-aware chain (speech-only branch off to keep the test short: its
    # z = SPKEMB(x) is that of the paired step, test/loop/test_speakers.py)
    run(f'./run.sh --stage 5 --stop-stage 5 --system chain {opts} {paper} --chain-args "--ratio 1 0 1"', cwd=recipe)
    chain = recipe / "exp" / "chain_chain_spk_spk_train_paired"
    assert (chain / "asr" / "best.pt").is_file() and (chain / "tts" / "best.pt").is_file()
    assert "text-only step: speaker vectors of" in (chain / "log" / "chain_train.log").read_text()

    # run.sh's default: the speaker encoder on the speech-only voices' labels too (a combined dump dir)
    run(f"./run.sh --stage 3 --stop-stage 3 {opts}", cwd=recipe)
    both = recipe / "exp" / "spk_spk_train_paired+train_speech_only"
    assert (both / "speakers").read_text().split() == ["spk01", "spk02", "spk03", "spk04"]
    assert (both / "best.pt").is_file()
