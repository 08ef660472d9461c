"""Print what a recipe has produced: data sets, audio hours, feature frames, vocabulary."""
from __future__ import annotations

from pathlib import Path

import configargparse

from chain.bin._args import make_parser

from chain.data.summary import format_table, summarize_sets


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("recipe_dir", nargs="?", default=".",
                        help="recipe directory holding data/ (and dump/ after stage 1)")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    rows = summarize_sets(args.recipe_dir)
    if not rows:
        raise SystemExit(f"data_summary: no data sets under {args.recipe_dir}/data (run stage 0)")
    print(format_table(rows))
    units = Path(args.recipe_dir) / "data" / "lang" / "units.txt"
    if units.is_file():
        print(f"vocabulary: {len(units.read_text().splitlines())} units in {units}")


if __name__ == "__main__":
    main()
