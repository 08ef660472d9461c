"""ABX error and bitrate of a unit dir (the ZeroSpeech 2019 evaluation), and optionally
the 2019 submission layout of its units.

ABX: the across-speaker task of --item-file (an official byCtxt_acSpkr .item or one made by
zs_items), DTW with the unit dir's distance (cosine; kl for posteriors) unless --distance.
Bitrate: (N / D) H over every utterance of the unit dir, D from --utt2dur. Prints one line
and writes --result (YAML). Example:
  python -m chain.bin.zs_eval --units-dir exp/vqvae/units_test --item-file data/local/test.item \\
      --utt2dur dump/test/utt2dur --result exp/vqvae/units_test/result.yaml
"""
from __future__ import annotations

import logging

import configargparse
import yaml

from chain.bin._args import make_parser, setup_logging
from chain.data.datadir import read_kv
from chain.fileio import atomic_write
from chain.metrics.abx import abx_from_features
from chain.metrics.dtw import DISTANCES
from chain.metrics.zerospeech import bitrate, read_item_file, write_submission
from chain.vq.data import read_units, read_units_meta

log = logging.getLogger("zs_eval")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--units-dir", required=True, help="unit dir (units.scp, units.yaml)")
    parser.add_argument("--item-file", required=True, help="ABX items (.item)")
    parser.add_argument("--utt2dur", required=True, help="durations in seconds of the utterances")
    parser.add_argument("--distance", choices=DISTANCES, help="frame distance (default: the unit dir's)")
    parser.add_argument("--max-triplets-per-cell", type=int, default=0,
                        help="score at most this many triplets drawn per cell (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the triplet draw")
    parser.add_argument("--result", help="YAML file to write the figures to")
    parser.add_argument("--submission-dir", help="also write the units in the 2019 submission layout here")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("zs_eval")
    try:
        meta, units = read_units_meta(args.units_dir), read_units(args.units_dir)
        durations = read_kv(args.utt2dur)
        missing = sorted(set(units) - set(durations))
        if missing:
            raise ValueError(f"{args.utt2dur}: no duration for {len(missing)} utterances, e.g. {missing[0]}")
        items = [it for it in read_item_file(args.item_file) if it.file in units]
        distance = args.distance or meta["distance"]
        result = abx_from_features(items, units, frame_shift=meta["frame_shift"], stride=meta["stride"],
                                   distance=distance, max_triplets_per_cell=args.max_triplets_per_cell,
                                   seed=args.seed)
        rate = bitrate(units.values(), sum(float(durations[u]) for u in units))
        figures = {"abx": round(result.error, 3), "bitrate": round(rate, 2), "distance": distance,
                   "triplets": result.triplets, "items": len(items), "utterances": len(units),
                   "stride": meta["stride"], "units": meta.get("kind", "")}
        if args.result:
            with atomic_write(args.result) as f:
                yaml.safe_dump(figures, f, sort_keys=False)
        if args.submission_dir:
            write_submission(args.submission_dir, units, {
                "author": "", "affiliation": "", "open source": True, "using parallel train": False,
                "using external data": False, "system description": f"chain: {meta.get('kind', '')}",
                "auxiliary1 description": "", "auxiliary2 description": ""})
    except (ValueError, OSError) as err:
        raise SystemExit(f"zs_eval: error: {err}") from None
    print(f"zs_eval: {args.units_dir}: ABX {result.error:.2f} ({distance}, {result.triplets} triplets), "
          f"bitrate {rate:.1f} bits/s")


if __name__ == "__main__":
    main()
