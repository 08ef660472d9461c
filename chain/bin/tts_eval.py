"""Score a trained TTS on a test set (stage 7).

Teacher-forced mel L2 and stop accuracy on the real speech of --data-dir (definitions
in chain.metrics.tts); with --synth-dir (chain.bin.tts_decode), the mel-cepstral
distortion (dB), F0 RMSE (Hz) and voiced/unvoiced error of its waveforms against those
of --data-dir (WORLD analysis, DTW-aligned: chain.metrics.world); with --asr-exp-dir,
the CER/WER of the synthesised speech as recognised by that ASR (and, for transcripts with
language tags, its LID accuracy per token and per utterance: chain.metrics.lid). Writes in --out-dir
result.txt (one line: mel_l2, stop_acc, MCD, F0_RMSE, VUV, CER, WER, how many
generations hit the length cap and, for a multi-speaker TTS, spk_cos: the one-shot speaker
similarity, mean cos(SPKEMB(synthesised), SPKEMB(reference)) over the references of
--synth-dir/ref, chain.tts.references) and, with an ASR, hyp.trn and ref.trn; prints the line.
Run from the recipe dir:
  python -m chain.bin.tts_eval --exp-dir exp/tts_paired --data-dir dump/test \\
      --synth-dir exp/tts_paired/synth_test --asr-exp-dir exp/asr_paired \\
      --out-dir exp/tts_paired/synth_test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging, str2bool
from chain.feats.fbank import FbankConfig
from chain.feats.world import F0_METHODS
from chain.fileio import atomic_write
from chain.metrics.lid import score_lid
from chain.text.langtags import TAGS
from chain.text.textfile import check_text_file
from chain.tts.evaluate import synthetic_speech_cer, teacher_forced_scores, world_scores, write_trn
from chain.train.device import select_device
from chain.tts.references import one_shot_similarity
from chain.tts.synthesize import load_tts

log = logging.getLogger("tts_eval")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="TTS experiment dir of chain.bin.tts_train")
    parser.add_argument("--checkpoint", default="best.pt",
                        help="TTS weights inside --exp-dir (best.pt, avg<N>.pt, checkpoints/epoch<N>.pt) or a path")
    parser.add_argument("--data-dir", required=True,
                        help="test set with real speech and text (dump/<set>) for teacher forcing")
    parser.add_argument("--synth-dir", default=None,
                        help="output of chain.bin.tts_decode on the same set (needed for the CER "
                             "and the length-cap count)")
    parser.add_argument("--asr-exp-dir", default=None,
                        help="ASR experiment dir of chain.bin.asr_train; none: no CER of synthetic speech")
    parser.add_argument("--asr-checkpoint", default="best.pt", help="ASR weights inside --asr-exp-dir")
    parser.add_argument("--beam", type=int, default=5, help="ASR beam size (1: greedy)")
    parser.add_argument("--world", type=str2bool, default=True,
                        help="true: MCD, F0 RMSE and V/UV error of the --synth-dir waveforms (WORLD)")
    parser.add_argument("--mcep-order", type=int, default=24,
                        help="mel-cepstrum order of the MCD (c_1..c_order; c_0 is excluded)")
    parser.add_argument("--f0-method", default="dio", choices=F0_METHODS,
                        help="WORLD F0 estimator: dio (+ StoneMask refinement) or harvest (slower)")
    parser.add_argument("--fbank-conf", default="conf/fbank.yaml",
                        help="feature configuration, read for sound-file references of a multi-speaker TTS only")
    parser.add_argument("--batch-size", type=int, default=16, help="utterances per batch")
    parser.add_argument("--out-dir", required=True, help="where result.txt, hyp.trn and ref.trn go")
    parser.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="0: CPU, 1: one GPU")
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    add_strict_text_argument(parser)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("tts_eval")
    torch.set_num_threads(args.num_threads)
    out_dir = Path(args.out_dir)
    try:
        device = select_device(args.ngpu)
        if args.asr_exp_dir and not args.synth_dir:
            raise ValueError("--asr-exp-dir needs --synth-dir (the output of chain.bin.tts_decode)")
        model, tokenizer, mel_stats, _ = load_tts(args.exp_dir, args.checkpoint, device)
        check_text_file(tokenizer, f"{args.data_dir}/text", args.strict)
        counts = teacher_forced_scores(model, tokenizer, args.data_dir, mel_stats=mel_stats,
                                       batch_size=args.batch_size, device=device)
        fields = [f"mel_l2 {counts.mel_l2:.4f}", f"stop_acc {counts.stop_acc:.4f}"]
        if args.synth_dir and args.world:
            world = world_scores(args.data_dir, args.synth_dir, mcep_order=args.mcep_order,
                                 f0_method=args.f0_method)
            f0_rmse = f"{world.f0_rmse:.2f}Hz" if world.voiced_both else "-"  # -: no frame voiced in both
            fields += [f"MCD {world.mcd:.2f}dB", f"F0_RMSE {f0_rmse}", f"VUV {100 * world.vuv_error:.2f}%"]
        else:
            fields += ["MCD n/a", "F0_RMSE n/a", "VUV n/a"]
        cer = None
        if args.asr_exp_dir:
            cer = synthetic_speech_cer(args.asr_exp_dir, args.synth_dir, checkpoint=args.asr_checkpoint,
                                       beam=args.beam, batch_size=args.batch_size, device=device)
            fields += [f"CER {cer.score.cer.rate:.2f}%", f"WER {cer.score.wer.rate:.2f}%"]
            if any(tag in ref for ref in cer.refs.values() for tag in TAGS):
                lid = score_lid(cer.refs, cer.hyps)
                fields += [f"LID_token {lid.token_accuracy:.2f}%", f"LID_utt {lid.utt_accuracy:.2f}%"]
        else:
            fields += ["CER n/a", "WER n/a"]
        if args.synth_dir:
            synth = Path(args.synth_dir)
            with open(synth / "hit_cap", encoding="utf-8") as f:
                capped = sum(1 for line in f if line.strip())
            with open(synth / "feats.scp", encoding="utf-8") as f:
                total = sum(1 for line in f if line.strip())
            fields.append(f"hit_cap {capped}/{total}")
            if model.speaker_encoder is not None and (synth / "ref").is_file():
                fbank_cfg = FbankConfig.from_yaml(args.fbank_conf) if Path(args.fbank_conf).is_file() else None
                similarity, _ = one_shot_similarity(model, synth, args.data_dir, mel_stats=mel_stats,
                                                    fbank_cfg=fbank_cfg, device=device)
                fields.append(f"spk_cos {similarity:.4f}")
        else:
            fields.append("hit_cap n/a")
    except (ValueError, OSError, RuntimeError) as err:
        raise SystemExit(f"tts_eval: error: {err}") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    if cer is not None:
        utts = [utt for utt, _, _ in cer.score.per_utt]
        write_trn(out_dir / "ref.trn", cer.refs, utts)
        write_trn(out_dir / "hyp.trn", cer.hyps, utts)
    summary = "  ".join(fields) + f"  [{counts.utts} utts of {args.data_dir}, {args.exp_dir}/{args.checkpoint}"
    summary += f", ASR {args.asr_exp_dir}/{args.asr_checkpoint} beam {args.beam}]" if cer else "; no ASR given]"
    with atomic_write(out_dir / "result.txt") as f:
        f.write(summary + "\n")
    if cer is None:
        log.info("no --asr-exp-dir: the CER of synthetic speech is skipped")
    print(f"tts_eval: {summary}")


if __name__ == "__main__":
    main()
