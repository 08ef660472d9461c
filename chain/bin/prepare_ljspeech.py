"""Stage 0 for LJSpeech-1.1: metadata.csv and wavs -> the chain's Kaldi data dirs.

Writes OUT_DIR/{train_full,train_paired,train_speech_only,train_text_only,dev,test}
as chain.bin.split_data cuts them (wav.scp with absolute paths, text, utt2spk, spk2utt;
train_speech_only has no text and train_text_only no wav.scp) and prints the number of
utterances per set.
Download: https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2
Example:
  python -m chain.bin.prepare_ljspeech --db-dir downloads/LJSpeech-1.1 --out-dir data
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser
from chain.bin.split_data import add_split_arguments
from chain.corpora.ljspeech import prepare



def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--db-dir", required=True,
                        help="the unpacked corpus: the directory holding metadata.csv and wavs/")
    parser.add_argument("--out-dir", default="data", help="where the data dirs are written")
    add_split_arguments(parser)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    try:
        sets = prepare(args.db_dir, args.out_dir, seed=args.seed, dev=args.dev, test=args.test,
                       paired=args.paired, speech_only=args.speech_only)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"prepare_ljspeech: error: {err}") from None
    for name, data in sets.items():
        print(f"prepare_ljspeech: {args.out_dir}/{name}: {len(data.utts)} utterances")


if __name__ == "__main__":
    main()
