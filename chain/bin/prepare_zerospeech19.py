"""Stage 0 of egs/zerospeech19: the data dirs train_unit, dev, train_voice, dev_voice, test.

From the official English release (--db-dir holding english/{train/unit,train/voice,test}/),
holding out --dev-fraction of train/unit as dev and of train/voice as dev_voice; or from the
embedded multi-speaker espeak corpus (--espeak-dir holding train_full, dev, test; --voice the
target speaker). See chain.corpora.zerospeech19. Examples:
  python -m chain.bin.prepare_zerospeech19 --db-dir /corpora/zerospeech2019 --out-dir data
  python -m chain.bin.prepare_zerospeech19 --espeak-dir data/espeak --voice spk01 --out-dir data
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser
from chain.corpora.zerospeech19 import prepare_embedded, prepare_release


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--db-dir", help="folder holding the release's english/")
    src.add_argument("--espeak-dir", help="data dirs of the espeak corpus (train_full, dev, test)")
    parser.add_argument("--voice", default="spk01", help="--espeak-dir: the target voice")
    parser.add_argument("--dev-fraction", type=float, default=0.02, help="--db-dir: share of train/unit held out as dev")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out draw")
    parser.add_argument("--out-dir", default="data", help="where the data dirs go")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    try:
        if args.db_dir:
            sets = prepare_release(args.db_dir, args.out_dir, dev_fraction=args.dev_fraction, seed=args.seed)
        else:
            sets = prepare_embedded(args.espeak_dir, args.out_dir, voice=args.voice)
    except (ValueError, OSError) as err:
        raise SystemExit(f"prepare_zerospeech19: error: {err}") from None
    for name, data in sets.items():
        print(f"prepare_zerospeech19: {name}: {len(data.utts)} utterances, "
              f"{len(set(data.utt2spk.values()))} speakers")


if __name__ == "__main__":
    main()
