"""ABX error and bitrate of a unit dir (the ZeroSpeech 2019 evaluation), optionally the 2019
submission layout of its units and machine scores of the speech resynthesised from them.

ABX: the across-speaker task of --item-file (an official byCtxt_acSpkr .item or one made by
zs_items), DTW with the unit dir's distance (cosine; kl for posteriors) unless --distance.
Bitrate: (N / D) H over every utterance of the unit dir, D from --utt2dur. With --utt2spk,
speaker_information: I(U; S) / H(S) of the same symbols and the speakers (0: the units do not
tell the speaker, 1: they do; meaningful for discrete units).
Resynthesis (--synth-dir, the wavs chain.bin.code2spec_synth spoke from these units), in
place of the challenge's listeners (chain.vq.resynthesis): with --asr-exp-dir, resynth_cer
and resynth_wer (%) of the wavs recognised by that ASR against --text (skipped, with a log
line, when --text does not exist: the official test set has no transcripts; hyp.trn and
ref.trn go to --synth-dir; with --utt2spk also resynth_cer_by_speaker: the CER of each source
voice); with --spk-exp-dir, resynth_spk_cos: the mean cosine of
SPKEMB(wav) and the mean SPKEMB of the target voice's utterances (--voice-dir).
Prints one line and writes --result (YAML). Example:
  python -m chain.bin.zs_eval --units-dir exp/vqvae/units_test --item-file data/local/test.item \\
      --utt2dur dump/test/utt2dur --result exp/vqvae/units_test/result.yaml \\
      --synth-dir exp/vqvae/code2spec/synth_test --text data/local/test.text \\
      --asr-exp-dir ../multispk1/exp/asr_asr_train_full \\
      --spk-exp-dir ../multispk1/exp/spk_spk_train_paired+train_speech_only --voice-dir data/train_voice
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch
import yaml

from chain.bin._args import add_device_arguments, make_parser, setup_logging
from chain.data.datadir import read_kv
from chain.fileio import atomic_write
from chain.metrics.abx import abx_from_features
from chain.metrics.dtw import DISTANCES
from chain.metrics.zerospeech import bitrate, read_item_file, speaker_information, write_submission
from chain.train.device import select_device
from chain.tts.evaluate import write_trn
from chain.vq.data import read_units, read_units_meta
from chain.vq.resynthesis import cer_by_speaker, resynthesis_cer, voice_similarity

log = logging.getLogger("zs_eval")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--units-dir", required=True, help="unit dir (units.scp, units.yaml)")
    parser.add_argument("--item-file", required=True, help="ABX items (.item)")
    parser.add_argument("--utt2dur", required=True, help="durations in seconds of the utterances")
    parser.add_argument("--distance", choices=DISTANCES, help="frame distance (default: the unit dir's)")
    parser.add_argument("--max-triplets-per-cell", type=int, default=0,
                        help="score at most this many triplets drawn per cell (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the triplet draw")
    parser.add_argument("--utt2spk", help="speaker of each utterance of the unit dir (the test data dir's "
                        "utt2spk): the speaker information of the units and, with --asr-exp-dir, the CER of "
                        "each source voice")
    parser.add_argument("--result", help="YAML file to write the figures to")
    parser.add_argument("--submission-dir", help="also write the units in the 2019 submission layout here")
    group = parser.add_argument_group("resynthesis scores (machine stand-ins for the listeners)")
    group.add_argument("--synth-dir", help="speech resynthesised from the units (code2spec_synth --out-dir: wav.scp)")
    group.add_argument("--text", help="transcripts of the resynthesised utterances (Kaldi text); "
                       "the CER is skipped when the file does not exist")
    group.add_argument("--asr-exp-dir", help="ASR experiment (chain.bin.asr_train) of the CER; none: no CER")
    group.add_argument("--asr-checkpoint", default="best.pt", help="ASR weights inside --asr-exp-dir")
    group.add_argument("--asr-fbank-conf", help="feature configuration the ASR was trained on; none: "
                       "conf/fbank.yaml of its recipe dir")
    group.add_argument("--beam", type=int, default=5, help="ASR beam size (1: greedy)")
    group.add_argument("--spk-exp-dir", help="speaker encoder experiment (chain.bin.spk_train) of the "
                       "similarity; none: no similarity")
    group.add_argument("--spk-checkpoint", default="best.pt", help="weights inside --spk-exp-dir")
    group.add_argument("--spk-fbank-conf", help="feature configuration the speaker encoder was trained "
                       "on; none: conf/fbank.yaml of its recipe dir")
    group.add_argument("--voice-dir", help="data dir (wav.scp) of the target voice, the reference of the similarity")
    group.add_argument("--batch-size", type=int, default=16, help="utterances per batch of the ASR and encoder")
    add_device_arguments(parser, num_threads=2)
    return parser


def resynthesis_scores(args) -> dict:
    """resynth_* fields of the result: CER/WER and speaker similarity of --synth-dir."""
    if not args.synth_dir:
        if args.asr_exp_dir or args.spk_exp_dir:
            raise ValueError("--asr-exp-dir and --spk-exp-dir score resynthesised speech: give --synth-dir")
        return {}
    if args.spk_exp_dir and not args.voice_dir:
        raise ValueError("--spk-exp-dir needs --voice-dir (utterances of the target voice)")
    torch.set_num_threads(args.num_threads)
    device = select_device(args.ngpu)
    fields = {"resynth_dir": args.synth_dir}
    if args.asr_exp_dir and not (args.text and Path(args.text).is_file()):
        log.info("no transcripts (--text %s): the CER of %s is skipped", args.text, args.synth_dir)
    elif args.asr_exp_dir:
        cer = resynthesis_cer(args.asr_exp_dir, args.synth_dir, args.text, checkpoint=args.asr_checkpoint,
                              fbank_conf=args.asr_fbank_conf, beam=args.beam, batch_size=args.batch_size,
                              device=device)
        utts = [utt for utt, _, _ in cer.score.per_utt]
        write_trn(Path(args.synth_dir) / "ref.trn", cer.refs, utts)
        write_trn(Path(args.synth_dir) / "hyp.trn", cer.hyps, utts)
        fields.update(resynth_cer=round(cer.score.cer.rate, 2), resynth_wer=round(cer.score.wer.rate, 2),
                      resynth_asr=f"{args.asr_exp_dir}/{args.asr_checkpoint} beam {args.beam}")
        if args.utt2spk:
            utt2spk = read_kv(args.utt2spk)
            missing = sorted(set(cer.hyps) - set(utt2spk))
            if missing:
                raise ValueError(f"{args.utt2spk}: no speaker for {len(missing)} resynthesised utterances, "
                                 f"e.g. {missing[0]}")
            fields["resynth_cer_by_speaker"] = {spk: round(rate, 2)
                                                for spk, rate in cer_by_speaker(cer, utt2spk).items()}
    if args.spk_exp_dir:
        similarity = voice_similarity(args.spk_exp_dir, args.synth_dir, args.voice_dir,
                                      checkpoint=args.spk_checkpoint, fbank_conf=args.spk_fbank_conf,
                                      batch_size=args.batch_size, device=device)
        fields.update(resynth_spk_cos=round(similarity, 4), resynth_voice=args.voice_dir,
                      resynth_spk_encoder=f"{args.spk_exp_dir}/{args.spk_checkpoint}")
    return fields


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("zs_eval")
    try:
        meta, units = read_units_meta(args.units_dir), read_units(args.units_dir)
        resynthesis = resynthesis_scores(args)
        durations = read_kv(args.utt2dur)
        missing = sorted(set(units) - set(durations))
        if missing:
            raise ValueError(f"{args.utt2dur}: no duration for {len(missing)} utterances, e.g. {missing[0]}")
        items = [it for it in read_item_file(args.item_file) if it.file in units]
        distance = args.distance or meta["distance"]
        result = abx_from_features(items, units, frame_shift=meta["frame_shift"], stride=meta["stride"],
                                   distance=distance, max_triplets_per_cell=args.max_triplets_per_cell,
                                   seed=args.seed)
        rate = bitrate(units.values(), sum(float(durations[u]) for u in units))
        figures = {"abx": round(result.error, 3), "bitrate": round(rate, 2), "distance": distance,
                   "triplets": result.triplets, "items": len(items), "utterances": len(units),
                   "stride": meta["stride"], "units": meta.get("kind", "")}
        if args.utt2spk:
            utt2spk = read_kv(args.utt2spk)
            missing = sorted(set(units) - set(utt2spk))
            if missing:
                raise ValueError(f"{args.utt2spk}: no speaker for {len(missing)} utterances of "
                                 f"{args.units_dir}, e.g. {missing[0]}")
            figures["speaker_information"] = round(speaker_information(units, utt2spk), 4)
        figures.update(resynthesis)
        if args.result:
            with atomic_write(args.result) as f:
                yaml.safe_dump(figures, f, sort_keys=False)
        if args.submission_dir:
            write_submission(args.submission_dir, units, {
                "author": "", "affiliation": "", "open source": True, "using parallel train": False,
                "using external data": False, "system description": f"chain: {meta.get('kind', '')}",
                "auxiliary1 description": "", "auxiliary2 description": ""})
    except (ValueError, OSError, RuntimeError) as err:
        raise SystemExit(f"zs_eval: error: {err}") from None
    scores = "".join(f", {name} {figures[f'resynth_{name}']}" for name in ("cer", "wer", "spk_cos")
                     if f"resynth_{name}" in figures)
    print(f"zs_eval: {args.units_dir}: ABX {result.error:.2f} ({distance}, {result.triplets} triplets), "
          f"bitrate {rate:.1f} bits/s{scores}")


if __name__ == "__main__":
    main()
