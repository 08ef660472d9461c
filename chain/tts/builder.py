"""Tacotron options on the command line: :func:`add_arguments` and :func:`build`.

Every constructor option of :class:`chain.tts.Tacotron` is an option ``--kebab-case``
whose default is the constructor's (the paper's sizes, sections III-C and III-D2 of the
machine speech chain paper). The sizes that come from the data are not options: the
vocabulary (``data/lang``), the mel and linear widths (the features of stage 1) and the
special token ids (the tokenizer's). The options of the ``mlp_ma`` attention scorer are
``--attention-history``, ``--attention-kernel-sizes`` and ``--attention-channels``.
"""
from __future__ import annotations

import inspect

from chain.nets.attention import ATTENTIONS, MLPMultiscaleAttention
from chain.tts.tacotron import Tacotron

# Constructor argument -> (help, argparse type, nargs); the defaults are read from Tacotron.
_OPTIONS: dict[str, tuple[str, type, str | None]] = {
    # text encoder
    "embed_dim": ("character embedding size", int, None),
    "encoder_fc_dims": ("sizes of the FC + LeakyReLU layers after the embedding", int, "+"),
    "encoder_bank_size": ("encoder CBHG: number of convolution banks K (widths 1..K)", int, None),
    "encoder_channels": ("encoder CBHG: channels of each bank, of the first projection and of "
                         "the highway layers", int, None),
    "encoder_highway_layers": ("encoder CBHG: number of highway layers", int, None),
    "encoder_rnn_dim": ("encoder CBHG: units per direction of the bidirectional RNN", int, None),
    "encoder_rnn_type": ("encoder CBHG: bidirectional RNN type, gru or lstm", str, None),
    # decoder and outputs
    "reduction_factor": ("frames predicted per decoder step (r)", int, None),
    "prenet_dims": ("sizes of the decoder prenet layers (FC + LeakyReLU + dropout)", int, "+"),
    "decoder_dim": ("units of each decoder LSTM", int, None),
    "decoder_layers": ("number of stacked decoder LSTMs", int, None),
    "attention": (f"attention scorer: one of {', '.join(ATTENTIONS)} (mlp_ma: MLP with "
                  "multiscale alignment history)", str, None),
    "attention_dim": ("hidden size of the attention scorer", int, None),
    "output_hidden_dim": ("hidden size of the mel output layers", int, None),
    "postnet_bank_size": ("post CBHG: number of convolution banks K", int, None),
    "postnet_channels": ("post CBHG: channels of each bank and of the highway layers", int, None),
    "postnet_proj_dim": ("post CBHG: channels of the first projection", int, None),
    "postnet_highway_layers": ("post CBHG: number of highway layers", int, None),
    "postnet_rnn_dim": ("post CBHG: units per direction of the BiGRU", int, None),
    "leaky_slope": ("negative slope of every LeakyReLU", float, None),
    # speaker conditioning
    "spk_dim": ("speaker vector size (section IV-C); 0: single speaker, no conditioning", int, None),
    "spk_proj_dim": ("size of the speaker projection concatenated before the outputs", int, None),
    "spk_loss_weight": ("gamma3 of Eq. (25): weight of 1 - cos(z, SPKEMB(predicted mel)) when a "
                        "speaker encoder is given", float, None),
    # training
    "dropout": ("dropout of the encoder FC layers and of the prenet", float, None),
    "stop_pos_weight": ("weight of the positive (end of speech) class in the stop BCE of "
                        "Eq. (14)", float, None),
    "loss_reduction": ("L2 terms of Eq. (14): mean (per frame and bin, terms of comparable "
                       "scale) or sum (over bins, per frame: Eq. (14) as written, mel x D_mel "
                       "and linear x D_lin)", str, None),
    "guided_attn_weight": ("weight of the guided attention loss (a diagonal prior that speeds up "
                           "alignment; not in the paper); 0: off", float, None),
    "guided_attn_sigma": ("width g of the guided attention prior", float, None),
}
# Options of the mlp_ma scorer -> (help, type, nargs); defaults from MLPMultiscaleAttention.
_ATTENTION_OPTIONS: dict[str, tuple[str, type, str | None]] = {
    "history": ("mlp_ma only: previous alignments convolved (1: the last one)", int, None),
    "kernel_sizes": ("mlp_ma only: odd convolution widths, one per scale", int, "+"),
    "channels": ("mlp_ma only: filters per scale", int, None),
}
# Fixed by the data or the tokenizer, never options.
_FROM_DATA = {"vocab_size", "mel_dim", "linear_dim", "sos_id", "eos_id", "pad_id", "attention_conf"}


def _defaults(cls) -> dict:
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _add(group, name: str, default, help: str, type_: type, nargs: str | None) -> None:
    if nargs:
        default = list(default)
    group.add_argument("--" + name.replace("_", "-"), type=type_, nargs=nargs, default=default,
                       help=help)


def add_arguments(parser) -> None:
    """Register the argument group "TTS model" on a (configargparse) parser."""
    group = parser.add_argument_group("TTS model")
    defaults = _defaults(Tacotron)
    missing = set(defaults) - set(_OPTIONS) - _FROM_DATA
    if missing:  # a new constructor argument needs its help text above
        raise RuntimeError(f"Tacotron options without a CLI entry: {sorted(missing)}")
    for name, (help, type_, nargs) in _OPTIONS.items():
        _add(group, name, defaults[name], help, type_, nargs)
    attention_defaults = _defaults(MLPMultiscaleAttention)
    for name, (help, type_, nargs) in _ATTENTION_OPTIONS.items():
        _add(group, "attention_" + name, attention_defaults[name], help, type_, nargs)


def model_options(args) -> dict:
    """The Tacotron keyword arguments that ``args`` sets (not those the data fixes)."""
    kw = {name: getattr(args, name) for name in _OPTIONS}
    for name in ("encoder_fc_dims", "prenet_dims"):
        kw[name] = tuple(kw[name])
    if kw["attention"] not in ATTENTIONS:
        raise ValueError(f"--attention must be one of {', '.join(ATTENTIONS)}: got {kw['attention']!r}")
    if kw["attention"] == "mlp_ma":
        kw["attention_conf"] = {name: getattr(args, "attention_" + name) for name in _ATTENTION_OPTIONS}
        kw["attention_conf"]["kernel_sizes"] = tuple(kw["attention_conf"]["kernel_sizes"])
    return kw


def build(args, vocab_size: int, mel_dim: int, linear_dim: int, *, sos_id: int = 2, eos_id: int = 3,
          pad_id: int = 0) -> Tacotron:
    """Tacotron of the options in ``args`` (parsed with :func:`add_arguments`, or a loaded
    ``config.yaml``) for the data's vocabulary, mel and linear widths."""
    return Tacotron(vocab_size=vocab_size, mel_dim=mel_dim, linear_dim=linear_dim, sos_id=sos_id,
                    eos_id=eos_id, pad_id=pad_id, **model_options(args))
