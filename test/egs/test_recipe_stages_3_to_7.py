"""The embedded recipe through stages 3-7 (ASR and TTS training, decoding, synthesis) on tiny configs."""
import yaml

from fixtures.recipe import copy_recipe, run
from fixtures.tiny import TINY_ASR, TINY_TTS


def test_mini_espeak_stages_3_to_7(tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "mini_espeak")
    run('./run.sh --stop-stage 2 --nj 2 --local-data-opts "--num-utts 40 --speakers 1"', cwd=recipe)
    (recipe / "conf" / "asr_tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    (recipe / "conf" / "tts_tiny.yaml").write_text(yaml.safe_dump(TINY_TTS))
    proc = run("./run.sh --stage 3 --nj 2 --asr-config conf/asr_tiny.yaml --tts-config "
               "conf/tts_tiny.yaml --griffin-lim-iters 4 --beam 2", cwd=recipe)
    assert "stage 5 is not provided by this version and is skipped" in proc.stderr

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

    table = run("utils/show_results.sh exp", cwd=recipe).stdout
    assert "| asr_asr_tiny_train_paired | decode_test_best_beam2 |" in table
    assert "| tts_tts_tiny_train_paired | synth_test |" in table

    # A finished run re-runs harmlessly: training resumes at its last epoch and stops.
    again = run("./run.sh --stage 3 --stop-stage 3 --asr-config conf/asr_tiny.yaml", cwd=recipe)
    assert "done" in again.stderr
