"""What training tells the user: train.log, tensorboard scalars, progress bars, running means."""
from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def train_logging(log_path: str | os.PathLike, *, enabled: bool = True) -> Iterator[None]:
    """Send the ``chain`` loggers' INFO to ``log_path`` (appended) and to stderr.

    Stderr is added only when nothing configured the root logger already (a caller's
    ``logging.basicConfig`` keeps its own). Handlers are removed on exit. Non-main ranks
    (``enabled`` False) log warnings to stderr only.
    """
    logger = logging.getLogger("chain")
    handlers: list[logging.Handler] = []
    if enabled:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    if not logging.getLogger().handlers:
        handlers.append(logging.StreamHandler(sys.stderr))
        if not enabled:
            handlers[-1].setLevel(logging.WARNING)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(h)
    try:
        yield
    finally:
        for h in handlers:
            logger.removeHandler(h)
            h.close()
        logger.setLevel(old_level)


class Meter:
    """Running weighted means of named statistics (weight: utterances in the batch)."""

    def __init__(self):
        self.sums: dict[str, float] = defaultdict(float)
        self.weights: dict[str, float] = defaultdict(float)

    def add(self, stats: dict[str, float], weight: float = 1.0) -> None:
        for key, value in stats.items():
            self.sums[key] += float(value) * weight
            self.weights[key] += weight

    def means(self) -> dict[str, float]:
        return {k: self.sums[k] / self.weights[k] for k in self.sums if self.weights[k] > 0}

    def __bool__(self) -> bool:
        return bool(self.sums)

    def state(self) -> dict:
        """The running sums, to carry an interrupted epoch's statistics in a checkpoint."""
        return {"sums": dict(self.sums), "weights": dict(self.weights)}

    @classmethod
    def from_state(cls, state: dict) -> Meter:
        """A meter holding the sums of :meth:`state` ({}: an empty one)."""
        meter = cls()
        meter.sums.update(state.get("sums", {}))
        meter.weights.update(state.get("weights", {}))
        return meter


def format_stats(stats: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" if isinstance(v, float) and math.isfinite(v) else f"{k} {v}"
                    for k, v in stats.items())


def make_writer(log_dir: str | os.PathLike, enabled: bool):
    """A tensorboard ``SummaryWriter`` on ``log_dir``, or None when disabled."""
    if not enabled:
        return None
    from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: ~1 s, only when used

    return SummaryWriter(log_dir=str(log_dir))


def write_scalars(writer, prefix: str, stats: dict[str, float], step: int) -> None:
    if writer is None:
        return
    for key, value in stats.items():
        writer.add_scalar(f"{prefix}/{key}", value, step)


def progress_enabled(is_main: bool) -> bool:
    """Progress bars only on rank 0 of an interactive run (not when logging to a file or in CI)."""
    return is_main and sys.stderr.isatty() and not os.environ.get("CI")


def progress(iterable: Iterable, *, desc: str, enabled: bool) -> Iterable:
    if not enabled:
        return iterable
    from tqdm import tqdm

    total = len(iterable) if hasattr(iterable, "__len__") else None
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)
