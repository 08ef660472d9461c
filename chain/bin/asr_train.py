"""Stage 3: train the attention seq2seq ASR on paired speech and text.

Reads dump/<set>/{feats.scp,utt2num_frames,text} of --train-dir and --dev-dir, the token
inventory of --lang-dir and the CMVN stats --cmvn. Writes into --exp-dir: config.yaml (every
option; decoding rebuilds the model from it), checkpoints/epoch<N>.pt, best.pt (best dev
metric: by default the CER of greedy decoding on the dev set), avg<N>.pt, train.log,
loss.png, tensorboard/ and figures/epoch<N>/<utt>.att.png (attention of a few dev utterances).
Example:
  python -m chain.bin.asr_train --config conf/asr.yaml --train-dir dump/train_paired \
      --dev-dir dump/dev --lang-dir data/lang --cmvn data/cmvn.ark --exp-dir exp/asr_paired
On several GPUs: torchrun --standalone --nproc_per_node N -m chain.bin.asr_train ... --ngpu 1
(or srun under Slurm). SIGTERM/SIGUSR1: checkpoint and exit status 143 (chain.train.preempt).
"""
from __future__ import annotations

import logging
import math

import configargparse
import torch

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging


def get_parser() -> configargparse.ArgumentParser:
    from chain.asr import builder
    from chain.asr.recognize import MAX_LEN_RATIO
    from chain.train import experiment, options

    parser = make_parser(__doc__)
    parser.add_argument("--num-threads", type=int, default=2, help="CPU threads of torch")
    parser.add_argument("--dev-cer-every", type=int, default=1,
                        help="compute the dev CER (greedy decoding) every N epochs and after the "
                             "last one; other epochs log nan and cannot become best.pt (0: "
                             "never, then --dev-metric must not be cer)")
    parser.add_argument("--dev-max-len-ratio", type=float, default=MAX_LEN_RATIO,
                        help="dev CER decoding: at most this many tokens per encoder frame")
    experiment.add_data_arguments(parser)
    add_strict_text_argument(parser)
    builder.add_arguments(parser)
    options.add_arguments(parser)
    parser.set_defaults(dev_metric="cer")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("asr_train")
    torch.set_num_threads(args.num_threads)
    from chain.asr.builder import build
    from chain.asr.dev_hooks import DevCER, plot_attention_figures
    from chain.data.dataset import SpeechTextDataset
    from chain.text.textfile import check_text_file
    from chain.text.tokenizer import load
    from chain.train.checkpoint import epoch_checkpoints, seed_everything
    from chain.train.experiment import make_loaders, save_config
    from chain.train.launch import process_group
    from chain.train.options import options_from_args
    from chain.train.trainer import TrainingError, train

    log = logging.getLogger("chain.asr_train")
    try:
        with process_group(args.ngpu):
            if args.dev_cer_every == 0 and args.dev_metric == "cer":
                raise ValueError("--dev-cer-every 0 turns the dev CER off: pick another --dev-metric "
                                 "(e.g. loss)")
            if args.dev_cer_every > 1 and args.dev_metric == "cer" and args.scheduler == "plateau":
                raise ValueError("--scheduler plateau needs the dev CER of every epoch: use "
                                 "--dev-cer-every 1 or another --dev-metric")
            tokenizer = load(args.lang_dir)
            sets = {}
            for name, path in (("train", args.train_dir), ("dev", args.dev_dir)):
                sets[name] = SpeechTextDataset.from_dirs(dump_dir=path, data_dir=path,
                                                         tokenizer=tokenizer, cmvn=args.cmvn)
                if sets[name].tokens is None:
                    raise ValueError(f"{path}/text: no such file (the ASR trains on paired speech "
                                     "and text: use a set with transcripts, e.g. dump/train_paired)")
                check_text_file(tokenizer, f"{path}/text", args.strict)
            seed_everything(args.seed)  # the initial weights too are the same in every run
            model = build(args, len(tokenizer), sets["train"].feat_dim)
            log.info("ASR model: %d parameters; %d train, %d dev utterances, %d tokens, %d dims",
                     sum(p.numel() for p in model.parameters()), len(sets["train"]), len(sets["dev"]),
                     len(tokenizer), sets["train"].feat_dim)
            opts = options_from_args(args)
            done = epoch_checkpoints(f"{args.exp_dir}/checkpoints") if args.resume else []
            dev_cer = None
            if args.dev_cer_every != 0:
                dev_cer = DevCER(tokenizer, every=args.dev_cer_every, last_epoch=args.epochs,
                                 first_epoch=(done[-1][0] + 1) if done else 1,
                                 max_len_ratio=args.dev_max_len_ratio)
            args.max_train_frames = max(sets["train"].lengths)  # decoding warns far beyond it
            save_config(args, args.exp_dir)
            train_loader, dev_loader = make_loaders(args, sets["train"], sets["dev"],
                                                    pad_id=tokenizer.pad_id, dim=sets["train"].feat_dim)
            state = train(model, train_loader, dev_loader, opts, args.exp_dir,
                          dev_metric_fn=dev_cer, figures_fn=plot_attention_figures)
            if state.best_metric is not None and math.isfinite(state.best_metric):
                name = "CER" if args.dev_metric == "cer" else args.dev_metric
                unit = "%" if args.dev_metric == "cer" else ""
                log.info("best dev %s %.2f%s at epoch %d", name, state.best_metric, unit, state.best_epoch)
    except (ValueError, OSError, TrainingError) as err:  # DataError is a ValueError
        raise SystemExit(f"asr_train: error: {err}") from None


if __name__ == "__main__":
    main()
