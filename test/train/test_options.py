import configargparse
import pytest

from chain.bin._args import YAMLConfigFileParser
from chain.train.options import (InitOptions, LoopOptions, OptimOptions, TrainOptions,
                                 add_arguments, options_from_args)


def parser():
    p = configargparse.ArgumentParser(config_file_parser_class=YAMLConfigFileParser)
    p.add_argument("--config", is_config_file=True)
    add_arguments(p)
    return p


def test_defaults_match_the_dataclasses():
    assert options_from_args(parser().parse_args([])) == TrainOptions()


def test_command_line_and_yaml_config(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("lr: 0.001\nscheduler: noam\nepochs: 3\ninit_prefixes: [encoder., decoder.]\n")
    args = parser().parse_args(["--config", str(config), "--epochs", "7", "--resume", "true",
                                "--higher-is-better", "false"])
    options = options_from_args(args)
    assert options.optim == OptimOptions(lr=0.001)
    assert options.schedule.scheduler == "noam"
    assert options.loop == LoopOptions(epochs=7)
    assert options.start == InitOptions(resume=True, init_prefixes=("encoder.", "decoder."))


@pytest.mark.parametrize("argv", [["--amp", "fp8"], ["--scheduler", "linear"], ["--resume", "yes"]])
def test_bad_values_are_rejected(argv, capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(argv)
    assert argv[0] in capsys.readouterr().err


def test_unknown_config_key_is_rejected(tmp_path, capsys):
    config = tmp_path / "train.yaml"
    config.write_text("learning_rate: 0.1\n")
    with pytest.raises(SystemExit):
        parser().parse_args(["--config", str(config)])
    assert "learning-rate" in capsys.readouterr().err


def test_every_option_has_help():
    text = parser().format_help()
    for cls in (OptimOptions, LoopOptions):
        for name in cls.__dataclass_fields__:
            assert "--" + name.replace("_", "-") in text
