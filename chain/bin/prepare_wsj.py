"""Stage 0 for WSJ (LDC93S6B + LDC94S13B): index files, .dot transcripts and SPHERE audio
-> the chain's Kaldi data dirs (the machine speech chain paper, section IV-D1).

Writes OUT_DIR/{train_full,train_paired,train_speech_only,train_text_only,dev,test}:
train_paired = SI-84 (without speaker 401), the unpaired sets from SI-200 (--unpaired),
train_full = SI-284, dev = dev93, test = eval92, as Kaldi's egs/wsj/s5 selects them.
Transcripts are normalised as Kaldi's normalize_transcript.pl does and folded to the
paper's lowercase character set plus <noise>. wav.scp uses 'sph2pipe -f wav FILE |'
when --sph2pipe is found (after decoding one file as a check), else the files
themselves, which must be uncompressed SPHERE. Prints the utterances per set.
Example:
  python -m chain.bin.prepare_wsj --wsj0 /corpora/LDC93S6B --wsj1 /corpora/LDC94S13B \\
      --sph2pipe ../../../tools/sph2pipe/sph2pipe --out-dir data
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser, setup_logging
from chain.corpora.wsj import UNPAIRED, prepare


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--wsj0", required=True,
                        help="WSJ0 (LDC93S6B): the directory holding its discs 11-1.1 ... 11-13.1")
    parser.add_argument("--wsj1", required=True,
                        help="WSJ1 (LDC94S13B): the directory holding its discs 13-1.1 ... 13-34.1")
    parser.add_argument("--out-dir", default="data", help="where the data dirs are written")
    parser.add_argument("--sph2pipe", default="sph2pipe",
                        help="the SPHERE decoder: a program on PATH or a path; when it is not "
                             "found, the .wv1 files must be uncompressed SPHERE")
    parser.add_argument("--unpaired", choices=UNPAIRED, default="same",
                        help="same: SI-200's audio is train_speech_only and its text "
                             "train_text_only (the paper); disjoint: SI-200's speakers are "
                             "halved, one half speech-only, the other text-only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the speaker halves of --unpaired disjoint")
    parser.add_argument("--spkrinfo", action="append", default=[], metavar="FILE",
                        help="a further spkrinfo.txt with speaker genders (e.g. LDC's "
                             "wsj0-train-spkrinfo.txt, not on the discs); repeatable")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("prepare_wsj")
    try:
        sets = prepare(args.wsj0, args.wsj1, args.out_dir, sph2pipe=args.sph2pipe,
                       unpaired=args.unpaired, seed=args.seed, spkrinfo=args.spkrinfo)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"prepare_wsj: error: {err}") from None
    for name, data in sets.items():
        speakers = len(set(data.utt2spk.values()))
        print(f"prepare_wsj: {args.out_dir}/{name}: {len(data.utts)} utterances, {speakers} speakers")


if __name__ == "__main__":
    main()
