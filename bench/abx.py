"""ABX speed: triplets of the across-speaker task on random items, timed end to end.

Builds one item per (context, phone, speaker) so that each context gives
phones x (phones - 1) x speakers x (speakers - 1) triplets (72 with the defaults), and
enough contexts for --triplets; prints the triplets, the DTW pairs and the seconds.
    tools/venv/bin/python bench/abx.py --triplets 1000 --frames 50
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from chain.metrics.abx import Item, abx


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triplets", type=int, default=1000, help="about this many triplets")
    parser.add_argument("--frames", type=int, default=50, help="frames of every item")
    parser.add_argument("--dim", type=int, default=39, help="feature dimension (MFCC + deltas: 39)")
    parser.add_argument("--distance", default="cosine", choices=("cosine", "kl"), help="frame distance")
    parser.add_argument("--phones", type=int, default=4, help="phones per context")
    parser.add_argument("--speakers", type=int, default=3, help="speakers")
    args = parser.parse_args(argv)
    per_context = args.phones * (args.phones - 1) * args.speakers * (args.speakers - 1)
    contexts = -(-args.triplets // per_context)
    rng = np.random.default_rng(0)
    items, feats = [], []
    for c in range(contexts):
        for p in range(args.phones):
            for s in range(args.speakers):
                items.append(Item(f"c{c}p{p}s{s}", 0.0, 0.5, f"p{p}", f"c{c}", f"s{s}"))
                feats.append(rng.random((args.frames, args.dim)))
    start = time.perf_counter()
    result = abx(items, feats, args.distance)
    seconds = time.perf_counter() - start
    print(f"ABX ({args.distance}): {result.triplets} triplets, {len(items)} items of {args.frames} frames "
          f"x {args.dim} dims: {seconds:.2f} s (error {result.error:.1f}, chance level ~50)")


if __name__ == "__main__":
    main()
