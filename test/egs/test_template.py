"""The shared template: setup.sh, option parsing and stage guards of chain.sh."""
import soundfile
import yaml

from fixtures.ljspeech import make_ljspeech_fixture
from fixtures.recipe import ROOT, copy_recipe, run
from fixtures.tiny import TINY_ASR, TINY_TTS


def test_setup_creates_linked_recipe(tmp_path):
    new = tmp_path / "egs" / "mycorpus" / "chain1"
    run(f"{ROOT}/egs/TEMPLATE/chain1/setup.sh {new}", cwd=tmp_path)
    for link in ("chain.sh", "path.sh", "utils"):
        assert (new / link).is_symlink() and (new / link).exists()
    assert (new / "conf" / "fbank.yaml").is_file() and not (new / "cmd.sh").is_symlink()
    help_out = run("./run.sh --help", cwd=new)
    assert "--stop-stage" in help_out.stdout + help_out.stderr
    proc = run("./run.sh --stage 0 --stop-stage 0", cwd=new, check=False)
    assert proc.returncode != 0 and "local/data.sh" in proc.stderr
    again = run(f"{ROOT}/egs/TEMPLATE/chain1/setup.sh {new}", cwd=tmp_path, check=False)
    assert again.returncode != 0 and "exists already" in again.stderr


def test_missing_models_and_bad_options_fail_clearly(tmp_path):
    recipe = copy_recipe("mini_espeak", tmp_path / "r")
    proc = run("./run.sh --stage 5 --stop-stage 5 --system chain", cwd=recipe, check=False)
    assert proc.returncode == 1 and "exp/asr_asr_train_paired/best.pt: no such file" in proc.stderr
    proc = run("./run.sh --stage 6 --stop-stage 9", cwd=recipe, check=False)
    assert proc.returncode == 2 and "the stages are 0..7" in proc.stderr
    proc = run("./run.sh --no-such-option 1", cwd=recipe, check=False)
    assert proc.returncode != 0 and "no-such-option" in proc.stderr


def test_new_recipe_runs_stages_0_to_7_with_only_its_corpus_path_set(tmp_path):
    """setup.sh, then corpus_dir in local/data.sh: a folder of wavs and flacs at 22.05 kHz
    with a metadata.csv goes through import, split and stages 1-7 (tiny models)."""
    db = make_ljspeech_fixture(tmp_path / "db", num_utts=24)
    for wav in sorted((db / "wavs").glob("*.wav"))[:4]:
        samples, rate = soundfile.read(wav)
        soundfile.write(wav.with_suffix(".flac"), samples, rate)
        wav.unlink()
    new = tmp_path / "egs" / "mycorpus" / "chain1"
    run(f"{ROOT}/egs/TEMPLATE/chain1/setup.sh {new}", cwd=tmp_path)
    data_sh = new / "local" / "data.sh"
    data_sh.write_text(data_sh.read_text().replace('\ncorpus_dir=""', f"\ncorpus_dir={db}", 1))
    (new / "conf" / "asr_tiny.yaml").write_text(yaml.safe_dump(TINY_ASR))
    (new / "conf" / "tts_tiny.yaml").write_text(yaml.safe_dump(TINY_TTS))
    proc = run("./run.sh --nj 2 --asr-config conf/asr_tiny.yaml --tts-config conf/tts_tiny.yaml "
               "--griffin-lim-iters 2 --beam 2", cwd=new)
    assert "data/all: 24 utterances of 1 speakers" in proc.stderr
    assert "resampled" in (new / "dump" / "train_full" / "log" / "feat_extract.1.log").read_text()
    flacs = [line for line in (new / "data" / "all" / "wav.scp").read_text().splitlines()
             if line.endswith(".flac")]
    assert len(flacs) == 4
    sizes = {s: len((new / "data" / s / "utt2spk").read_text().splitlines())
             for s in ("train_full", "train_paired", "dev", "test")}
    assert sizes == {"train_full": 22, "train_paired": 7, "dev": 1, "test": 1}
    table = run("utils/show_results.sh exp", cwd=new).stdout
    for row in ("| asr_asr_tiny_train_paired | decode_test_best_beam2 |",
                "| tts_tts_tiny_train_paired | synth_test |"):
        assert row in table, row
