"""A tiny embedded-corpus recipe through stage 0, copied by each test that changes it."""
import shutil

import pytest

from fixtures.recipe import copy_recipe, run


@pytest.fixture(scope="session")
def stage0_recipe(tmp_path_factory):
    """Stage 0 of the embedded recipe on 12 utterances (10 train, 1 dev, 1 test); read-only."""
    recipe = copy_recipe("mini_espeak", tmp_path_factory.mktemp("reliability") / "chain1")
    run('./run.sh --stop-stage 0 --local-data-opts "--num-utts 12 --speakers 1"', cwd=recipe)
    return recipe


@pytest.fixture
def recipe(stage0_recipe, tmp_path):
    """A private copy of ``stage0_recipe`` (its wav.scp files still name the shared wavs)."""
    dest = tmp_path / "chain1"
    shutil.copytree(stage0_recipe, dest, symlinks=True, ignore=shutil.ignore_patterns("downloads"))
    return dest
