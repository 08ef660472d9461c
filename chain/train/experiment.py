"""What every training entry point shares: data options, loaders, and the experiment's config.

An experiment dir ``exp/<name>`` holds ``config.yaml`` (every option of the run that
made it, so decoding rebuilds the same model) next to the trainer's checkpoints.
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import yaml

from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.fileio import atomic_write
from chain.train.device import is_main, rank_world

log = logging.getLogger(__name__)

CONFIG = "config.yaml"


def add_data_arguments(parser) -> None:
    """Options naming the data of a training run and how it is batched."""
    group = parser.add_argument_group("data")
    group.add_argument("--train-dir", required=True,
                       help="training set: dump/<set> (feats.scp, utt2num_frames, text, linear.scp)")
    group.add_argument("--dev-dir", required=True, help="development set: dump/<set>")
    group.add_argument("--lang-dir", default="data/lang", help="token inventory of stage 2")
    group.add_argument("--cmvn", default="data/cmvn.ark", help="global CMVN stats of the log-mel features")
    group.add_argument("--exp-dir", required=True, help="where checkpoints, logs and figures go")
    group.add_argument("--batch-bins", type=int, default=0,
                       help="frames x feature dims per batch, padding included (0: off)")
    group.add_argument("--batch-size", type=int, default=16, help="utterances per batch (0: off)")
    group.add_argument("--max-frames", type=int, default=0, help="frames per batch, padding included (0: off)")
    group.add_argument("--num-workers", type=int, default=0, help="data loader worker processes")


def make_loaders(args, train_set: SpeechTextDataset, dev_set: SpeechTextDataset, *,
                 pad_id: int, dim: int, rank: int | None = None, world_size: int | None = None):
    """``(epoch -> train loader, dev loader)`` over length-bucketed batches of ``args``.

    The training batches are dealt out to the ``world_size`` ranks (default: this process's
    rank and world of torch.distributed), each rank's batch within ``args``' limits; the
    dev loader gives every rank the whole dev set.
    """
    if rank is None or world_size is None:
        rank, world_size = rank_world()
    limits = dict(batch_size=args.batch_size, max_frames=args.max_frames,
                  batch_bins=args.batch_bins, dim=dim)
    train_sampler = BucketBatchSampler(train_set.lengths, shuffle=True, seed=args.seed,
                                       rank=rank, world_size=world_size, **limits)
    dev_sampler = BucketBatchSampler(dev_set.lengths, shuffle=False, **limits)
    log.info("%s; %d updates per epoch", global_batch(world_size, batch_size=args.batch_size,
             max_frames=args.max_frames, batch_bins=args.batch_bins), len(train_sampler))
    train_loader = loader_factory(train_set, train_sampler, num_workers=args.num_workers, pad_id=pad_id)
    return train_loader, loader_factory(dev_set, dev_sampler, pad_id=pad_id)(0)


def global_batch(world_size: int, **limits: int) -> str:
    """How the batch of one update adds up, e.g. ``global batch = per-rank batch (batch_size
    16) x 2 ranks = batch_size 32`` (limits that are 0 are off and left out)."""
    on = {name: value for name, value in limits.items() if value > 0}
    return (f"global batch = per-rank batch ({', '.join(f'{k} {v}' for k, v in on.items())}) x "
            f"{world_size} rank{'s' if world_size > 1 else ''} = "
            + ", ".join(f"{k} {v * world_size}" for k, v in on.items()))


def save_config(args: argparse.Namespace, exp_dir: str | os.PathLike) -> Path:
    """Write every option of ``args`` to ``exp_dir/config.yaml`` (atomically; on rank 0 only)."""
    path = Path(exp_dir) / CONFIG
    if not is_main():
        return path
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(args).items()
              if k != "config"}
    with atomic_write(path) as f:
        yaml.safe_dump(values, f, sort_keys=True)
    return path


def load_config(exp_dir: str | os.PathLike, *option_groups) -> argparse.Namespace:
    """The options a training run wrote with :func:`save_config`.

    ``option_groups`` are ``add_arguments(parser)`` functions (e.g. a model builder's):
    their defaults fill in options that the run predates, so an older experiment still loads.
    """
    path = Path(exp_dir) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {exp_dir} a finished training run?)")
    parser = argparse.ArgumentParser(add_help=False)
    for add_arguments in option_groups:
        add_arguments(parser)
    config = parser.parse_args([])
    with open(path, encoding="utf-8") as f:
        vars(config).update(yaml.safe_load(f))
    return config


def recipe_dir(exp_dir: str | os.PathLike) -> Path:
    """The dir a training run was started in, which the relative paths of its ``config.yaml``
    (``lang_dir``, ``cmvn``, ``train_dir``) are relative to: ``exp_dir`` less the ``exp_dir``
    the run recorded (``../multispk1`` for ``../multispk1/exp/asr_x``, which recorded
    ``exp/asr_x``). Raises ValueError when the run recorded an absolute or another path."""
    path = Path(exp_dir) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {exp_dir} a finished training run?)")
    recorded = str(yaml.safe_load(path.read_text(encoding="utf-8")).get("exp_dir") or "")
    given, parts = Path(os.path.normpath(exp_dir)).parts, Path(os.path.normpath(recorded)).parts
    if not recorded or Path(recorded).is_absolute() or given[-len(parts):] != parts:
        raise ValueError(f"{path}: recorded exp_dir '{recorded}', so the recipe dir its relative paths "
                         f"start from is unknown (give the experiment as <recipe dir>/{recorded}, "
                         "as it was trained)")
    return Path(*given[:-len(parts)]) if len(given) > len(parts) else Path(".")


def recipe_paths(exp_dir: str | os.PathLike, *keys: str) -> dict[str, Path]:
    """The paths ``keys`` of ``exp_dir/config.yaml`` (e.g. ``cmvn``, ``lang_dir``) as seen from
    the working dir: relative ones are read from the run's :func:`recipe_dir`."""
    config = yaml.safe_load((Path(exp_dir) / CONFIG).read_text(encoding="utf-8"))
    missing = [key for key in keys if not config.get(key)]
    if missing:
        raise ValueError(f"{Path(exp_dir) / CONFIG}: no {missing[0]} (is {exp_dir} the right kind of experiment?)")
    if all(Path(config[key]).is_absolute() for key in keys):
        return {key: Path(config[key]) for key in keys}
    root = recipe_dir(exp_dir)
    return {key: root / config[key] for key in keys}  # an absolute config[key] stays as it is
