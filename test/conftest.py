"""Fixtures shared across the test suite."""
import os

import pytest

from fixtures.recipe import ROOT, copy_recipe, run

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
