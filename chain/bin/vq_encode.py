"""Encode speech into VQ-VAE units (Eq. (1), (2) of the ZeroSpeech 2019 VQ-VAE paper).

Writes, for each --data-dirs entry, into the --out-dirs entry of the same position, OUT_DIR/units.{ark,scp} (the codebook vector of every code, ``(ceil(T / stride),
code_dim)``), OUT_DIR/codes.txt (``utt c1 c2 ...``: the code indices) and OUT_DIR/units.yaml
(stride, frame shift, ABX distance cosine). Example:
  python -m chain.bin.vq_encode --exp-dir exp/vqvae --data-dirs dump/test --out-dirs exp/vqvae/units_test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging
from chain.fileio import atomic_write
from chain.vq.builder import load_vq
from chain.vq.data import FramesDataset, collate_frames, write_units, write_units_meta

log = logging.getLogger("vq_encode")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="a vq_train experiment")
    parser.add_argument("--checkpoint", default="best.pt", help="weights in --exp-dir")
    parser.add_argument("--data-dirs", nargs="+", required=True, help="features to encode (dump/<set>)")
    parser.add_argument("--out-dirs", nargs="+", required=True, help="unit dirs to write, one per --data-dirs")
    parser.add_argument("--frame-shift", type=float, default=0.01, help="seconds per feature frame")
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    return parser


@torch.no_grad()
def encode(model, config, data: Path, out: Path, frame_shift: float) -> int:
    """Units and codes of the features in ``data`` into the unit dir ``out``; returns the utterances."""
    dataset = FramesDataset(data / "utt2num_frames", feats_scp=data / f"{config.feats}.scp", cmvn=config.cmvn)
    units, codes = {}, []
    for i in range(len(dataset)):
        batch = collate_frames([dataset[i]])
        q, _ = model.encode(batch["feats"], batch["feat_lengths"])
        units[dataset.keys[i]] = model.quantizer.codebook(q.indices[0]).numpy()  # e_c exactly
        codes.append(f"{dataset.keys[i]} {' '.join(map(str, q.indices[0].tolist()))}\n")
    write_units(out, units)
    with atomic_write(out / "codes.txt") as f:
        f.writelines(codes)
    write_units_meta(out, stride=model.stride, frame_shift=frame_shift, distance="cosine",
                     kind=f"vqvae {config.exp_dir}")
    return len(units)


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("vq_encode")
    torch.set_num_threads(args.num_threads)
    if len(args.data_dirs) != len(args.out_dirs):
        raise SystemExit(f"vq_encode: error: {len(args.data_dirs)} --data-dirs but {len(args.out_dirs)} --out-dirs")
    try:
        model, config = load_vq(args.exp_dir, args.checkpoint)
        for data, out in zip(args.data_dirs, args.out_dirs):
            n = encode(model, config, Path(data), Path(out), args.frame_shift)
            log.info("%s: %d utterances -> %s (stride %d)", data, n, out, model.stride)
    except (ValueError, OSError) as err:
        raise SystemExit(f"vq_encode: error: {err}") from None


if __name__ == "__main__":
    main()
