"""Length-bucketed batches (docs/data.md, Batches).

Utterances are sorted by length (longest first) and cut greedily into batches under
up to three limits, any of which may be off (0):

- ``batch_size``: utterances per batch;
- ``max_frames``: padded frames per batch, ``B * T_max``;
- ``batch_bins``: padded numbers per batch, ``B * T_max * dim`` (ESPnet's ``batch_bins``;
  ESPnet's ``numel`` mode sums the unpadded lengths, we count the padded tensor the model
  really allocates, which is the same on sorted data up to a few frames).

An utterance longer than the budget on its own still gets a batch of one (counted in
``oversized``). The batch list is fixed; each epoch shuffles the *order* of batches with a
generator seeded by ``(seed, epoch)``, so an epoch is reproducible on its own (resume).
For ``world_size`` ranks the shuffled list is padded by repeating its head to a multiple of
``world_size`` and rank ``r`` takes batches ``r, r + world_size, ...``: every rank gets the
same number of batches (DDP needs it), disjoint unless padding repeats a few.
"""
from __future__ import annotations

import functools
from typing import Callable, Iterator, Sequence

import numpy as np
from torch.utils.data import DataLoader, Sampler

from chain.data.collate import collate


def make_batches(lengths: Sequence[int], *, dim: int = 1, batch_size: int = 0,
                 max_frames: int = 0, batch_bins: int = 0) -> tuple[list[list[int]], int]:
    """Cut indices sorted by length (descending, ties by index) into batches.

    Returns ``(batches, oversized)``, ``oversized`` counting single utterances over the budget.
    """
    if max(batch_size, max_frames, batch_bins) <= 0:
        raise ValueError("no batch limit: give batch_size, max_frames or batch_bins > 0 "
                         "(e.g. batch_size 32, or batch_bins 1000000)")
    if min(batch_size, max_frames, batch_bins) < 0:
        raise ValueError(f"batch limits must be >= 0: got batch_size {batch_size}, "
                         f"max_frames {max_frames}, batch_bins {batch_bins}")
    order = sorted(range(len(lengths)), key=lambda i: (-int(lengths[i]), i))
    batches: list[list[int]] = []
    oversized = 0
    current: list[int] = []
    longest = 0
    for i in order:
        n = int(lengths[i])
        if current:
            size, t_max = len(current) + 1, max(longest, n)
            fits = ((batch_size <= 0 or size <= batch_size)
                    and (max_frames <= 0 or size * t_max <= max_frames)
                    and (batch_bins <= 0 or size * t_max * dim <= batch_bins))
            if not fits:
                batches.append(current)
                current, longest = [], 0
        if not current and ((max_frames > 0 and n > max_frames)
                            or (batch_bins > 0 and n * dim > batch_bins)):
            oversized += 1
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches, oversized


class BucketBatchSampler(Sampler[list[int]]):
    """Batch sampler over length buckets; call :meth:`set_epoch` before each epoch.

    ``lengths`` are per-utterance frames (or tokens for text-only sets); ``dim`` is the
    width of one frame for ``batch_bins`` (e.g. 80 for log-mel).
    """

    def __init__(self, lengths: Sequence[int], *,
                 # batch limits (0 = off)
                 batch_size: int = 0, max_frames: int = 0, batch_bins: int = 0, dim: int = 1,
                 # order
                 shuffle: bool = True, seed: int = 0,
                 # distributed
                 rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}): got {rank}")
        self.batches, self.oversized = make_batches(
            lengths, dim=dim, batch_size=batch_size, max_frames=max_frames, batch_bins=batch_bins)
        self.shuffle, self.seed = shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the batch order of ``epoch`` (same seed and epoch -> same order)."""
        self.epoch = epoch

    def epoch_batches(self) -> list[list[int]]:
        """This rank's batches for the current epoch, in order."""
        batches = self.batches
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if self.world_size > 1:
            per_rank = -(-len(batches) // self.world_size)
            padded = [batches[i % len(batches)] for i in range(per_rank * self.world_size)]
            batches = padded[self.rank::self.world_size]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.epoch_batches())

    def __len__(self) -> int:
        return -(-len(self.batches) // self.world_size)


def loader_factory(dataset, sampler: BucketBatchSampler, *, num_workers: int = 0,
                   pad_id: int = 0, pin_memory: bool = False) -> Callable[[int], DataLoader]:
    """``epoch -> DataLoader`` over ``sampler``'s batches of that epoch (the trainer's input).

    One DataLoader serves every epoch (its workers persist); the sampler's epoch is set
    before each pass, so an epoch's batch order does not depend on earlier epochs.
    ``pin_memory`` speeds up copies to a GPU.
    """
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers,
                        collate_fn=functools.partial(collate, pad_id=pad_id),
                        persistent_workers=num_workers > 0, pin_memory=pin_memory)

    def for_epoch(epoch: int) -> DataLoader:
        sampler.set_epoch(epoch)
        return loader

    return for_epoch
