"""Tacotron options on the command line: defaults are the constructor's, bad names raise."""
import configargparse
import pytest
import torch

from chain.bin._args import YAMLConfigFileParser
from chain.tts import Tacotron, builder

torch.set_num_threads(1)


def parse(argv=(), config_text=None, tmp_path=None):
    parser = configargparse.ArgumentParser(config_file_parser_class=YAMLConfigFileParser)
    parser.add_argument("--config", is_config_file=True)
    builder.add_arguments(parser)
    if config_text is not None:
        conf = tmp_path / "tts.yaml"
        conf.write_text(config_text)
        argv = ["--config", str(conf), *argv]
    return parser.parse_args(list(argv))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_defaults_build_the_papers_model():
    args = parse()
    assert args.reduction_factor == 4 and args.encoder_bank_size == 8 and args.attention == "mlp_ma"
    model = builder.build(args, 37, 80, 1025)
    torch.manual_seed(0)
    assert n_params(model) == n_params(Tacotron(vocab_size=37, mel_dim=80, linear_dim=1025))
    assert model.linear_dim == 1025 and model.r == 4


def test_yaml_lists_underscores_and_attention_options(tmp_path):
    args = parse(["--decoder-layers", "1"], "encoder_fc_dims: [16, 8]\nprenet_dims: [12, 6]\n"
                 "attention_kernel_sizes: [3, 5]\nattention_channels: 2\nembed_dim: 8\n", tmp_path)
    kw = builder.model_options(args)
    assert kw["encoder_fc_dims"] == (16, 8) and kw["prenet_dims"] == (12, 6) and kw["decoder_layers"] == 1
    assert kw["attention_conf"] == {"history": 1, "kernel_sizes": (3, 5), "channels": 2}
    assert "attention_conf" not in builder.model_options(parse(["--attention", "mlp"]))


def test_bad_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="dot, bilinear, mlp, mlp_ma: got 'foo'"):
        builder.build(parse(["--attention", "foo"]), 10, 8, 9)
    with pytest.raises(ValueError, match="gru, lstm"):
        builder.build(parse(["--encoder-rnn-type", "rnn"]), 10, 8, 9)
