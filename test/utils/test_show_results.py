HEADER = "| experiment | result | CER | WER | mel L2 | stop acc | MCD | F0 RMSE | V/UV err | hit cap |"
SYNTH = ("mel_l2 0.4100  stop_acc 0.9900  MCD 7.35dB  F0_RMSE 21.40Hz  VUV 9.50%  CER 12.00%  WER 30.00%  "
         "{lid}hit_cap 2/150{spk}  [150 utts of dump/test, exp/tts_y/best.pt, ASR exp/asr_x/best.pt beam 2]\n")


def write_results(root, results):
    for rel, text in results.items():
        (root / rel).mkdir(parents=True)
        (root / rel / "result.txt").write_text(text)


def test_show_results_table(tmp_path, run_util):
    """A single-speaker run without language tags: the columns of old, every row as wide as the header."""
    write_results(tmp_path / "exp", {
        "asr_x/decode_test_best_beam5": "CER 1.23% (9 / 731 chars)  WER 4.00% (3 / 75 words)  [x]\n",
        "tts_y/synth_test": SYNTH.format(lid="", spk=""),
        "asr_x/decode_test_best_beam5/nested": "CER 9.99%\n",  # not a result of stage 6 or 7
    })
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        HEADER, "|---|---|---|---|---|---|---|---|---|---|",
        "| asr_x | decode_test_best_beam5 | 1.23% | 4.00% | - | - | - | - | - | - |",
        "| tts_y | synth_test | 12.00% | 30.00% | 0.4100 | 0.9900 | 7.35dB | 21.40Hz | 9.50% | 2/150 |"]


def test_show_results_lid_spk_cos_and_speaker_encoder(tmp_path, run_util):
    """Tagged transcripts (LID of stages 6 and 7), a multi-speaker TTS (spk_cos) and the speaker encoder's
    embed_ results (EER, identification accuracy) in a second table; a figure a row lacks is "-"."""
    write_results(tmp_path / "exp", {
        "asr_x/decode_test_cs_best_beam5": (
            "CER 1.23% (9 / 731 chars)  WER 4.00% (3 / 75 words)  sentence errors 3 / 10  [x]\n"
            "LID token accuracy 97.50% (390 / 400 chars)  LID utterance accuracy 90.00% (9 / 10)\n"),
        "chain_c/asr/decode_test_cs_best_beam5": "CER 2.00% (1 / 50 chars)  WER 5.00% (1 / 20 words)  [x]\n",
        "tts_y_spk_z/synth_test_cs": SYNTH.format(lid="LID_token 88.00%  LID_utt 70.00%  ", spk="  spk_cos 0.8123"),
        "spk_z/embed_test_cs": ("EER 12.50% (190 trials), identification accuracy 80.00% (16 utterances)  "
                                "[20 utterances of 4 speakers: dump/test_cs]\n"),
        "spk_z/embed_test_one_voice": "",  # spk_embed writes no figures for a single speaker
    })
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "| experiment | result | CER | WER | LID token | LID utt | mel L2 | stop acc | MCD | F0 RMSE | V/UV err "
        "| hit cap | spk cos |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        "| asr_x | decode_test_cs_best_beam5 | 1.23% | 4.00% | 97.50% | 90.00% | - | - | - | - | - | - | - |",
        "| chain_c/asr | decode_test_cs_best_beam5 | 2.00% | 5.00% | - | - | - | - | - | - | - | - | - |",
        "| tts_y_spk_z | synth_test_cs | 12.00% | 30.00% | 88.00% | 70.00% | 0.4100 | 0.9900 | 7.35dB | 21.40Hz "
        "| 9.50% | 2/150 | 0.8123 |",
        "",
        "| experiment | result | EER | id acc |",
        "|---|---|---|---|",
        "| spk_z | embed_test_cs | 12.50% | 80.00% |",
        "| spk_z | embed_test_one_voice | - | - |"]


def test_show_results_speaker_encoder_only(tmp_path, run_util):
    write_results(tmp_path / "exp", {"spk_z/embed_dev": "EER 0.00% (6 trials), identification accuracy 100.00% "
                                                        "(2 utterances)\n"})
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["| experiment | result | EER | id acc |", "|---|---|---|---|",
                                        "| spk_z | embed_dev | 0.00% | 100.00% |"]


def test_show_results_without_results_fails(tmp_path, run_util):
    (tmp_path / "exp").mkdir()
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 1 and "run stages 6 and 7" in proc.stderr


def test_show_results_units_table(tmp_path, run_util):
    """ZeroSpeech unit systems (chain.bin.zs_eval's result.yaml): a table of their own."""
    for system, figures in (("vq_x", "abx: 12.5\nbitrate: 99.1\nspeaker_information: 0.16\nresynth_cer: 30.2\n"
                                      "resynth_wer: 70.0\n"
                                      "resynth_spk_cos: 0.91\nunits: vqvae exp/vq_x\n"),
                            ("baselines/kmeans8_2T", "abx: 10.0\nbitrate: 50.0\nunits: kmeans C=8\n")):
        (tmp_path / "exp" / system / "units_test").mkdir(parents=True)
        (tmp_path / "exp" / system / "units_test" / "result.yaml").write_text(figures)
    units = ["| unit system | ABX | bitrate | spk info | resynth CER | resynth WER | resynth spk cos |",
             "|---|---|---|---|---|---|---|", "| baselines/kmeans8_2T | 10.0 | 50.0 | - | - | - | - |",
             "| vq_x | 12.5 | 99.1 | 0.16 | 30.2 | 70.0 | 0.91 |"]
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == units
    write_results(tmp_path / "exp", {"asr_x/decode_test_best_beam5": "CER 1.23% (9 / 731 chars)  WER 4.00%\n"})
    rows = run_util(["show_results.sh", tmp_path / "exp"]).stdout.splitlines()
    assert rows[2].startswith("| asr_x | decode_test_best_beam5 | 1.23% |") and rows[3:] == ["", *units]
