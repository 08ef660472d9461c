"""Speaker vectors of the chain's text-only step (Fig. 8(c) of the machine speech chain paper).

Text has no voice: the step samples a reference utterance x~ from the paired and
speech-only data (D^P u D^U) and speaks the text in its voice, z~ = SPKEMB(x~). The
speaker encoder is frozen, so z of every utterance of those two sets is computed once
(:meth:`SpeakerPool.from_datasets`) and the step draws rows (:meth:`SpeakerPool.sample`,
torch's global RNG: a resumed run draws the same). The paired and speech-only steps
take z = SPKEMB(x) of their own speech (``Tacotron.forward``).
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch

from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.spk.data import embed_set

log = logging.getLogger(__name__)


class SpeakerPool:
    """The reference utterances ``utts`` and their vectors (N, Z) on the text-only step's device."""

    def __init__(self, utts: Sequence[str], vectors: torch.Tensor) -> None:
        if len(utts) == 0 or len(utts) != len(vectors):
            raise ValueError(f"a speaker pool needs one vector per utterance and at least one: got "
                             f"{len(utts)} utterances, {len(vectors)} vectors")
        self.utts, self.vectors = list(utts), vectors

    @classmethod
    def from_datasets(cls, encoder: torch.nn.Module, datasets: Sequence[SpeechTextDataset], *,
                      batch_size: int = 32, device: str | torch.device = "cpu") -> "SpeakerPool":
        """z = SPKEMB(x) of every utterance of ``datasets`` (features, e.g. the paired and
        speech-only sets) by the frozen ``encoder``."""
        utts, vectors = [], []
        for ds in datasets:
            loader = loader_factory(ds, BucketBatchSampler(ds.lengths, batch_size=batch_size, shuffle=False))(0)
            u, v = embed_set(encoder, loader, device)
            utts += u
            vectors.append(torch.from_numpy(v))
        pool = cls(utts, torch.cat(vectors).to(device))
        log.info("text-only step: speaker vectors of %d reference utterances", len(pool.utts))
        return pool

    def sample(self, n: int) -> tuple[list[str], torch.Tensor]:
        """``n`` references drawn uniformly with replacement: ``(utterance ids, z (n, Z))``."""
        index = torch.randint(len(self.utts), (n,))
        return [self.utts[i] for i in index.tolist()], self.vectors[index.to(self.vectors.device)]

    def to(self, device: str | torch.device) -> "SpeakerPool":
        self.vectors = self.vectors.to(device)
        return self
