"""The code-switching recipe (egs/codeswitch) through stages 0-7 and the speech chain of stage 5
on a tiny corpus and tiny models: tagged transcripts, the multilingual inventory, LID scoring;
then the training stages (3, 4) of its multi-speaker variant (--use-spk true)."""
import yaml

from fixtures.recipe import copy_recipe, run
from fixtures.tiny import TINY_ASR, TINY_SPK, TINY_TTS

CORPUS = '--local-data-opts "--num-mono 12 --num-cs 10 --num-text-extra 4 --num-dev 2 --num-test 3 --speakers 2"'
TINY = ("--asr-config conf/asr_tiny.yaml --tts-config conf/tts_tiny.yaml --chain-config conf/chain_tiny.yaml "
        "--griffin-lim-iters 2 --beam 2")


def test_codeswitch_stages_0_to_7_and_the_chain(tmp_path):
    recipe = copy_recipe("codeswitch", tmp_path / "codeswitch")
    conf = recipe / "conf"
    (conf / "asr_tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    (conf / "tts_tiny.yaml").write_text(yaml.safe_dump(TINY_TTS))
    (conf / "chain_tiny.yaml").write_text(yaml.safe_dump(
        dict(epochs=1, batch_size=8, max_frames_per_token=3.0, tensorboard=False)))
    for name in ("asr", "tts", "chain", "fbank", "spk"):  # the recipe's own configs parse
        assert yaml.safe_load((conf / f"{name}.yaml").read_text())
    run(f'./run.sh {CORPUS} {TINY} --test-sets "test_cs test_zhen"', cwd=recipe)

    units = [line.split()[0] for line in (recipe / "data/lang/units.txt").read_text().splitlines()]
    assert units[-3:] == ["<en>", "<ja>", "<zh>"] and "の" in units and "吗" in units and "a" in units
    text_only = (recipe / "data/train_text_only/text").read_text().splitlines()
    assert len(text_only) == 10 + 4 and all("<en>" in line for line in text_only)
    assert not (recipe / "data/train_speech_only/text").exists()
    asr = recipe / "exp/asr_asr_tiny_train_paired"
    for dset in ("dev", "test_cs", "test_zhen"):
        result = (asr / f"decode_{dset}_best_beam2/result.txt").read_text().splitlines()
        assert result[0].startswith("CER ") and result[1].startswith("LID token accuracy ")
    synth = (recipe / "exp/tts_tts_tiny_train_paired/synth_test_zhen/result.txt").read_text()
    assert "mel_l2" in synth and "CER" in synth and "LID_token" in synth
    table = run("utils/show_results.sh exp", cwd=recipe).stdout
    assert "| CER | WER | LID token | LID utt | mel L2 |" in table.splitlines()[0]

    # Stage 5: the chain with Ja-En CS speech-only and text-only data, and the control.
    run(f"./run.sh --stage 5 --stop-stage 6 --system chain {TINY} --test-sets test_cs", cwd=recipe)
    run(f'./run.sh --stage 5 --stop-stage 5 --system chain --chain-tag control {TINY} '
        '--chain-args "--ratio 1 0 0"', cwd=recipe)
    decode = recipe / "exp/chain_chain_tiny/asr/decode_test_cs_best_beam2/result.txt"
    assert "LID utterance accuracy" in decode.read_text()
    for model in ("asr", "tts"):
        assert (recipe / "exp/control" / model / "best.pt").is_file()

    # Multi-speaker (stages 3-4 only; stage 7 of a multi-speaker TTS: test_recipe_multispk1.py): the speaker
    # encoder on the voices of the paired and the speech-only sets (dev has one utterance per voice: no
    # EER, select by loss), the TTS conditioned on its vector.
    (conf / "spk_tiny.yaml").write_text(yaml.safe_dump({**TINY_SPK, "epochs": 1, "dev_metric": "loss"}))
    run(f'./run.sh --stage 3 --stop-stage 4 {TINY} --tts-args "--epochs 1" --use-spk true '
        '--spk-config conf/spk_tiny.yaml --spk-train-set "train_paired train_speech_only"', cwd=recipe)
    spk = recipe / "exp/spk_spk_tiny_train_paired+train_speech_only"
    assert (spk / "speakers").read_text().split() == [f"{lang}{k:02d}" for lang in ("en", "ja", "jaen", "zh")
                                                      for k in (1, 2)]
    tts = recipe / f"exp/tts_tts_tiny_train_paired_{spk.name}"
    assert yaml.safe_load((tts / "config.yaml").read_text())["spk_exp_dir"] == f"exp/{spk.name}"
    assert (spk / "best.pt").is_file() and (tts / "best.pt").is_file()
