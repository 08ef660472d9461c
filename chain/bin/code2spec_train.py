"""Train the Code2Spec inverter (section 3 of the ZeroSpeech 2019 VQ-VAE paper) with its
discriminator: units of the target voice's speech -> its linear spectrogram.

Inputs: a unit dir of the voice set (vq_encode or zs_baseline: the stride comes from its
units.yaml) and the set's features (linear.scp, CMVN-normalised with --cmvn-linear). The
inverter and the discriminator are two models of one task of the training engine (Adam each;
the discriminator's learning rate is --disc-lr); best.pt holds the inverter with the lowest
dev MSE. Example:
  python -m chain.bin.code2spec_train --config conf/code2spec.yaml \\
      --train-units exp/vqvae/units_train_voice --train-dir dump/train_voice \\
      --dev-units exp/vqvae/units_dev_voice --dev-dir dump/dev_voice \\
      --cmvn-linear dump/train_voice/cmvn_linear.ark --exp-dir exp/vqvae/code2spec
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging
from chain.train.checkpoint import seed_everything
from chain.train.engine import fit
from chain.train.experiment import save_config
from chain.train.options import add_arguments as add_train_arguments
from chain.train.options import options_from_args
from chain.train.trainer import TrainingError
from chain.vq.builder import add_code2spec_arguments, build_code2spec, build_discriminator, gan_options
from chain.vq.data import FramesDataset, add_batch_arguments, frame_loaders, read_units_meta
from chain.vq.tasks import Code2SpecTask

log = logging.getLogger("code2spec_train")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    g = parser.add_argument_group("data")
    g.add_argument("--train-units", required=True, help="unit dir of the training speech")
    g.add_argument("--train-dir", required=True, help="features of the training speech (linear.scp)")
    g.add_argument("--dev-units", required=True, help="unit dir of the dev speech")
    g.add_argument("--dev-dir", required=True, help="features of the dev speech")
    g.add_argument("--cmvn-linear", required=True, help="global CMVN stats of the training linear spectrograms")
    add_batch_arguments(g)
    add_code2spec_arguments(parser)
    add_train_arguments(parser)
    parser.set_defaults(lr=1e-3, n_average=0)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("code2spec_train")
    torch.set_num_threads(args.num_threads)
    try:
        meta = read_units_meta(args.train_units)

        def dataset(units, d):
            return FramesDataset(Path(d) / "utt2num_frames", units_scp=Path(units) / "units.scp",
                                 linear_scp=Path(d) / "linear.scp", linear_cmvn=args.cmvn_linear)

        train_set, dev_set = dataset(args.train_units, args.train_dir), dataset(args.dev_units, args.dev_dir)
        args.unit_dim, args.out_dim, args.unit_stride = train_set.dim("units"), train_set.dim("linear"), meta["stride"]
        seed_everything(args.seed)
        generator = build_code2spec(args, args.unit_dim, args.out_dim, args.unit_stride)
        discriminator = build_discriminator(args, args.out_dim)
        options = options_from_args(args)
        save_config(args, args.exp_dir)
        train_loader, dev_loader = frame_loaders(train_set, dev_set, batch_size=args.batch_size,
                                                 max_frames=args.max_frames, seed=args.seed)
        log.info("%d training, %d dev utterances; %d-dim units every %d frames -> %d bins", len(train_set),
                 len(dev_set), args.unit_dim, args.unit_stride, args.out_dim)
        task = Code2SpecTask(generator, discriminator, train_loader, dev_loader, options, gan_options(args),
                             Path(args.exp_dir))
        snap = options.snapshot
        fit(task, options.loop, args.exp_dir, resume=options.start.resume, tensorboard=snap.tensorboard,
            plot=snap.plot)
    except (ValueError, OSError, TrainingError) as err:
        raise SystemExit(f"code2spec_train: error: {err}") from None


if __name__ == "__main__":
    main()
