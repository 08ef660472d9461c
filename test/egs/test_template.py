"""The shared template: setup.sh, option parsing and stage guards of chain.sh."""
from fixtures.recipe import ROOT, copy_recipe, run


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
