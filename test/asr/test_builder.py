"""The ASR model options: CLI registration, building, and the recipes' conf/asr.yaml files."""
import re
from pathlib import Path

import configargparse
import pytest
import torch

from chain.asr.builder import add_arguments, build
from chain.bin._args import YAMLConfigFileParser
from chain.bin.asr_train import get_parser as asr_train_parser

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ["--train-dir", "t", "--dev-dir", "d", "--exp-dir", "e"]


def parse(*argv):
    parser = configargparse.ArgumentParser(config_file_parser_class=YAMLConfigFileParser)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_paper_sizes():
    model = build(parse(), vocab_size=37, idim=80)
    assert model.enc_rnn.subsample == [2, 2, 2]
    assert model.enc_rnn.hidden == 256 and len(model.enc_rnn.forward_lstms) == 3
    assert model.embed.embedding_dim == 128 and model.dec_cell.hidden_size == 512
    assert type(model.attention).__name__ == "MLPAttention"
    assert model.output.out_features == 37
    assert model.guided_attn_weight == 0.0


def test_guided_attention_options_reach_the_model():
    model = build(parse("--guided-attn-weight", "0.5", "--guided-attn-sigma", "0.3"), vocab_size=10, idim=4)
    assert (model.guided_attn_weight, model.guided_attn_sigma) == (0.5, 0.3)


def test_mlp_ma_options_reach_the_scorer():
    args = parse("--attention", "mlp_ma", "--attn-history", "2", "--attn-kernel-sizes", "3", "7",
                 "--enc-layers", "2", "--subsample", "2", "2", "--enc-hidden", "8",
                 "--dec-hidden", "8", "--attn-dim", "8")
    model = build(args, vocab_size=10, idim=4)
    assert model.attention.history == 2
    assert [c.kernel_size[0] for c in model.attention.convs] == [3, 7]
    loss, _ = model(dict(feats=torch.randn(2, 12, 4), feat_lengths=torch.tensor([12, 9]),
                         tokens=torch.tensor([[5, 6], [7, 0]]), token_lengths=torch.tensor([2, 1])))
    loss.backward()


@pytest.mark.parametrize("argv, message", [
    (["--attention", "luong"],
     "--attention must be one of dot, bilinear, mlp, mlp_ma: got 'luong'"),
    (["--subsample", "2", "2"], "one factor per encoder layer"),
    (["--dec-hidden", "0"], "--dec-hidden must be >= 1"),
    (["--dropout", "1.5"], "--dropout must be in [0, 1)"),
])
def test_bad_options_raise(argv, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build(parse(*argv), vocab_size=10, idim=4)


@pytest.mark.parametrize("recipe", ["TEMPLATE", "ljspeech", "mini_espeak", "wsj"])
def test_recipe_configs_load_and_build(recipe):
    conf = ROOT / "egs" / recipe / "chain1" / "conf" / "asr.yaml"
    args = asr_train_parser().parse_args(["--config", str(conf), *REQUIRED])
    model = build(args, vocab_size=37, idim=80)
    assert args.dev_metric == "cer"
    assert sum(p.numel() for p in model.parameters()) > 100_000


def test_unknown_config_key_is_rejected(tmp_path, capsys):
    conf = tmp_path / "asr.yaml"
    conf.write_text("enc_hiden: 4\n")
    with pytest.raises(SystemExit):
        asr_train_parser().parse_args(["--config", str(conf), *REQUIRED])
    assert "enc-hiden" in capsys.readouterr().err
