"""Train the conditional VQ-VAE (section 2 of the ZeroSpeech 2019 VQ-VAE paper) on features.

Input and target: the CMVN-normalised --feats (mfcc by default, as section 4.4.1) of
--train-dir; speakers from --utt2spk of the training data (their ids are stored in
config.yaml). Each epoch logs the codebook usage and perplexity on --dev-dir (a warning on a
collapse); best.pt has the lowest dev loss. Example:
  python -m chain.bin.vq_train --config conf/vqvae.yaml --train-dir dump/train_unit \\
      --train-utt2spk data/train_unit/utt2spk --dev-dir dump/dev --dev-utt2spk data/dev/utt2spk \\
      --cmvn dump/train_unit/cmvn_mfcc.ark --exp-dir exp/vqvae
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging
from chain.train.checkpoint import seed_everything
from chain.train.experiment import save_config
from chain.train.options import add_arguments as add_train_arguments
from chain.train.options import options_from_args
from chain.train.trainer import TrainingError, train
from chain.vq.builder import add_vq_arguments, build_vq
from chain.vq.data import FramesDataset, add_batch_arguments, frame_loaders
from chain.vq.tasks import codebook_dev_stats

log = logging.getLogger("vq_train")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    g = parser.add_argument_group("data")
    g.add_argument("--train-dir", required=True, help="features of the training speech (dump/<set>)")
    g.add_argument("--train-utt2spk", required=True, help="utt2spk of the training speech")
    g.add_argument("--dev-dir", required=True, help="features of the dev speech")
    g.add_argument("--dev-utt2spk", required=True, help="utt2spk of the dev speech (speakers of the training set)")
    g.add_argument("--feats", default="mfcc", choices=("mfcc", "logmel"), help="features modelled")
    g.add_argument("--cmvn", required=True, help="global CMVN stats of --feats on the training speech")
    add_batch_arguments(g)
    add_vq_arguments(parser)
    add_train_arguments(parser)
    parser.set_defaults(lr=1e-3, dev_metric="loss", n_average=0)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("vq_train")
    torch.set_num_threads(args.num_threads)
    try:
        def dataset(d, utt2spk, spk2id=None):
            return FramesDataset(Path(d) / "utt2num_frames", feats_scp=Path(d) / f"{args.feats}.scp",
                                 utt2spk=utt2spk, spk2id=spk2id, cmvn=args.cmvn)

        train_set = dataset(args.train_dir, args.train_utt2spk)
        dev_set = dataset(args.dev_dir, args.dev_utt2spk, train_set.spk2id)
        args.input_dim, args.speakers = train_set.dim("feats"), sorted(train_set.spk2id, key=train_set.spk2id.get)
        seed_everything(args.seed)
        model = build_vq(args, args.input_dim, len(args.speakers))
        save_config(args, args.exp_dir)
        loaders = frame_loaders(train_set, dev_set, batch_size=args.batch_size, max_frames=args.max_frames,
                                seed=args.seed)
        log.info("%d training, %d dev utterances; %d speakers; %d-dim %s", len(train_set), len(dev_set),
                 len(args.speakers), args.input_dim, args.feats)
        train(model, *loaders, options_from_args(args), args.exp_dir,
              dev_metric_fn=lambda m, loader: codebook_dev_stats(m, loader, args.collapse_fraction))
    except (ValueError, OSError, TrainingError) as err:
        raise SystemExit(f"vq_train: error: {err}") from None


if __name__ == "__main__":
    main()
