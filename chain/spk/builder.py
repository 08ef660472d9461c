"""Speaker encoder options on the command line, the model built from them, and loading.

:func:`add_arguments` registers the :class:`chain.spk.encoder.SpeakerEncoder` options
(argument group "speaker encoder"); :func:`build` makes the model from the parsed
namespace or from the ``config.yaml`` of a ``spk_train`` run; :func:`load_speaker_encoder`
gives the trained, frozen encoder that the multi-speaker TTS and the chain use.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from chain.data.datadir import read_kv
from chain.feats.cmvn import load_cmvn
from chain.spk.encoder import SpeakerEncoder
from chain.train.checkpoint import find_checkpoint, load_weights
from chain.train.experiment import load_config

SPEAKERS = "speakers"  # file in the experiment dir: the training speakers, one per line, in id order


def add_arguments(parser) -> None:
    """Register the speaker encoder's options on an (configargparse) ``parser``."""
    group = parser.add_argument_group("speaker encoder")
    group.add_argument("--conv-channels", type=int, nargs="+", default=[128, 128],
                       help="output channels of each Conv1d + LeakyReLU layer on the log-mel frames")
    group.add_argument("--conv-kernel", type=int, default=5, help="odd kernel width of the convolutions")
    group.add_argument("--conv-stride", type=int, default=2,
                       help="time stride of each convolution (2 with two layers: 1/4 of the frames)")
    group.add_argument("--rnn-dim", type=int, default=128, help="LSTM units per direction of the BiLSTM layers")
    group.add_argument("--rnn-layers", type=int, default=1,
                       help="BiLSTM layers after the convolutions (0: convolutions only)")
    group.add_argument("--embed-dim", type=int, default=128, help="size of the speaker vector z (Eq. 21)")
    group.add_argument("--nll-weight", type=float, default=1.0,
                       help="weight of the softmax NLL over the training speakers (Eq. 23; 0: off)")
    group.add_argument("--triplet-weight", type=float, default=1.0,
                       help="weight of the triplet loss over the triples of a batch (Eq. 24; 0: off)")
    group.add_argument("--triplet-margin", type=float, default=0.2,
                       help="margin of the triplet loss, in squared distance of unit vectors")


def build(args, in_dim: int, num_speakers: int) -> SpeakerEncoder:
    """Speaker encoder of the options in ``args`` for ``in_dim`` mel bins and ``num_speakers``."""
    return SpeakerEncoder(in_dim=in_dim, num_speakers=num_speakers, conv_channels=tuple(args.conv_channels),
                          conv_kernel=args.conv_kernel, conv_stride=args.conv_stride, rnn_dim=args.rnn_dim,
                          rnn_layers=args.rnn_layers, embed_dim=args.embed_dim, nll_weight=args.nll_weight,
                          triplet_weight=args.triplet_weight, triplet_margin=args.triplet_margin)


def freeze(encoder: SpeakerEncoder) -> SpeakerEncoder:
    """``encoder`` in eval mode with no parameter requiring a gradient (IV-C: the TTS's
    Eq. (25) and the chain read it, never train it)."""
    return encoder.eval().requires_grad_(False)


def load_speaker_encoder(exp_dir: str | os.PathLike, checkpoint: str | os.PathLike = "best.pt",
                         device: str | torch.device = "cpu", *, cmvn: str | os.PathLike | None = None
                         ) -> tuple[SpeakerEncoder, np.ndarray]:
    """``(frozen encoder on device, log-mel CMVN stats it reads)`` of a ``spk_train`` run; the
    stats are its ``config.yaml``'s ``cmvn`` (relative to the recipe dir) unless ``cmvn`` is given."""
    path = find_checkpoint(exp_dir, checkpoint)
    config = load_config(exp_dir, add_arguments)
    speakers = read_speakers(exp_dir)
    cmvn = load_cmvn(config.cmvn if cmvn is None else cmvn)
    encoder = build(config, cmvn.shape[1] - 1, len(speakers))
    load_weights(encoder, path, target=f"the speaker encoder of {Path(exp_dir) / 'config.yaml'}",
                 hint="were the CMVN stats or the speakers file changed after training?")
    return freeze(encoder.to(device)), cmvn


def read_speakers(exp_dir: str | os.PathLike) -> list[str]:
    """The training speakers of a ``spk_train`` run, in class-id order."""
    path = Path(exp_dir) / SPEAKERS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {exp_dir} a spk_train experiment?)")
    return path.read_text(encoding="utf-8").split()


def speaker_labels(utt2spk_path: str | os.PathLike, utts: list[str], speakers: list[str]) -> list[int]:
    """Class ids of ``utts`` by ``utt2spk``: the index in ``speakers``, or a distinct id >=
    len(speakers) for each speaker outside it (triplet loss only)."""
    utt2spk = read_kv(utt2spk_path)
    index = {s: i for i, s in enumerate(speakers)}
    for utt in utts:
        if utt not in utt2spk:
            raise ValueError(f"{utt2spk_path}: no speaker for '{utt}'")
        index.setdefault(utt2spk[utt], len(index))
    return [index[utt2spk[u]] for u in utts]
