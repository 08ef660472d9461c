"""Speaker encoder entry points: the recipes' conf/spk.yaml files, --help, one-shot references."""
from pathlib import Path

import pytest

from chain.bin import spk_embed, spk_train
from chain.tts.references import default_references

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


def test_default_reference_is_another_utterance_of_the_speaker(tmp_path):
    (tmp_path / "feats.scp").write_text("a1 x:1\na2 x:2\na3 x:3\nb1 x:4\n")
    (tmp_path / "utt2spk").write_text("a1 a\na2 a\na3 a\nb1 b\n")
    assert default_references(tmp_path, ["a2", "a1", "b1"]) == {"a2": "a1", "a1": "a2", "b1": "b1"}
    with pytest.raises(ValueError, match="'c1'"):
        default_references(tmp_path, ["c1"])
