"""Stage 0 of egs/mini_espeak: synthesise the embedded corpus with espeak-ng.

Writes OUT_DIR/{train_paired,train_speech_only,train_text_only,train_full,dev,test}/
(Kaldi data dirs; speech-only has no text, text-only no wav.scp), OUT_DIR/local/phones.ctm
(phone alignments of every utterance, Kaldi CTM), OUT_DIR/local/corpus.txt (all
sentences) and OUT_DIR/local/spk2voice; wavs (16 kHz, 16 bit) under WAV_DIR/<spk>/.
A re-run reuses finished work; the same options give the same wavs for any --nj.
--paired-speakers N (the multi-speaker setting, section IV of the machine speech chain paper: SI84/SI200 analog):
train_paired from the first N voices, train_speech_only from the voices after them,
test_seen (paired voices) and test_unseen (the last --unseen-speakers voices, found
nowhere in training) instead of test.
"""
from __future__ import annotations

import logging

import configargparse

from chain.bin._args import make_parser
from chain.corpora.mini_espeak import MAX_SPEAKERS, make_corpus
from chain.data.datadir import summary_table

SET_ORDER = ("train_paired", "train_speech_only", "train_text_only", "train_full", "dev", "test",
             "test_seen", "test_unseen")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--out-dir", default="data", help="where the data dirs and local/ go")
    parser.add_argument("--wav-dir", default="downloads/mini_espeak/wav",
                        help="where the wavs go (wav.scp holds their absolute paths)")
    parser.add_argument("--num-utts", type=int, default=3000,
                        help="number of utterances, each a distinct sentence")
    parser.add_argument("--speakers", type=int, default=1,
                        help=f"number of speakers (1..{MAX_SPEAKERS}), espeak-ng voices taken in a "
                             "fixed order (see OUT_DIR/local/spk2voice); 1 is the single-speaker setting; "
                             "with 10 or more, the last two speakers are held out as the test set")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sentences and of the splits")
    parser.add_argument("--nj", type=int, default=2, help="number of synthesis processes")
    parser.add_argument("--rate-wpm", type=int, default=175,
                        help="speaking rate in words per minute (80..450)")
    parser.add_argument("--paired-fraction", type=float, default=0.30,
                        help="share of the training utterances in train_paired")
    parser.add_argument("--speech-only-fraction", type=float, default=0.35,
                        help="share in train_speech_only (train_text_only takes the rest)")
    parser.add_argument("--dev-fraction", type=float, default=0.05,
                        help="share of the utterances (of the non-held-out speakers) in dev")
    parser.add_argument("--test-fraction", type=float, default=0.05,
                        help="share of all utterances in test (fewer than 10 speakers only)")
    parser.add_argument("--paired-speakers", type=int, default=0,
                        help="multi-speaker setting: voices of train_paired (the first ones); the speech-only "
                             "data comes from the others, test_seen and test_unseen replace test (0: off)")
    parser.add_argument("--unseen-speakers", type=int, default=2,
                        help="multi-speaker setting: the last voices, heard only in test_unseen")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s make_espeak_corpus: %(message)s")
    try:
        sets = make_corpus(args.out_dir, args.wav_dir, num_utts=args.num_utts, speakers=args.speakers,
                           seed=args.seed, nj=args.nj, rate_wpm=args.rate_wpm,
                           paired=args.paired_fraction, speech_only=args.speech_only_fraction,
                           dev=args.dev_fraction, test=args.test_fraction,
                           paired_speakers=args.paired_speakers, unseen_speakers=args.unseen_speakers)
    except ValueError as err:
        raise SystemExit(f"make_espeak_corpus: error: {err}") from None
    print(summary_table(sets, SET_ORDER))
    print(f"data dirs -> {args.out_dir}/, alignments -> {args.out_dir}/local/phones.ctm")


if __name__ == "__main__":
    main()
