"""Training: the engine (:func:`chain.train.engine.fit`), the one-model trainer (:func:`train`),
their options, checkpoints, snapshots and reports."""
from chain.train.options import (InitOptions, LoopOptions, OptimOptions, ScheduleOptions,
                                 SnapshotOptions, TrainOptions)
from chain.train.trainer import TrainingError, TrainState, evaluate, train

__all__ = ["InitOptions", "LoopOptions", "OptimOptions", "ScheduleOptions", "SnapshotOptions",
           "TrainOptions", "TrainState", "TrainingError", "evaluate", "train"]
