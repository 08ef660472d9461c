"""Speaker encoder entry points: the recipes' conf/spk.yaml files, --help."""
from pathlib import Path

import pytest

from chain.bin import spk_embed, spk_train

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("recipe", ["TEMPLATE", "mini_espeak"])
def test_recipe_spk_yaml_is_valid(recipe):
    conf = ROOT / "egs" / recipe / "chain1" / "conf" / "spk.yaml"
    args = spk_train.get_parser().parse_args(["--config", str(conf), "--train-dir", "t", "--dev-dir", "d",
                                              "--exp-dir", "e"])
    assert args.lr == 1e-3 and args.dev_metric == "eer" and args.nll_weight > 0 and args.triplet_weight > 0


@pytest.mark.parametrize("module", [spk_train, spk_embed])
def test_help_needs_no_data(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0 and "--exp-dir" in capsys.readouterr().out

