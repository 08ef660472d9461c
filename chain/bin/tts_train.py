"""Train the Tacotron TTS on paired speech and text (stage 4).

The TTS learns CMVN-normalised log-mel and log-linear targets (Eq. (14) of the machine
speech chain paper). Writes in --exp-dir: config.yaml (every option; decoding rebuilds
the model from it), checkpoints/epoch<N>.pt, best.pt (lowest dev --dev-metric, default
mel_l2: the teacher-forced mean squared error of the normalised log-mel; during training
the utterance-weighted mean of per-batch values, chain.bin.tts_eval pools it exactly
over frames, see chain.metrics.tts), avg<N>.pt, train.log, loss.png, tensorboard/,
figures/epoch<N>/ (attention and mel of a few dev utterances, teacher-forced and
free-running). With --spk-exp-dir (a chain.bin.spk_train run) the TTS is multi-speaker
(section IV-C): z = SPKEMB(x) of each target utterance by that frozen encoder conditions
the decoder (--spk-dim follows the encoder), and the loss is Eq. (25) (--spk-loss-weight
is gamma3). Run from the recipe dir, e.g.:
  python -m chain.bin.tts_train --config conf/tts.yaml --train-dir dump/train_paired \\
      --dev-dir dump/dev --lang-dir data/lang --cmvn data/cmvn.ark \\
      --cmvn-linear data/cmvn_linear.ark --exp-dir exp/tts_paired
On several GPUs: torchrun --standalone --nproc_per_node N -m chain.bin.tts_train ... --ngpu 1
(or srun under Slurm). SIGTERM/SIGUSR1: checkpoint and exit status 143 (chain.train.preempt).
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import numpy as np
import torch

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging
from chain.data.dataset import SpeechTextDataset
from chain.feats.cmvn import load_cmvn
from chain.spk.builder import load_speaker_encoder
from chain.text.textfile import check_text_file
from chain.text.tokenizer import load as load_tokenizer
from chain.train.checkpoint import seed_everything
from chain.train.experiment import add_data_arguments, make_loaders, save_config
from chain.train.launch import process_group
from chain.train.options import add_arguments as add_train_arguments
from chain.train.options import options_from_args
from chain.train.trainer import TrainingError, train
from chain.tts import builder
from chain.tts.figures import draw_tts_figures

log = logging.getLogger("tts_train")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    add_data_arguments(parser)
    add_strict_text_argument(parser)
    parser.add_argument("--cmvn-linear", default="data/cmvn_linear.ark",
                        help="global CMVN stats of the log-linear spectrograms (stage 1)")
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--spk-exp-dir", default="",
                        help="speaker encoder (chain.bin.spk_train experiment dir) of a multi-speaker "
                             "TTS; empty: single speaker")
    parser.add_argument("--spk-checkpoint", default="best.pt", help="speaker encoder weights inside --spk-exp-dir")
    parser.add_argument("--num-figures", type=int, default=3,
                        help="dev utterances drawn per epoch under figures/ (0: none)")
    builder.add_arguments(parser)
    add_train_arguments(parser)
    parser.set_defaults(dev_metric="mel_l2", higher_is_better=False)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("tts_train")
    torch.set_num_threads(args.num_threads)
    exp_dir = Path(args.exp_dir)
    try:
        with process_group(args.ngpu):
            tokenizer = load_tokenizer(args.lang_dir)
            sets = [SpeechTextDataset.from_dirs(dump_dir=d, data_dir=d, tokenizer=tokenizer, cmvn=args.cmvn,
                                                use_linear=True, linear_cmvn=args.cmvn_linear)
                    for d in (args.train_dir, args.dev_dir)]
            for name, ds in zip((args.train_dir, args.dev_dir), sets):
                if ds.tokens is None:
                    raise ValueError(f"{name}/text: no such file (the TTS trains on paired speech and text)")
                check_text_file(tokenizer, f"{name}/text", args.strict)
            train_set, dev_set = sets
            spk_encoder = speaker_encoder(args)
            seed_everything(args.seed)  # the initial weights too are the same in every run
            model = builder.build(args, len(tokenizer), train_set.feat_dim, train_set.linear_dim,
                                  sos_id=tokenizer.sos_id, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
            if spk_encoder is not None:
                model.attach_speaker_encoder(spk_encoder)
            options = options_from_args(args)
            save_config(args, exp_dir)
            train_loader, dev_loader = make_loaders(args, train_set, dev_set, pad_id=tokenizer.pad_id,
                                                    dim=train_set.feat_dim + train_set.linear_dim)
            log.info("%d training, %d dev utterances; %d mel + %d linear dims; %d tokens",
                     len(train_set), len(dev_set), train_set.feat_dim, train_set.linear_dim, len(tokenizer))

            def figures(model, batch, out_dir):
                draw_tts_figures(model, batch, out_dir, n=args.num_figures)

            train(model, train_loader, dev_loader, options, exp_dir,
                  figures_fn=figures if args.num_figures > 0 else None)
    except (ValueError, OSError, TrainingError) as err:
        raise SystemExit(f"tts_train: error: {err}") from None


def speaker_encoder(args):
    """The frozen speaker encoder of ``--spk-exp-dir`` (None: single speaker); sets
    ``args.spk_dim`` to its vector size and checks that it reads the TTS's log-mel domain."""
    if not args.spk_exp_dir:
        return None
    encoder, stats = load_speaker_encoder(args.spk_exp_dir, args.spk_checkpoint)
    if not np.array_equal(stats, load_cmvn(args.cmvn)):
        raise ValueError(f"{args.spk_exp_dir} normalises the log-mel with other CMVN stats than {args.cmvn}: "
                         "train the speaker encoder and the TTS on the same stats")
    if args.spk_dim not in (0, encoder.embed_dim):
        raise ValueError(f"--spk-dim {args.spk_dim} but {args.spk_exp_dir} gives {encoder.embed_dim}-dim "
                         "vectors: leave --spk-dim at 0 (it follows the encoder)")
    args.spk_dim = encoder.embed_dim
    return encoder


if __name__ == "__main__":
    main()
