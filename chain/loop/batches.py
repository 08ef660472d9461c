"""Interleaved batches of the three chain data dirs (paired, speech-only, text-only).

Every update takes ``ratio[name]`` batches of each stream (0 switches a branch off). An
epoch is one pass over the *lead* stream, the first enabled one of paired, speech,
text; the others cycle, starting a new shuffled pass whenever they run out. Pass k of a
cycling stream in epoch e is the sampler's pass ``e * PASSES_PER_EPOCH + k``, so an
epoch's batches depend only on its number (a resumed run sees the same data).
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

STREAMS = ("paired", "speech", "text")
PASSES_PER_EPOCH = 1000  # spacing of the pass numbers of cycling streams


class ChainBatches:
    """``for group in ChainBatches(...).epoch(e)``: ``group`` maps each enabled stream to a
    list of ``ratio[stream]`` batches, one update's worth."""

    def __init__(self, loaders: dict[str, Callable[[int], Iterable[dict]]], ratio: dict[str, int]):
        unknown = set(ratio) - set(STREAMS)
        if unknown or any(n < 0 for n in ratio.values()):
            raise ValueError(f"ratio takes counts >= 0 for {', '.join(STREAMS)}: got {ratio}")
        self.ratio = {name: n for name, n in ratio.items() if n > 0}
        if not self.ratio:
            raise ValueError("every branch is switched off (ratio 0 0 0): enable at least one")
        missing = [name for name in self.ratio if name not in loaders]
        if missing:
            raise ValueError(f"no data for the enabled branch(es) {', '.join(missing)}")
        self.loaders = loaders
        self.lead = next(name for name in STREAMS if name in self.ratio)

    def __len__(self) -> int:
        """Updates per epoch."""
        return len(self.loaders[self.lead](0)) // self.ratio[self.lead]

    def epoch(self, epoch: int) -> Iterator[dict[str, list[dict]]]:
        streams = {name: _cycle(self.loaders[name], epoch) for name in self.ratio if name != self.lead}
        lead = iter(self.loaders[self.lead](epoch))
        while True:
            group = {self.lead: [b for _, b in zip(range(self.ratio[self.lead]), lead)]}
            if len(group[self.lead]) < self.ratio[self.lead]:
                return  # the lead stream is used up (a short remainder is left for the next epoch)
            for name, it in streams.items():
                group[name] = [next(it) for _ in range(self.ratio[name])]
            yield group


def _cycle(factory: Callable[[int], Iterable[dict]], epoch: int) -> Iterator[dict]:
    for k in range(PASSES_PER_EPOCH):
        empty = True
        for batch in factory(epoch * PASSES_PER_EPOCH + k):
            empty = False
            yield batch
        if empty:
            raise ValueError("a chain data set gives no batches (is it empty?)")
    raise RuntimeError(f"a cycling stream ran {PASSES_PER_EPOCH} passes in one epoch: make the "
                       "lead stream shorter or its ratio larger")
