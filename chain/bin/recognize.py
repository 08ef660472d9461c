"""Recognise sound files with a packed ASR (chain.bin.pack_model); prints ``utt text`` per file.

The files are arguments (utt: the path as given) or the entries of a Kaldi wav.scp
(--wav-scp; utt: its key; values are paths or "command |"). Files at another sample rate
are resampled to the model's, and channel 0 of a multi-channel file is used. Beam search
with length-normalised scores, as in stage 6 (chain.bin.asr_recog). Examples:
  chain-recognize asr.tar.gz a.wav b.flac
  chain-recognize asr.tar.gz --wav-scp data/test/wav.scp --beam 10 > hyp.txt
"""
from __future__ import annotations

import configargparse
import torch

from chain.bin._args import add_device_arguments, make_parser, setup_logging, str2bool


def get_parser() -> configargparse.ArgumentParser:
    from chain.asr.recognize import MAX_LEN_RATIO

    parser = make_parser(__doc__)
    parser.add_argument("model", help="packed ASR (.tar.gz of chain.bin.pack_model)")
    parser.add_argument("wavs", nargs="*", help="sound files to recognise")
    parser.add_argument("--wav-scp", default="", help="Kaldi wav.scp of the files to recognise "
                                                      "(instead of or after the arguments)")
    parser.add_argument("--beam", type=int, default=5, help="beam size (paper: 5); 1 is greedy decoding")
    parser.add_argument("--length-normalize", type=str2bool, default=True,
                        help="rank hypotheses by log-likelihood per decoder step (paper: true)")
    parser.add_argument("--max-len-ratio", type=float, default=MAX_LEN_RATIO,
                        help="at most this many output tokens per encoder frame")
    add_device_arguments(parser)
    return parser


def main(argv=None) -> None:
    parser = get_parser()
    args = parser.parse_args(argv)
    if not args.wavs and not args.wav_scp:
        parser.error("give sound files or --wav-scp")
    setup_logging("recognize")
    torch.set_num_threads(args.num_threads)
    from chain.data.wav import AudioError, WavScpReader
    from chain.inference import Speech2Text
    from chain.train.device import select_device

    try:
        asr = Speech2Text.from_packed(args.model, beam=args.beam, nbest=1, device=select_device(args.ngpu),
                                      length_normalize=args.length_normalize,
                                      max_len_ratio=args.max_len_ratio)
        for path in args.wavs:
            try:
                best = asr(path)
            except AudioError as err:
                raise ValueError(f"{path}: {err}") from None
            print(f"{path} {best[0].text if best else ''}".rstrip(), flush=True)
        if args.wav_scp:
            for utt, samples in WavScpReader(args.wav_scp, fs=asr.sample_rate):
                best = asr(samples, asr.sample_rate)
                print(f"{utt} {best[0].text if best else ''}".rstrip(), flush=True)
    except (ValueError, OSError, RuntimeError) as err:  # DataError, PackError, CheckpointError
        raise SystemExit(f"recognize: error: {err}") from None


if __name__ == "__main__":
    main()
