"""Synthesise sentences with a packed TTS (chain.bin.pack_model): one wav per sentence.

Either one sentence (TEXT, written to -o FILE.wav) or a Kaldi text file (--text-file,
``utt sentence`` per line, written to -o DIR/<utt>.wav). The text is normalised like the
paper's data (lowercase, punctuation mapped) unless --normalize false; greedy generation,
capped at --max-frames-per-token frames per token, then Griffin-Lim, as in stage 7
(chain.bin.tts_decode). A multi-speaker TTS speaks in the voice of --ref-wav, one
recording of any sample rate. Examples:
  chain-synthesize tts.tar.gz "the cat sat on the mat." -o cat.wav
  chain-synthesize tts.tar.gz --text-file data/test/text -o synth/
  chain-synthesize spk_tts.tar.gz "the cat sat on the mat." --ref-wav me.wav -o cat.wav
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import add_device_arguments, make_parser, setup_logging, str2bool

log = logging.getLogger("synthesize")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("model", help="packed TTS (.tar.gz of chain.bin.pack_model)")
    parser.add_argument("text", nargs="?", default="", help="the sentence to synthesise")
    parser.add_argument("-o", "--out", required=True,
                        help="wav file to write (with TEXT) or dir of <utt>.wav (with --text-file)")
    parser.add_argument("--text-file", default="", help="Kaldi text file (utt sentence) to synthesise")
    parser.add_argument("--ref-wav", default=None,
                        help="recording of the voice to speak in (a multi-speaker TTS needs one)")
    parser.add_argument("--normalize", type=str2bool, default=True,
                        help="normalise the text as the paper's data (chain.text.normalize)")
    parser.add_argument("--griffin-lim-iters", type=int, default=60, help="Griffin-Lim iterations")
    parser.add_argument("--max-frames-per-token", type=float, default=10.0,
                        help="length cap of a generation: this many frames per input token")
    add_device_arguments(parser, num_threads=2)
    return parser


def main(argv=None) -> None:
    parser = get_parser()
    args = parser.parse_args(argv)
    if bool(args.text) == bool(args.text_file):
        parser.error("give either TEXT or --text-file")
    setup_logging("synthesize")
    torch.set_num_threads(args.num_threads)
    from chain.data.datadir import DataError, read_kv
    from chain.feats.griffin_lim import write_wav
    from chain.inference import Text2Speech
    from chain.train.device import select_device

    try:
        if args.text_file:
            jobs = [(n, utt, text, Path(args.out) / f"{utt}.wav") for n, (utt, text) in
                    enumerate(read_kv(args.text_file, allow_empty_value=True, check_sorted=False).items(), 1)]
        else:
            jobs = [(None, "text", args.text, Path(args.out))]
        tts = Text2Speech.from_packed(args.model, device=select_device(args.ngpu), normalize=args.normalize,
                                      griffin_lim_iters=args.griffin_lim_iters,
                                      max_frames_per_token=args.max_frames_per_token)
        spk_vec = tts.speaker_vector(args.ref_wav)  # one voice for every sentence
        for line, utt, text, path in jobs:
            try:
                out = tts(text, spk_vec=spk_vec)
            except ValueError as err:
                raise DataError(args.text_file or "TEXT", f"'{utt}': {err}", line) from None
            write_wav(path, out.wav, out.sample_rate)
            log.info("%s: %d frames, %.2f s -> %s%s", utt, len(out.mel), len(out.wav) / out.sample_rate,
                     path, " (hit the length cap: no stop token)" if out.hit_cap else "")
    except (ValueError, OSError, RuntimeError) as err:  # DataError, PackError, CheckpointError
        raise SystemExit(f"synthesize: error: {err}") from None


if __name__ == "__main__":
    main()
