"""Stage 1: check that feature dirs are complete before they are trusted.

For every utterance of DUMP_DIR/utt2spk: a line in feats.scp, linear.scp (if the dir
has one) and utt2num_frames, pointing to a readable matrix of that many frames (its
header and all its data are in the ark). Exit 0 when every dir is complete; else one
line naming the file, the line and the utterance, and exit 1. Stage 1 writes
DUMP_DIR/.done only after this check, and checks again before it skips a set.
Example:
  python -m chain.bin.check_feats dump/dev dump/test
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("dump_dirs", nargs="+", metavar="DUMP_DIR", help="feature dirs of stage 1")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    from chain.feats.check import check_feature_dir

    for dump_dir in args.dump_dirs:
        try:
            n = check_feature_dir(dump_dir)
        except (ValueError, OSError) as err:  # DataError is a ValueError
            raise SystemExit(f"check_feats: error: {err}") from None
        print(f"check_feats: {dump_dir}: features of all {n} utterances complete")


if __name__ == "__main__":
    main()
