"""Stage 5: speech chain training (Algorithm 1) from the ASR and TTS of stages 3 and 4.

Each update combines, by Eq. (5), alpha x the paired losses (--paired-dir: both models
teacher-forced) and beta x the unpaired ones: speech-only (--speech-dir: ASR transcribes,
TTS reconstructs the speech from the transcription) and text-only (--text-dir: TTS
speaks, ASR reads the speech back). --ratio sets the batches of each per update (0
switches a branch off). --st argmax|gumbel adds straight-through feedback (section V):
from the greedy transcriptions of the speech-only step, or with --st-source
teacher_forced from the ASR's teacher-forced outputs on paired data (Eq. 38). Each model
keeps its optimiser and schedule (--asr-*/--tts-* options) and picks its best.pt by its
own dev metric (ASR: greedy CER, TTS: mel L2). Writes --exp-dir/{asr,tts}/best.pt (with
config.yaml, readable by asr_recog, tts_decode, tts_eval), checkpoints/, train.log,
loss.png, tensorboard/. The lang dir and CMVN stats are those of the pretrained models.
A multi-speaker TTS (tts_train --spk-exp-dir) makes it the chain of section IV (Fig. 8):
paired and speech-only steps condition the TTS on z = SPKEMB(x) of their own speech, the
text-only step on the z of a reference drawn from --paired-dir and --speech-dir.
Run from the recipe dir, e.g.:
  python -m chain.bin.chain_train --config conf/chain.yaml --asr-exp-dir exp/asr_paired \\
      --tts-exp-dir exp/tts_paired --paired-dir dump/train_paired \\
      --speech-dir dump/train_speech_only --text-dir data/train_text_only --dev-dir dump/dev \\
      --exp-dir exp/chain
On several GPUs: torchrun --standalone --nproc_per_node N -m chain.bin.chain_train ... --ngpu 1
(or srun under Slurm). SIGTERM/SIGUSR1: checkpoint and exit status 143 (chain.train.preempt).
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import numpy as np
import torch

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging, str2bool
from chain.loop.steps import ST_SOURCES, ChainOptions
from chain.loop.straight_through import ST_MODES
from chain.train.options import (LoopOptions, OptimOptions, ScheduleOptions, add_dataclass_arguments,
                                 dataclass_from_args)

log = logging.getLogger("chain_train")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    group = parser.add_argument_group("models and data")
    group.add_argument("--asr-exp-dir", required=True, help="pretrained ASR (stage 3 experiment dir)")
    group.add_argument("--asr-checkpoint", default="best.pt", help="ASR weights inside --asr-exp-dir")
    group.add_argument("--tts-exp-dir", required=True, help="pretrained TTS (stage 4 experiment dir)")
    group.add_argument("--tts-checkpoint", default="best.pt", help="TTS weights inside --tts-exp-dir")
    group.add_argument("--paired-dir", default="dump/train_paired", help="paired speech and text")
    group.add_argument("--speech-dir", default="dump/train_speech_only", help="speech without text")
    group.add_argument("--text-dir", default="data/train_text_only", help="text without speech")
    group.add_argument("--dev-dir", default="dump/dev", help="development set (speech and text)")
    add_strict_text_argument(group)
    group.add_argument("--exp-dir", required=True, help="where checkpoints, logs and both models go")
    group.add_argument("--resume", type=str2bool, default=False,
                       help="continue from the latest complete checkpoints/epoch<N>.pt")
    group.add_argument("--batch-size", type=int, default=16, help="utterances per batch of every stream")
    group.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    group.add_argument("--tensorboard", type=str2bool, default=True, help="write tensorboard scalars")
    group.add_argument("--plot", type=str2bool, default=True, help="draw loss.png every epoch")
    group = parser.add_argument_group("speech chain (Algorithm 1, section V)")
    group.add_argument("--ratio", type=int, nargs=3, default=[1, 1, 1], metavar=("PAIRED", "SPEECH", "TEXT"),
                       help="batches of paired, speech-only and text-only data per update (0: branch off)")
    group.add_argument("--alpha", type=float, default=1.0, help="weight of the paired losses (Eq. 5)")
    group.add_argument("--beta", type=float, default=1.0, help="weight of the unpaired losses (Eq. 5)")
    group.add_argument("--asr-decode", default="greedy", choices=("greedy", "beam"),
                       help="how the ASR transcribes unpaired speech")
    group.add_argument("--beam", type=int, default=5, help="beam size of --asr-decode beam")
    group.add_argument("--max-len-ratio", type=float, default=ChainOptions.max_len_ratio,
                       help="ASR length cap: tokens per encoder frame (capped transcriptions are dropped)")
    group.add_argument("--max-frames-per-token", type=float, default=10.0,
                       help="TTS length cap: frames per token (capped generations are dropped)")
    group.add_argument("--st", default="none", choices=ST_MODES,
                       help="straight-through feedback from the ASR into the TTS (none: off)")
    group.add_argument("--st-source", default="greedy", choices=ST_SOURCES,
                       help="ASR outputs made one-hot: greedy (speech-only step) or teacher_forced "
                            "(paired step, Eq. 38)")
    group.add_argument("--tau", type=float, default=1.0, help="straight-through softmax temperature")
    add_dataclass_arguments(parser, LoopOptions, "training loop", exclude=("amp",))
    for name in ("asr", "tts"):
        add_dataclass_arguments(parser, OptimOptions, f"{name.upper()} optimiser", prefix=f"{name}_")
        add_dataclass_arguments(parser, ScheduleOptions, f"{name.upper()} schedule", prefix=f"{name}_")
    parser.set_defaults(epochs=5, asr_lr=5e-4, tts_lr=5e-4)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("chain_train")
    torch.set_num_threads(args.num_threads)
    from chain.asr.recognize import load_asr
    from chain.data.dataset import SpeechTextDataset
    from chain.data.sampler import BucketBatchSampler, loader_factory
    from chain.loop.batches import ChainBatches
    from chain.loop.speakers import SpeakerPool
    from chain.loop.trainer import ModelOptions, train_chain
    from chain.text.textfile import check_text_file
    from chain.train.device import rank_world
    from chain.train.experiment import global_batch, load_config, save_config
    from chain.train.launch import process_group
    from chain.train.trainer import TrainingError
    from chain.tts.builder import add_arguments as add_tts_arguments
    from chain.tts.synthesize import load_tts

    try:
        with process_group(args.ngpu):
            chain = ChainOptions(alpha=args.alpha, beta=args.beta, asr_decode=args.asr_decode, beam=args.beam,
                                 max_len_ratio=args.max_len_ratio, max_frames_per_token=args.max_frames_per_token,
                                 st=args.st, st_source=args.st_source, tau=args.tau)
            asr, tokenizer, asr_stats = load_asr(args.asr_exp_dir, args.asr_checkpoint)
            tts, tts_tokenizer, mel_stats, _ = load_tts(args.tts_exp_dir, args.tts_checkpoint)
            tts_config = load_config(args.tts_exp_dir, add_tts_arguments)
            if tokenizer.id2token != tts_tokenizer.id2token:
                raise ValueError(f"{args.asr_exp_dir} and {args.tts_exp_dir} use different token inventories")
            if not np.array_equal(asr_stats, mel_stats):
                raise ValueError(f"{args.asr_exp_dir} and {args.tts_exp_dir} normalise the log-mel with different "
                                 "CMVN stats: the TTS output would not be in the ASR's input domain")
            for path in (args.paired_dir, args.text_dir, args.dev_dir):
                if not (Path(path) / "text").is_file():
                    raise ValueError(f"{path}/text: no such file (paired, text-only and dev sets need transcripts)")
                check_text_file(tokenizer, f"{path}/text", args.strict)
            speech = dict(tokenizer=tokenizer, cmvn=tts_config.cmvn, use_linear=True,
                          linear_cmvn=tts_config.cmvn_linear)
            sets = {"paired": SpeechTextDataset.from_dirs(dump_dir=args.paired_dir, data_dir=args.paired_dir, **speech),
                    "speech": SpeechTextDataset.from_dirs(dump_dir=args.speech_dir, data_dir=args.speech_dir,
                                                          use_text=False, **speech),
                    "text": SpeechTextDataset.from_dirs(dump_dir=None, data_dir=args.text_dir, tokenizer=tokenizer)}
            dev = SpeechTextDataset.from_dirs(dump_dir=args.dev_dir, data_dir=args.dev_dir, **speech)
            ratio = dict(zip(("paired", "speech", "text"), args.ratio))
            speakers = None
            if tts.spk_dim and ratio["text"] > 0:
                speakers = SpeakerPool.from_datasets(tts.speaker_encoder, [
                    SpeechTextDataset.from_dirs(dump_dir=d, data_dir=None, cmvn=tts_config.cmvn)
                    for d in (args.paired_dir, args.speech_dir)], batch_size=args.batch_size)
            rank, world_size = rank_world()
            loaders = {name: loader_factory(ds, BucketBatchSampler(ds.lengths, batch_size=args.batch_size,
                                                                   shuffle=True, seed=args.seed, rank=rank,
                                                                   world_size=world_size),
                                            pad_id=tokenizer.pad_id)
                       for name, ds in sets.items() if ratio[name] > 0}
            dev_loader = loader_factory(dev, BucketBatchSampler(dev.lengths, batch_size=args.batch_size,
                                                                shuffle=False), pad_id=tokenizer.pad_id)(0)
            batches = ChainBatches(loaders, ratio)
            log.info("%s; %s per stream", ", ".join(f"{name} {len(ds)} utterances" for name, ds in sets.items()),
                     global_batch(world_size, batch_size=args.batch_size))
            save_config(args, args.exp_dir)
            model_opts = {name: ModelOptions(dataclass_from_args(args, OptimOptions, prefix=f"{name}_"),
                                             dataclass_from_args(args, ScheduleOptions, prefix=f"{name}_"))
                          for name in ("asr", "tts")}
            train_chain(asr.train(), tts.train(), batches, dev_loader, tokenizer=tokenizer, chain=chain,
                        asr_opts=model_opts["asr"], tts_opts=model_opts["tts"],
                        loop=dataclass_from_args(args, LoopOptions), exp_dir=args.exp_dir,
                        asr_exp_dir=args.asr_exp_dir, tts_exp_dir=args.tts_exp_dir, resume=args.resume,
                        tensorboard=args.tensorboard, plot=args.plot, speakers=speakers)
    except (ValueError, OSError, TrainingError) as err:
        raise SystemExit(f"chain_train: error: {err}") from None


if __name__ == "__main__":
    main()
