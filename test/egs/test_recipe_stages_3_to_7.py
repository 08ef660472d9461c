"""The embedded recipe through stages 3-7 (ASR and TTS training, speech chain, label propagation,
decoding, synthesis) on tiny configs."""
import yaml

from fixtures.ljspeech import make_ljspeech_fixture
from fixtures.recipe import copy_recipe, run
from fixtures.tiny import TINY_ASR, TINY_TTS


def test_mini_espeak_stages_3_to_7(tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "mini_espeak")
    run('./run.sh --stop-stage 2 --nj 2 --local-data-opts "--num-utts 40 --speakers 1"', cwd=recipe)
    (recipe / "conf" / "asr_tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    (recipe / "conf" / "tts_tiny.yaml").write_text(yaml.safe_dump(TINY_TTS))
    proc = run("./run.sh --stage 3 --nj 2 --asr-config conf/asr_tiny.yaml --tts-config "
               "conf/tts_tiny.yaml --griffin-lim-iters 4 --beam 2", cwd=recipe)
    assert "stage 5: nothing to do for --system baseline" in proc.stderr

    asr, tts = recipe / "exp" / "asr_asr_tiny_train_paired", recipe / "exp" / "tts_tts_tiny_train_paired"
    for name in ("best.pt", "config.yaml", "train.log", "checkpoints/epoch1.pt"):
        assert (asr / name).is_file() and (tts / name).is_file(), name
    for dset in ("dev", "test"):
        decode = asr / f"decode_{dset}_best_beam2"
        hyps = (decode / "text").read_text().splitlines()
        refs = (recipe / "dump" / dset / "text").read_text().splitlines()
        assert [h.split()[0] for h in hyps] == [r.split()[0] for r in refs]
        assert (decode / "result.txt").read_text().startswith("CER ")
    synth = tts / "synth_test"
    assert len(list((synth / "wav").glob("*.wav"))) == len(refs)
    result = (synth / "result.txt").read_text()
    assert "mel_l2" in result and "stop_acc" in result and "CER" in result and "n/a" not in result
    assert "MCD " in result and "dB" in result and "VUV " in result

    table = run("utils/show_results.sh exp", cwd=recipe).stdout
    assert "| asr_asr_tiny_train_paired | decode_test_best_beam2 |" in table
    assert "| tts_tts_tiny_train_paired | synth_test |" in table

    # Stage 5 of the other systems, from these models; stages 6-7 evaluate stage 5's models.
    (recipe / "conf" / "chain_tiny.yaml").write_text(yaml.safe_dump(
        dict(epochs=1, batch_size=8, max_frames_per_token=3.0, tensorboard=False)))
    tiny = "--asr-config conf/asr_tiny.yaml --tts-config conf/tts_tiny.yaml --chain-config conf/chain_tiny.yaml"
    run(f"./run.sh --stage 5 --nj 2 --system chain {tiny} --griffin-lim-iters 4 --beam 2", cwd=recipe)
    run(f"./run.sh --stage 5 --stop-stage 5 --system chain_st --st argmax --tau 0.5 {tiny}", cwd=recipe)
    labelprop = run(f"./run.sh --stage 5 --stop-stage 6 --nj 2 --system labelprop {tiny} --beam 2 "
                    '--labelprop-args "--epochs 1"', cwd=recipe)
    for exp in ("chain_chain_tiny", "chain_st_argmax_tau0.5_chain_tiny", "labelprop_train_paired"):
        for model in ("asr", "tts"):
            assert (recipe / "exp" / exp / model / "best.pt").is_file(), (exp, model)
    assert "stage 5: label propagation" in labelprop.stderr
    pseudo = recipe / "exp" / "labelprop_train_paired" / "data" / "train_labelprop"
    assert "speech-only utterances pseudo-labelled" in labelprop.stdout and (pseudo / "feats.scp").is_file()
    assert not (recipe / "dump" / "train_labelprop").exists()  # per experiment, never shared
    table = run("utils/show_results.sh exp", cwd=recipe).stdout
    assert "| chain_chain_tiny/asr | decode_test_best_beam2 |" in table
    assert "| chain_chain_tiny/tts | synth_test |" in table
    assert "| labelprop_train_paired/asr | decode_test_best_beam2 |" in table
    bad = run("./run.sh --stage 5 --system chains", cwd=recipe, check=False)
    assert bad.returncode == 2 and "--system must be baseline, upper, labelprop, chain or chain_st" in bad.stderr

    # A finished run re-runs harmlessly: training resumes at its last epoch and stops.
    again = run("./run.sh --stage 3 --stop-stage 3 --asr-config conf/asr_tiny.yaml", cwd=recipe)
    assert "done" in again.stderr


def test_ljspeech_stages_0_to_7_with_the_speech_chain(tmp_path):
    """The LJSpeech recipe end to end (its own conf/chain.yaml, tiny models) on an LJSpeech-shaped corpus."""
    make_ljspeech_fixture(tmp_path / "db", num_utts=40)
    recipe = copy_recipe("ljspeech", tmp_path / "ljspeech")
    (recipe / "conf" / "asr_tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    (recipe / "conf" / "tts_tiny.yaml").write_text(yaml.safe_dump(TINY_TTS))
    tiny = ("--asr-config conf/asr_tiny.yaml --tts-config conf/tts_tiny.yaml --griffin-lim-iters 2 --beam 2 "
            '--chain-args "--epochs 1 --batch-size 8 --max-frames-per-token 3 --tensorboard false"')
    run(f'./run.sh --nj 2 --local-data-opts "--db-dir {tmp_path}/db" {tiny}', cwd=recipe)
    run(f"./run.sh --stage 5 --nj 2 --system chain {tiny}", cwd=recipe)
    table = run("utils/show_results.sh exp", cwd=recipe).stdout
    for row in ("| asr_asr_tiny_train_paired | decode_test_best_beam2 |", "| tts_tts_tiny_train_paired | synth_test |",
                "| chain_chain/asr | decode_test_best_beam2 |", "| chain_chain/tts | synth_test |"):
        assert row in table, row
