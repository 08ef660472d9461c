"""The ASR model's command-line options and the model built from them.

:func:`add_arguments` registers every :class:`Seq2SeqASR` constructor option as
``--kebab-case`` (argument group "ASR model"); :func:`build` makes the model from the
parsed namespace, or from the ``config.yaml`` of a training run (the same keys), so
training and decoding build the same network. Defaults are the paper's sizes
(section III-D2 of the machine speech chain paper).
"""
from __future__ import annotations

import argparse

from chain.asr.seq2seq import Seq2SeqASR
from chain.nets.attention import ATTENTIONS


def add_arguments(parser) -> None:
    """Register the model options on an (configargparse) ``parser``."""
    group = parser.add_argument_group("ASR model")
    # encoder
    group.add_argument("--enc-proj", type=int, default=256,
                       help="units of the input Linear + LeakyReLU layer on the log-mel frames")
    group.add_argument("--enc-hidden", type=int, default=256,
                       help="LSTM units per direction of each encoder BiLSTM layer")
    group.add_argument("--enc-layers", type=int, default=3, help="number of encoder BiLSTM layers")
    group.add_argument("--subsample", type=int, nargs="+", default=[2, 2, 2],
                       help="keep every n-th frame after each BiLSTM layer, one factor per layer "
                            "(2 2 2: the paper's 1/8)")
    # decoder
    group.add_argument("--dec-embed", type=int, default=128,
                       help="size of the character embedding (paper: 128; 256 in section V)")
    group.add_argument("--dec-hidden", type=int, default=512, help="units of the decoder LSTM")
    group.add_argument("--attention", default="mlp",
                       help=f"attention scorer, one of {', '.join(ATTENTIONS)} (mlp: Eq. 12; "
                            "mlp_ma: MLP with multiscale alignment history, section V)")
    group.add_argument("--attn-dim", type=int, default=256,
                       help="size of the attention's hidden projection")
    group.add_argument("--attn-history", type=int, default=1,
                       help="mlp_ma only: previous alignments the location features read "
                            "(1: the paper's 1-history size)")
    group.add_argument("--attn-kernel-sizes", type=int, nargs="+", default=[5, 11, 21],
                       help="mlp_ma only: odd convolution widths over the alignment history, "
                            "one per scale")
    group.add_argument("--attn-channels", type=int, default=10,
                       help="mlp_ma only: convolution filters per scale")
    group.add_argument("--out-hidden", type=int, default=0,
                       help="units of a tanh layer before the output softmax (0: a single "
                            "fully connected layer, as in the paper)")
    # training
    group.add_argument("--dropout", type=float, default=0.0,
                       help="dropout after the embedding, between BiLSTM layers and before "
                            "the output layer")
    group.add_argument("--label-smoothing", type=float, default=0.0,
                       help="label smoothing of the cross-entropy (0: Eq. 13 exactly)")
    group.add_argument("--guided-attn-weight", type=float, default=0.0,
                       help="weight of a guided attention loss added to the cross-entropy: a "
                            "diagonal prior on the attention (not in the paper; 0: off)")
    group.add_argument("--guided-attn-sigma", type=float, default=0.2,
                       help="width g of the guided attention prior (fraction of the utterance)")


def attention_options(args: argparse.Namespace) -> dict:
    """Scorer-specific options of ``args.attention`` (only mlp_ma has any)."""
    if args.attention == "mlp_ma":
        return {"history": args.attn_history, "kernel_sizes": list(args.attn_kernel_sizes),
                "channels": args.attn_channels}
    return {}


def build(args: argparse.Namespace, vocab_size: int, idim: int) -> Seq2SeqASR:
    """:class:`Seq2SeqASR` from options registered by :func:`add_arguments`.

    ``vocab_size`` is the tokenizer's size, ``idim`` the feature dims per frame. Special ids
    are those of chain.text (pad 0, <s> 2, </s> 3). Bad values raise ValueError.
    """
    if args.attention not in ATTENTIONS:
        raise ValueError(f"--attention must be one of {', '.join(ATTENTIONS)}: "
                         f"got {args.attention!r}")
    if len(args.subsample) != args.enc_layers:
        raise ValueError(f"--subsample needs one factor per encoder layer (--enc-layers "
                         f"{args.enc_layers}): got {' '.join(map(str, args.subsample))}")
    for name in ("enc_proj", "enc_hidden", "enc_layers", "dec_embed", "dec_hidden", "attn_dim"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1: got {getattr(args, name)}")
    if not 0.0 <= args.dropout < 1.0:
        raise ValueError(f"--dropout must be in [0, 1): got {args.dropout}")
    return Seq2SeqASR(
        vocab_size=vocab_size, idim=idim, enc_proj=args.enc_proj, enc_hidden=args.enc_hidden,
        enc_layers=args.enc_layers, subsample=tuple(args.subsample), dec_embed=args.dec_embed,
        dec_hidden=args.dec_hidden, attention=args.attention, attn_dim=args.attn_dim,
        attn_options=attention_options(args), out_hidden=args.out_hidden,
        dropout=args.dropout, label_smoothing=args.label_smoothing,
        guided_attn_weight=args.guided_attn_weight, guided_attn_sigma=args.guided_attn_sigma)
