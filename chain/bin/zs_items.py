"""ABX items of the across-speaker triphone task from phone alignments (a Kaldi CTM, e.g. the
embedded corpus's data/local/phones.ctm), for the utterances of --utt2spk. Every phone with a
phone on both sides (no pause among the three) is an item; its context is its neighbours.
Example:
  python -m chain.bin.zs_items --ctm data/local/phones.ctm --utt2spk data/test/utt2spk --out data/local/test.item
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser
from chain.data.datadir import read_kv
from chain.metrics.zerospeech import items_from_ctm, write_item_file


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--ctm", required=True, help="phone alignments: utt channel start duration phone")
    parser.add_argument("--utt2spk", required=True, help="the utterances to take, and their speakers")
    parser.add_argument("--out", required=True, help=".item file to write")
    parser.add_argument("--skip", nargs="*", default=["_", "sil", "SIL", "sp"], help="pause labels")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    try:
        items = items_from_ctm(args.ctm, read_kv(args.utt2spk), skip=args.skip)
        if not items:
            raise ValueError(f"{args.ctm}: no triphone item among the utterances of {args.utt2spk}")
        write_item_file(args.out, items)
    except (ValueError, OSError) as err:
        raise SystemExit(f"zs_items: error: {err}") from None
    print(f"zs_items: {len(items)} items of {len({it.file for it in items})} utterances, "
          f"{len({it.speaker for it in items})} speakers -> {args.out}")


if __name__ == "__main__":
    main()
