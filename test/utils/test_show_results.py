def test_show_results_table(tmp_path, run_util):
    decode = tmp_path / "exp" / "asr_x" / "decode_test_best_beam5"
    synth = tmp_path / "exp" / "tts_y" / "synth_test"
    decode.mkdir(parents=True)
    synth.mkdir(parents=True)
    (decode / "result.txt").write_text("CER 1.23% (9 / 731 chars)  WER 4.00% (3 / 75 words)  [x]\n")
    (synth / "result.txt").write_text("mel_l2 0.4100  stop_acc 0.9900  MCD 7.35dB  F0_RMSE 21.40Hz  "
                                      "VUV 9.50%  CER 12.00%  WER 30.00%  hit_cap 2/150  [y]\n")
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    assert rows[2] == "| asr_x | decode_test_best_beam5 | 1.23% | 4.00% | - | - | - | - | - | - |"
    assert rows[3] == "| tts_y | synth_test | 12.00% | 30.00% | 0.4100 | 0.9900 | 7.35dB | 21.40Hz | 9.50% | 2/150 |"


def test_show_results_without_results_fails(tmp_path, run_util):
    (tmp_path / "exp").mkdir()
    proc = run_util(["show_results.sh", tmp_path / "exp"])
    assert proc.returncode == 1 and "run stages 6 and 7" in proc.stderr
