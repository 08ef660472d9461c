"""Trainer options: five small dataclasses, each field with its CLI help.

:func:`add_arguments` registers every field as ``--field-name`` (in one argument group per
dataclass) and :func:`options_from_args` builds :class:`TrainOptions` back from the parsed
namespace, so ``asr_train``/``tts_train`` share one spelling of the trainer options.
Paper defaults: Adam, learning rate 5e-4 for the ASR and the TTS (section IV-D3 of the
machine speech chain paper).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

AMP_MODES = ("none", "bf16", "fp16")


def _opt(default: Any, help: str, **kw) -> Any:
    """A dataclass field carrying its CLI help (and argparse extras such as ``choices``)."""
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class OptimOptions:
    """Adam."""

    lr: float = _opt(5e-4, "peak learning rate of Adam (paper IV-D3: 5e-4 for ASR and TTS)")
    adam_beta1: float = _opt(0.9, "Adam beta1 (decay of the gradient mean)")
    adam_beta2: float = _opt(0.999, "Adam beta2 (decay of the squared-gradient mean)")
    adam_eps: float = _opt(1e-8, "Adam epsilon added to the denominator")
    weight_decay: float = _opt(0.0, "L2 weight decay added to the gradient by Adam")


@dataclass
class ScheduleOptions:
    """Learning-rate schedule (see chain.train.schedule)."""

    scheduler: str = _opt("constant", "learning-rate schedule: constant, noam (linear warmup "
                          "to --lr then 1/sqrt(step) decay), exponential (x --lr-decay per "
                          "epoch), plateau (x --lr-decay when the dev metric stalls), cosine (half "
                          "cosine per epoch from --lr to --min-lr over --epochs)",
                          choices=("constant", "noam", "exponential", "plateau", "cosine"))
    warmup_steps: int = _opt(4000, "noam: updates of linear warmup to the peak --lr")
    lr_decay: float = _opt(0.5, "exponential: factor per epoch; plateau: factor per stall")
    patience: int = _opt(1, "plateau: epochs without dev improvement before decaying")
    min_lr: float = _opt(0.0, "exponential/plateau/cosine: the learning rate never goes below this")


@dataclass
class LoopOptions:
    """The epoch/step loop."""

    epochs: int = _opt(20, "number of epochs to train (a resumed run stops at the same one)")
    grad_clip: float = _opt(1.0, "clip the global gradient norm to this (0: no clipping)")
    max_bad_steps: int = _opt(10, "stop with an error after this many consecutive steps "
                              "with a non-finite loss or gradient norm (each one is skipped)")
    seed: int = _opt(1, "seed of python, numpy and torch RNGs and of the batch order")
    log_interval: int = _opt(50, "log and write tensorboard scalars every this many updates")
    ngpu: int = _opt(0, "0: train on CPU, 1: train on one GPU (more: one process per GPU "
                     "with torchrun)")
    amp: str = _opt("none", "mixed precision on GPU: none, bf16 (autocast) or fp16 (autocast "
                    "+ gradient scaling); ignored on CPU", choices=AMP_MODES)


@dataclass
class SnapshotOptions:
    """Dev metric, best/averaged snapshots and reports."""

    dev_metric: str = _opt("loss", "dev statistic that picks best.pt and drives the plateau "
                           "schedule (e.g. loss, cer, mel_l2)")
    higher_is_better: bool = _opt(False, "true if a larger --dev-metric is better (accuracy)")
    n_average: int = _opt(5, "write avg<N>.pt: the mean weights of the last N epoch "
                          "checkpoints (0: none)")
    tensorboard: bool = _opt(True, "write tensorboard scalars under <exp>/tensorboard")
    plot: bool = _opt(True, "draw <exp>/loss.png every epoch")


@dataclass
class InitOptions:
    """Where the starting weights come from."""

    resume: bool = _opt(False, "continue from the latest complete <exp>/checkpoints/epoch<N>.pt "
                        "(model, optimizer, schedule, RNGs, counters); starts afresh if none")
    init: str = _opt("", "initialise model weights only (optimizer fresh) from a checkpoint "
                     "or model file; ignored when --resume finds a checkpoint")
    init_strict: bool = _opt(True, "true: --init must match every parameter name and shape; "
                             "false: load what matches, log the rest")
    init_prefixes: tuple = _opt((), "load only parameters whose names start with one of "
                                "these prefixes (e.g. encoder.); none: all", nargs="*")


@dataclass
class TrainOptions:
    """All trainer options, grouped; e.g. ``TrainOptions(loop=LoopOptions(epochs=2))``."""

    optim: OptimOptions = field(default_factory=OptimOptions)
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)
    loop: LoopOptions = field(default_factory=LoopOptions)
    snapshot: SnapshotOptions = field(default_factory=SnapshotOptions)
    start: InitOptions = field(default_factory=InitOptions)



def add_arguments(parser) -> None:
    """Register every trainer option as ``--kebab-name`` on an (configargparse) parser."""
    for group_field in dataclasses.fields(TrainOptions):
        cls = group_field.default_factory
        add_dataclass_arguments(parser, cls, f"training: {cls.__doc__.strip().rstrip('.')}")


def options_from_args(args) -> TrainOptions:
    """:class:`TrainOptions` from a namespace parsed with :func:`add_arguments`."""
    return TrainOptions(**{group_field.name: dataclass_from_args(args, group_field.default_factory)
                           for group_field in dataclasses.fields(TrainOptions)})


def add_dataclass_arguments(parser, cls, title: str, *, prefix: str = "", exclude: tuple = ()) -> None:
    """Register the fields of one options dataclass as ``--<prefix><field-name>`` in a group."""
    from chain.bin._args import str2bool

    group = parser.add_argument_group(title)
    defaults = cls()
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        default = getattr(defaults, f.name)
        kw = {k: v for k, v in f.metadata.items() if k != "help"}
        if isinstance(default, bool):
            kw["type"] = str2bool
        elif "nargs" not in kw:
            kw["type"] = type(default)
        else:
            kw["type"], default = str, list(default)
        group.add_argument("--" + (prefix + f.name).replace("_", "-"), default=default,
                           help=f.metadata["help"], **kw)


def dataclass_from_args(args, cls, *, prefix: str = ""):
    """An options dataclass from a namespace parsed with :func:`add_dataclass_arguments`
    (excluded fields keep their defaults)."""
    values = {f.name: getattr(args, prefix + f.name) for f in dataclasses.fields(cls)
              if hasattr(args, prefix + f.name)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
