"""Train the speaker encoder (stage 3 of a multi-speaker recipe; section IV-B of the paper).

A DeepSpeaker-style network (chain.spk.encoder) on the CMVN-normalised log-mel of
--train-dir, whose utt2spk gives the training speakers: softmax NLL over them (Eq. 23,
--nll-weight) and the triplet loss over the triples of each batch (Eq. 24,
--triplet-weight), Adam 1e-3 (section IV-D3). The dev speakers may be held out: best.pt
is picked by the dev speaker-verification EER (all pairs of dev utterances; chain.metrics.
speaker), the dev NLL covers the utterances of training speakers only. Writes in
--exp-dir: config.yaml, speakers (the training speakers in class order),
checkpoints/epoch<N>.pt, best.pt, avg<N>.pt, train.log, loss.png, tensorboard/.
Run from the recipe dir, e.g.:
  python -m chain.bin.spk_train --config conf/spk.yaml --train-dir dump/train_paired \\
      --dev-dir dump/dev --cmvn data/cmvn.ark --exp-dir exp/spk_train_paired
On several GPUs: torchrun --standalone --nproc_per_node N -m chain.bin.spk_train ... --ngpu 1
(or srun under Slurm). SIGTERM/SIGUSR1: checkpoint and exit status 143 (chain.train.preempt).
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging
from chain.data.datadir import read_kv
from chain.fileio import atomic_write
from chain.metrics.speaker import can_score, speaker_scores
from chain.spk import builder
from chain.spk.data import SpeakerDataset, embed_set, utt2spk_of
from chain.train.checkpoint import seed_everything
from chain.train.device import is_main
from chain.train.experiment import add_data_arguments, make_loaders, save_config
from chain.train.launch import process_group
from chain.train.options import add_arguments as add_train_arguments
from chain.train.options import options_from_args
from chain.train.trainer import TrainingError, train

log = logging.getLogger("spk_train")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    add_data_arguments(parser)
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    builder.add_arguments(parser)
    add_train_arguments(parser)
    parser.set_defaults(dev_metric="eer", higher_is_better=False, lr=1e-3)
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("spk_train")
    torch.set_num_threads(args.num_threads)
    exp_dir = Path(args.exp_dir)
    try:
        with process_group(args.ngpu):
            speakers = sorted(set(read_kv(Path(args.train_dir) / "utt2spk").values()))
            train_set, dev_set = (SpeakerDataset.from_dump(d, cmvn=args.cmvn, speakers=speakers)
                                  for d in (args.train_dir, args.dev_dir))
            dev_speakers = utt2spk_of(args.dev_dir, dev_set.base.keys)
            scorable = can_score(dev_speakers)
            if not scorable and args.dev_metric in ("eer", "id_acc"):
                raise ValueError(f"{args.dev_dir} has no speaker-verification trials of both kinds (two speakers, "
                                 "one with two utterances): give a larger dev set or pick --dev-metric loss")
            seed_everything(args.seed)
            model = builder.build(args, train_set.feat_dim, len(speakers))
            options = options_from_args(args)
            save_config(args, exp_dir)
            if is_main():
                with atomic_write(exp_dir / builder.SPEAKERS) as f:
                    f.writelines(f"{s}\n" for s in speakers)
            train_loader, dev_loader = make_loaders(args, train_set, dev_set, pad_id=0, dim=train_set.feat_dim)
            held_out = len(set(dev_speakers) - set(speakers))
            log.info("%d training utterances of %d speakers; %d dev utterances of %d speakers (%d held out)",
                     len(train_set), len(speakers), len(dev_set), len(set(dev_speakers)), held_out)

            def dev_metric(model, loader):
                if not scorable:
                    return {}
                utts, vectors = embed_set(model, loader, next(model.parameters()).device)
                by_utt = dict(zip(dev_set.base.keys, dev_speakers))
                scores = speaker_scores(vectors, [by_utt[u] for u in utts])
                return {"eer": scores.eer, "id_acc": scores.accuracy}

            train(model, train_loader, dev_loader, options, exp_dir, dev_metric_fn=dev_metric)
    except (ValueError, OSError, TrainingError) as err:
        raise SystemExit(f"spk_train: error: {err}") from None


if __name__ == "__main__":
    main()
