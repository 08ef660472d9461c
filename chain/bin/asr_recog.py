"""Stage 6: transcribe a feature set with a trained ASR (beam search), one decoding job.

Reads --exp-dir/config.yaml and the weights --checkpoint of a chain.bin.asr_train run, the
features of --data-dir (dump/<set>/feats.scp; a text file is not needed, so speech-only sets
can be pseudo-labelled) normalised with the training CMVN stats, and writes --out: a Kaldi
text file of hypotheses (``<utt> <text>``, sorted; an empty hypothesis is a line with just
the utterance id). With --utt-list only the utterances listed there (first field of each
line) are decoded, so nj jobs can split a set.
Example:
  python -m chain.bin.asr_recog --exp-dir exp/asr_paired --data-dir dump/test \
      --utt-list exp/asr_paired/decode_test/split4/utts.1 --out exp/asr_paired/decode_test/hyp.1
"""
from __future__ import annotations

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging



def get_parser() -> configargparse.ArgumentParser:
    from chain.asr.recognize import LONG_INPUT_FACTOR, MAX_LEN_RATIO

    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="training run of chain.bin.asr_train")
    parser.add_argument("--checkpoint", default="best.pt",
                        help="weights inside --exp-dir (best.pt, avg5.pt, checkpoints/epoch3.pt) "
                             "or a path")
    parser.add_argument("--data-dir", required=True, help="features to transcribe: dump/<set>")
    parser.add_argument("--utt-list", default="",
                        help="decode only the utterances of this file (first field of each line)")
    parser.add_argument("--out", required=True, help="hypotheses to write (Kaldi text file)")
    parser.add_argument("--beam", type=int, default=5,
                        help="beam size (paper: 5); 1 is greedy decoding")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="utterances decoded together (sorted by length)")
    parser.add_argument("--max-len-ratio", type=float, default=MAX_LEN_RATIO,
                        help="at most this many output tokens per encoder frame")
    parser.add_argument("--long-input-factor", type=float, default=LONG_INPUT_FACTOR,
                        help="warn (once per utterance) about inputs longer than this many times the "
                             "longest training utterance (0: no warning)")
    parser.add_argument("--num-threads", type=int, default=1, help="CPU threads of torch")
    parser.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="0: CPU, 1: one GPU")
    parser.add_argument("--lang-dir", default="",
                        help="token inventory; empty: the lang_dir of --exp-dir/config.yaml")
    parser.add_argument("--cmvn", default="",
                        help="CMVN stats; empty: the cmvn of --exp-dir/config.yaml")
    return parser


def read_utt_list(path: str) -> list[tuple[int, str]]:
    """``(line number, first field)`` of every non-empty line of ``path``."""
    with open(path, encoding="utf-8") as f:
        return [(n, line.split()[0]) for n, line in enumerate(f, 1) if line.strip()]


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("asr_recog")
    torch.set_num_threads(args.num_threads)
    from chain.asr.recognize import load_asr, longest_training_input, recognize, warn_long_inputs, write_hyps
    from chain.data.datadir import DataError
    from chain.data.dataset import SpeechTextDataset
    from chain.train.device import select_device

    try:
        device = select_device(args.ngpu)
        model, tokenizer, stats = load_asr(args.exp_dir, args.checkpoint, device,
                                           lang_dir=args.lang_dir or None, cmvn=args.cmvn or None)
        dataset = SpeechTextDataset.from_dirs(dump_dir=args.data_dir, data_dir=None, cmvn=stats)
        utts = None
        if args.utt_list:
            listed, known = read_utt_list(args.utt_list), set(dataset.keys)
            for n, utt in listed:
                if utt not in known:
                    raise DataError(args.utt_list, f"'{utt}' is not in {args.data_dir}/feats.scp "
                                    "(was the list made from another set?)", n)
            utts = [utt for _, utt in listed]
        longest = longest_training_input(args.exp_dir) if args.long_input_factor > 0 else None
        if longest:
            lengths = dict(zip(dataset.keys, dataset.lengths))
            warn_long_inputs({u: lengths[u] for u in utts or dataset.keys}, longest, args.long_input_factor)
        hyps = recognize(model, dataset, tokenizer, beam=args.beam, batch_size=args.batch_size,
                         max_len_ratio=args.max_len_ratio, device=device, utts=utts)
        write_hyps(args.out, hyps)
    except (ValueError, OSError, RuntimeError) as err:  # DataError is a ValueError
        raise SystemExit(f"asr_recog: error: {err}") from None
    print(f"asr_recog: {len(hyps)} hypotheses -> {args.out}")


if __name__ == "__main__":
    main()
