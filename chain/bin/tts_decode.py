"""Synthesise the text of a data dir with a trained TTS (stage 7).

Greedy generation, capped at --max-frames-per-token frames per token; waveforms by
Griffin-Lim with the STFT of --fbank-conf. --out-dir becomes a Kaldi data dir that the
ASR can decode: feats.ark + feats.scp (log-mel, de-normalised: the domain of
dump/<set>/feats.scp; feats.scp is written last and marks a complete dir),
utt2num_frames, text, utt2spk, spk2utt (copied from --data-dir), wav/<utt>.wav and
wav.scp (with --write-wav true), and hit_cap (the utterances that reached the cap).
A multi-speaker TTS (tts_train --spk-exp-dir) speaks each utterance in the voice of one
reference utterance (one-shot, section IV-C): --ref-scp maps each utterance to a sound
file or a feats.scp value; by default it is the first other utterance of the same
speaker in --data-dir (chain.tts.references). The references used are written to ref.
Run from the recipe dir, e.g.:
  python -m chain.bin.tts_decode --exp-dir exp/tts_paired --data-dir dump/test \\
      --out-dir exp/tts_paired/synth_test --fbank-conf conf/fbank.yaml
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import configargparse
import torch

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging, str2bool
from chain.data.datadir import DataError, read_kv, write_kv
from chain.feats.fbank import FbankConfig
from chain.text.textfile import check_text_file
from chain.train.device import select_device
from chain.tts.references import default_references, reference_vectors
from chain.tts.synthesize import load_tts, synthesize_set

log = logging.getLogger("tts_decode")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="TTS experiment dir of chain.bin.tts_train")
    parser.add_argument("--checkpoint", default="best.pt",
                        help="weights inside --exp-dir (best.pt, avg<N>.pt, checkpoints/epoch<N>.pt) or a path")
    parser.add_argument("--data-dir", required=True, help="data dir whose text is synthesised (e.g. dump/test)")
    parser.add_argument("--out-dir", required=True, help="output data dir (e.g. exp/tts_paired/synth_test)")
    parser.add_argument("--fbank-conf", default="conf/fbank.yaml",
                        help="feature configuration of stage 1 (the STFT Griffin-Lim inverts)")
    parser.add_argument("--griffin-lim-iters", type=int, default=60, help="Griffin-Lim iterations")
    parser.add_argument("--write-wav", type=str2bool, default=True,
                        help="true: write wav/<utt>.wav and wav.scp (Griffin-Lim); false: features only")
    parser.add_argument("--ref-scp", default="",
                        help="multi-speaker TTS: '<utt> <reference>' lines, the reference a .wav/.flac file "
                             "or a feats.scp value; empty: each utterance's own speaker's first other "
                             "utterance in --data-dir")
    parser.add_argument("--batch-size", type=int, default=16, help="texts generated together")
    parser.add_argument("--max-frames-per-token", type=float, default=10.0,
                        help="length cap of a generation: this many frames per input token")
    parser.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="0: CPU, 1: one GPU")
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    add_strict_text_argument(parser)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("tts_decode")
    torch.set_num_threads(args.num_threads)
    start = time.time()
    try:
        device = select_device(args.ngpu)
        fbank_cfg = FbankConfig.from_yaml(args.fbank_conf) if args.write_wav or args.ref_scp else None
        model, tokenizer, mel_stats, linear_stats = load_tts(args.exp_dir, args.checkpoint, device)
        check_text_file(tokenizer, f"{args.data_dir}/text", args.strict)
        spk_vecs = speaker_vectors(args, model, mel_stats, fbank_cfg, device) if model.spk_dim else None
        summary = synthesize_set(
            model, tokenizer, data_dir=args.data_dir, out_dir=args.out_dir, mel_stats=mel_stats,
            linear_stats=linear_stats, fbank_cfg=fbank_cfg, griffin_lim_iters=args.griffin_lim_iters,
            batch_size=args.batch_size, max_frames_per_token=args.max_frames_per_token, device=device,
            spk_vecs=spk_vecs)
    except (ValueError, OSError, RuntimeError) as err:
        raise SystemExit(f"tts_decode: error: {err}") from None
    log.info("%d of %d generations hit the length cap%s", len(summary.hit_cap), summary.utts,
             f" (see {args.out_dir}/hit_cap)" if summary.hit_cap else "")
    log.info("synthesised %d utterances, %d frames, in %.1f s -> %s/feats.scp%s", summary.utts,
             summary.frames, time.time() - start, args.out_dir, " and wav.scp" if args.write_wav else "")


def speaker_vectors(args, model, mel_stats, fbank_cfg, device) -> dict:
    """utt -> z of its reference (--ref-scp, or the default of chain.tts.references); the
    references are written to --out-dir/ref."""
    utts = list(read_kv(Path(args.data_dir) / "text", allow_empty_value=True))
    if args.ref_scp:
        refs = read_kv(args.ref_scp)
        missing = [u for u in utts if u not in refs]
        if missing:
            raise DataError(args.ref_scp, f"no reference for '{missing[0]}' ({len(missing)} of {len(utts)} "
                            f"utterances of {args.data_dir})")
        refs = {u: refs[u] for u in utts}
        record = refs
    else:
        record = default_references(args.data_dir, utts)
        feats = read_kv(Path(args.data_dir) / "feats.scp")
        refs = {u: feats[ref] for u, ref in record.items()}
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    write_kv(Path(args.out_dir) / "ref", record)
    log.info("%d utterances spoken in the voices of %d references", len(utts), len(set(refs.values())))
    return reference_vectors(model, refs, mel_stats=mel_stats, fbank_cfg=fbank_cfg, device=device)


if __name__ == "__main__":
    main()
