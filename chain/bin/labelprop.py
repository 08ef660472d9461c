"""Build the pseudo-labelled training set of label propagation (stage 5, --system labelprop).

Section IV-D4 of the machine speech chain paper: the speech-only utterances of --speech-dir
with a non-empty transcription in --hyp (chain.bin.asr_recog output of the paired ASR) join
the paired set --paired-dir; both models then train further on --out-dir
(chain.loop.labelprop has the rules). --out-dir belongs to one experiment (stage 5 writes
exp/<tag>/data/train_labelprop), so two experiments never share it. Run from the recipe dir:
  python -m chain.bin.labelprop --paired-dir dump/train_paired \\
      --speech-dir dump/train_speech_only --hyp exp/labelprop_x/pseudo_labels/text \\
      --out-dir exp/labelprop_x/data/train_labelprop
"""
from __future__ import annotations

import logging

import configargparse

from chain.bin._args import make_parser, setup_logging
from chain.loop.labelprop import pseudo_labelled_set, read_transcriptions

log = logging.getLogger("labelprop")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--paired-dir", required=True, help="paired dump dir (features and text)")
    parser.add_argument("--speech-dir", required=True, help="speech-only dump dir that was transcribed")
    parser.add_argument("--hyp", required=True, nargs="+",
                        help="transcriptions of --speech-dir: 'utt text' files (an empty text is dropped)")
    parser.add_argument("--out-dir", required=True, help="the pseudo-labelled training set (a dump dir)")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("labelprop")
    try:
        summary = pseudo_labelled_set(args.paired_dir, args.speech_dir, read_transcriptions(args.hyp),
                                      args.out_dir)
    except (ValueError, OSError) as err:
        raise SystemExit(f"labelprop: error: {err}") from None
    print(f"labelprop: {summary.labelled} of {summary.speech_only} speech-only utterances pseudo-labelled "
          f"+ {summary.paired} paired -> {args.out_dir}")


if __name__ == "__main__":
    main()
