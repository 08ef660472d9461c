"""Fixtures shared across the test suite."""
import os

import pytest
import yaml

from fixtures.recipe import ROOT, copy_parts, copy_recipe, run, run_bin
from fixtures.tiny import TINY_ASR, TINY_SPK

# subprocesses (python -m chain.bin.*) import this checkout's package, like the tests do
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def espeak_recipe(tmp_path_factory):
    """A tiny embedded-corpus recipe through stages 0-2 (40 utterances, one voice).

    Shared by the tests of the training and decoding entry points: treat it as
    read-only and run commands with ``cwd`` set to it (its scp files name their
    arks relative to it). Returns the recipe dir.
    """
    recipe = copy_recipe("mini_espeak", tmp_path_factory.mktemp("espeak") / "chain1")
    run('./run.sh --stop-stage 2 --nj 2 --local-data-opts "--num-utts 40 --speakers 1"', cwd=recipe)
    return recipe


@pytest.fixture(scope="session")
def listeners(espeak_recipe, tmp_path_factory):
    """Machine listeners of resynthesised speech: a recipe dir holding the features, lang dir,
    CMVN stats and ``conf/fbank.yaml`` of ``espeak_recipe`` and, trained in it as a recipe
    trains them (paths in their config.yaml relative to it), a tiny ASR (``exp/asr``) and a
    tiny speaker encoder (``exp/spk``, one voice: loss only). Returns the recipe dir."""
    recipe = copy_parts(espeak_recipe, tmp_path_factory.mktemp("listeners") / "chain1",
                        ("conf/fbank.yaml", "data/lang", "data/cmvn.ark", "dump"))
    data = ["--train-dir", "dump/train_paired", "--dev-dir", "dump/dev", "--cmvn", "data/cmvn.ark"]
    (recipe / "asr.yaml").write_text(yaml.safe_dump(TINY_ASR))
    run_bin("asr_train", "--config", "asr.yaml", *data, "--lang-dir", "data/lang", "--exp-dir", "exp/asr", cwd=recipe)
    (recipe / "spk.yaml").write_text(yaml.safe_dump({**TINY_SPK, "epochs": 1, "dev_metric": "loss"}))
    run_bin("spk_train", "--config", "spk.yaml", *data, "--exp-dir", "exp/spk", cwd=recipe)
    return recipe
