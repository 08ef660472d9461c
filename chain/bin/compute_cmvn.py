"""Stage 1: global CMVN stats of a feats.scp, in Kaldi's format.

Reads the matrices of FEATS_SCP one at a time and writes CMVN_OUT (atomically) as one
Kaldi binary double matrix of shape 2 x (D+1): row 0 the per-dimension sums and the
frame count, row 1 the sums of squares (what Kaldi's compute-cmvn-stats writes).
Example:
  python -m chain.bin.compute_cmvn dump/train/feats.scp data/cmvn.ark
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser



def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("feats_scp", metavar="FEATS_SCP", help="Kaldi scp of (frames x dims) matrices")
    parser.add_argument("cmvn_out", metavar="CMVN_OUT", help="stats file to write, e.g. data/cmvn.ark")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    from chain.feats.cmvn import cmvn_stats_from_scp, save_cmvn

    try:
        stats, n_utts = cmvn_stats_from_scp(args.feats_scp)
        save_cmvn(args.cmvn_out, stats)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"compute_cmvn: error: {err}") from None
    print(f"compute_cmvn: {n_utts} utterances, {int(stats[0, -1])} frames, "
          f"dim {stats.shape[1] - 1} -> {args.cmvn_out}")


if __name__ == "__main__":
    main()
