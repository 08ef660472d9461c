"""Preemption: SIGTERM or SIGUSR1 stop training with a checkpoint to resume from.

Slurm sends SIGTERM before it kills a job (preemption, time limit, ``scancel``), and
SIGUSR1 ahead of time with ``sbatch --signal=USR1@120``. Inside :class:`StopSignal` these
signals only set a flag. The training loops AND the flag over the ranks at every update
(:func:`chain.train.device.all_ranks_true`), so every rank stops after the same one: the
update in progress is finished, the loop raises :class:`Interrupted`, rank 0 writes
``checkpoints/interrupted.pt`` (the full state, plus how many batches of the epoch were
done) and every rank exits through :class:`Preempted` with status 143 (128 + SIGTERM,
whichever of the two signals it was), after a log line naming the checkpoint.

``--resume true`` continues from it: the epoch's batch order depends only on its number,
so :func:`resume_epoch` reads and drops the batches done, then restores the RNG states
saved with them; on CPU the run ends bit-identical to an uninterrupted one. ``kill -9``
cannot be caught: the checkpoints are written atomically, so the newest complete one is
still there and at most the epoch in progress is lost.
"""
from __future__ import annotations

import collections
import itertools
import logging
import signal
import threading
from typing import Iterable, Iterator

from chain.train.checkpoint import set_rng_state

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
EXIT_STATUS = 143  # 128 + SIGTERM: what a shell reports for a job ended by SIGTERM


class StopSignal:
    """Context manager: inside, SIGTERM and SIGUSR1 set :attr:`signum` instead of killing.

    The previous handlers come back on exit. Handlers can only be set from the main
    thread; elsewhere (a training run in a thread) the signals keep their actions.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._catch) for sig in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _catch(self, signum: int, frame) -> None:
        self.signum = signum

    @property
    def requested(self) -> bool:
        """True once this process caught a stop signal."""
        return self.signum is not None


class Interrupted(Exception):
    """A training loop stopped on a signal after its ``batches``-th batch of the epoch."""

    def __init__(self, batches: int) -> None:
        super().__init__(f"stopped after {batches} batches")
        self.batches = batches


class Preempted(SystemExit):
    """Training stopped on a signal, its state saved: the process exits with :data:`EXIT_STATUS`."""

    def __init__(self) -> None:
        super().__init__(EXIT_STATUS)


def preempted(stop: StopSignal, checkpoint, when: str) -> Preempted:
    """Log why and where training stops; return the exception that ends the process."""
    cause = signal.Signals(stop.signum).name if stop.requested else "a signal caught by another rank"
    log.warning("%s: stopped %s; resume from %s with --resume true (exit status %d)",
                cause, when, checkpoint, EXIT_STATUS)
    return Preempted()


def resume_epoch(batches: Iterable, done: int, world_size: int, rng: dict) -> tuple[Iterator, int]:
    """Continue an epoch interrupted after ``done`` batches over all ranks.

    Reads and drops this rank's share of them from ``batches`` (the epoch's batches,
    in their fixed order), then restores the RNG states ``rng`` saved at the interruption
    (creating the batch iterator draws from the torch RNG). Returns ``(the remaining
    batches, batches dropped per rank)``. On another number of ranks than the
    interrupted run, a remainder of ``done`` that does not divide is trained again.
    """
    skip, again = divmod(done, world_size)
    if again:
        log.warning("the interrupted run had done %d batches of this epoch; on %d ranks %d of "
                    "them are trained again", done, world_size, again)
    remaining = iter(batches)
    collections.deque(itertools.islice(remaining, skip), maxlen=0)
    set_rng_state(rng)
    return remaining, skip
