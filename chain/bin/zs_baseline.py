"""Baseline units of section 4.3 of the ZeroSpeech 2019 VQ-VAE paper: direct MFCC or log-mel
frames, K-Means centroids or diagonal-GMM posteriors of MFCC frames, at a time reduction nT.

kmeans/gmm are fitted on at most --max-fit-frames frames of --fit-dir (drawn with --seed)
and stored as OUT_MODEL (.npz; reused when it exists). Each --data-dirs entry is written as a
unit dir (units.{ark,scp}, units.yaml) of the same position in --out-dirs. Example:
  python -m chain.bin.zs_baseline --method kmeans --clusters 256 --stride 4 --fit-dir dump/train_unit \\
      --model exp/kmeans256_4T/model.npz --data-dirs dump/test --out-dirs exp/kmeans256_4T/units_test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import kaldiio
import numpy as np

from chain.bin._args import make_parser, setup_logging
from chain.vq import baselines
from chain.vq.data import write_units, write_units_meta

log = logging.getLogger("zs_baseline")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--method", required=True, choices=baselines.METHODS, help="representation")
    parser.add_argument("--clusters", type=int, default=256, help="kmeans/gmm: clusters or mixtures C")
    parser.add_argument("--stride", type=int, default=1, help="time reduction: frames averaged per unit (nT)")
    parser.add_argument("--fit-dir", help="kmeans/gmm: features to fit on (dump/<set> with mfcc.scp)")
    parser.add_argument("--model", help="kmeans/gmm: the fitted model (.npz), reused when it exists")
    parser.add_argument("--max-fit-frames", type=int, default=200000, help="kmeans/gmm: frames fitted on at most")
    parser.add_argument("--data-dirs", nargs="+", required=True, help="features to encode")
    parser.add_argument("--out-dirs", nargs="+", required=True, help="unit dirs to write, one per --data-dirs")
    parser.add_argument("--frame-shift", type=float, default=0.01, help="seconds per feature frame")
    parser.add_argument("--seed", type=int, default=0, help="seed of the frame sample and of the fit")
    return parser


def _frames(data_dir: str, feats: str, stride: int) -> dict[str, np.ndarray]:
    return {k: baselines.pool_frames(np.asarray(v), stride)
            for k, v in kaldiio.load_scp_sequential(str(Path(data_dir) / f"{feats}.scp"))}


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("zs_baseline")
    if len(args.data_dirs) != len(args.out_dirs):
        raise SystemExit(f"zs_baseline: error: {len(args.data_dirs)} --data-dirs but {len(args.out_dirs)} --out-dirs")
    feats = "logmel" if args.method == "logmel" else "mfcc"
    try:
        model = None
        if args.method in ("kmeans", "gmm"):
            if not args.model:
                raise ValueError(f"--method {args.method} needs --model")
            if Path(args.model).is_file():
                model = baselines.load(args.model)
            else:
                if not args.fit_dir:
                    raise ValueError(f"{args.model}: no such file, and no --fit-dir to fit it on")
                frames = np.concatenate(list(_frames(args.fit_dir, feats, args.stride).values()))
                rng = np.random.default_rng(args.seed)
                if len(frames) > args.max_fit_frames:
                    frames = frames[rng.choice(len(frames), args.max_fit_frames, replace=False)]
                log.info("fitting %s with %d clusters on %d frames of %s", args.method, args.clusters,
                         len(frames), args.fit_dir)
                model = baselines.fit(args.method, frames, args.clusters, args.seed)
                Path(args.model).parent.mkdir(parents=True, exist_ok=True)
                baselines.save(args.model, model)
        for data_dir, out_dir in zip(args.data_dirs, args.out_dirs):
            units = _frames(data_dir, feats, args.stride)
            if model is not None:
                units = {k: baselines.encode(model, v) for k, v in units.items()}
            write_units(out_dir, units)
            write_units_meta(out_dir, stride=args.stride, frame_shift=args.frame_shift,
                             distance="kl" if args.method == "gmm" else "cosine",
                             kind=f"{args.method} C={args.clusters}" if model is not None else args.method)
            log.info("%s: %d utterances -> %s", data_dir, len(units), out_dir)
    except (ValueError, OSError) as err:
        raise SystemExit(f"zs_baseline: error: {err}") from None


if __name__ == "__main__":
    main()
