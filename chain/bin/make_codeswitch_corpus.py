"""Stage 0 of egs/codeswitch: the code-switching corpus, spoken by espeak-ng (no download).

English, Japanese (kana) and Mandarin (hanzi) sentences and Japanese-English,
Mandarin-English and (with --num-jazh) Japanese-Mandarin code-switched sentences from the grammars of
chain.corpora.codeswitch_grammar; code-switched speech is synthesised segment by
segment with each language's voice and joined. Writes OUT_DIR/{train_paired,
train_paired_en,train_paired_ja,train_paired_zh,train_speech_only,train_text_only,
train_full,dev,test_en,test_ja,test_zh,test_cs,test_zhen}/ (Kaldi data dirs with utt2lang;
transcripts with language tags <en> <ja> <zh>), OUT_DIR/local/text (every utterance),
OUT_DIR/local/spk2voices and OUT_DIR/local/chars.txt (the character inventory); wavs
(16 kHz, 16 bit) under WAV_DIR/<spk>/. The same options give the same sentences and sets.
Example:
  python -m chain.bin.make_codeswitch_corpus --out-dir data --num-mono 300 --num-cs 300
"""
from __future__ import annotations

import logging

import configargparse

from chain.bin._args import make_parser
from chain.corpora.codeswitch import make_corpus
from chain.data.datadir import summary_table


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--out-dir", default="data", help="where the data dirs and local/ go")
    parser.add_argument("--wav-dir", default="downloads/wav",
                        help="where the wavs go (wav.scp holds their absolute paths)")
    parser.add_argument("--num-mono", type=int, default=300,
                        help="paired monolingual utterances per language (train_paired_<lang>)")
    parser.add_argument("--num-cs", type=int, default=300,
                        help="Japanese-English code-switched utterances in each of train_speech_only "
                             "and train_text_only (different sentences)")
    parser.add_argument("--num-jazh", type=int, default=0,
                        help="Japanese-Mandarin code-switched utterances added to each of train_speech_only "
                             "and train_text_only (the multilingual chain's Ja-Zh data; drawn last, so the "
                             "other sets are the same for any value)")
    parser.add_argument("--num-text-extra", type=int, default=0,
                        help="Ja-En code-switched sentences added to train_text_only alone, never spoken "
                             "(drawn last, so the other sets are the same for any value)")
    parser.add_argument("--num-dev", type=int, default=20,
                        help="dev utterances per language and of Ja-En code-switching")
    parser.add_argument("--num-test", type=int, default=40,
                        help="utterances of each test set (test_en, test_ja, test_zh, test_cs, test_zhen)")
    parser.add_argument("--speakers", type=int, default=4,
                        help="espeak-ng voices per language and per code-switching pair (1..12)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sentences")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s make_codeswitch_corpus: %(message)s")
    try:
        sets = make_corpus(args.out_dir, args.wav_dir, num_mono=args.num_mono, num_cs=args.num_cs,
                           num_jazh=args.num_jazh, num_text_extra=args.num_text_extra, num_dev=args.num_dev,
                           num_test=args.num_test, speakers=args.speakers, seed=args.seed)
    except ValueError as err:
        raise SystemExit(f"make_codeswitch_corpus: error: {err}") from None
    print(summary_table(sets))


if __name__ == "__main__":
    main()
