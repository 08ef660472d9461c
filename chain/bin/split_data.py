"""Split prepared Kaldi data dirs into the six sets the chain's stages read.

Reads one or more paired data dirs (wav.scp + text; several are combined) and writes
OUT_DIR/{train_full,train_paired,train_speech_only,train_text_only,dev,test}: the
utterances are shuffled with --seed, dev and test take their fractions (at least one
each), the rest is train_full, cut into train_paired (wav + text), train_speech_only
(no text file) and train_text_only (no wav.scp). No utterance is in two of dev, test
and the three training parts. --by-speaker cuts speakers instead, so paired,
speech-only, text-only, dev and test speakers are all different. --dev-dir and
--test-dir take a prepared set instead of cutting one. The same inputs and options
give the same sets. See docs/data.md.
Example:
  python -m chain.bin.split_data --out-dir data data/all
  python -m chain.bin.split_data --by-speaker true --test-dir data/eval data/si84 data/si200
"""
from __future__ import annotations

import logging

import configargparse

from chain.bin._args import make_parser, setup_logging, str2bool
from chain.data.datadir import DataDir, combine
from chain.data.split import split_corpus, write_sets


def add_split_arguments(parser: configargparse.ArgumentParser) -> None:
    """The options of the split, with the paper's defaults (94/3/3, then 30/35/35)."""
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffles before each cut")
    parser.add_argument("--dev", type=float, default=0.03,
                        help="fraction of the utterances (speakers with --by-speaker) for dev")
    parser.add_argument("--test", type=float, default=0.03,
                        help="fraction of the utterances (speakers with --by-speaker) for test")
    parser.add_argument("--paired", type=float, default=0.30,
                        help="fraction of train_full that is paired (train_paired)")
    parser.add_argument("--speech-only", type=float, default=0.35,
                        help="fraction of train_full that is speech only (train_speech_only); "
                             "the rest is text only (train_text_only)")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("data_dirs", nargs="+", help="paired Kaldi data dirs (wav.scp + text)")
    parser.add_argument("--out-dir", default="data", help="where the six data dirs are written")
    add_split_arguments(parser)
    parser.add_argument("--by-speaker", type=str2bool, default=False,
                        help="true: cut speakers, not utterances (multi-speaker corpora: test "
                             "speakers unseen in training, paired and unpaired speakers apart)")
    parser.add_argument("--dev-dir", default="",
                        help="a prepared dev set to use instead of cutting one; its utterances "
                             "(with --by-speaker, its speakers) are left out of training")
    parser.add_argument("--test-dir", default="", help="a prepared test set, as --dev-dir")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("split_data")
    try:
        corpus = combine({path: DataDir.load(path) for path in args.data_dirs})
        sets = split_corpus(corpus, dev=args.dev, test=args.test, paired=args.paired,
                            speech_only=args.speech_only, seed=args.seed,
                            by_speaker=args.by_speaker,
                            dev_set=DataDir.load(args.dev_dir) if args.dev_dir else None,
                            test_set=DataDir.load(args.test_dir) if args.test_dir else None)
        write_sets(sets, args.out_dir)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"split_data: error: {err}") from None
    for name, data in sets.items():
        logging.info("%s/%s: %d utterances, %d speakers", args.out_dir, name, len(data.utts),
                     len(set(data.utt2spk.values())))


if __name__ == "__main__":
    main()
