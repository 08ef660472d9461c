"""Speech of a dump dir with speaker class ids, and utterance vectors of a whole set.

:class:`SpeakerDataset` adds ``speaker`` (an int, batched as ``speakers (B,)`` by
``chain.data.collate``) to the items of a feature-only ``SpeechTextDataset``; the ids
follow the training speakers (:func:`chain.spk.builder.speaker_labels`). :func:`embed_set`
runs a (frozen) speaker encoder over a loader: z = SPKEMB(x), Eq. (21) of the machine
speech chain paper (:func:`embed_dump`: of every utterance of a dump dir);
:func:`speaker_means` averages them per speaker.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch.utils.data import Dataset

from chain.data.datadir import DataError, read_kv
from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.spk.builder import speaker_labels


class SpeakerDataset(Dataset):
    """Items of ``base`` plus ``speaker`` (class id); ``speakers`` are the training speakers."""

    def __init__(self, base: SpeechTextDataset, labels: list[int]) -> None:
        if len(labels) != len(base):
            raise ValueError(f"{len(labels)} speaker labels for {len(base)} utterances")
        self.base, self.labels = base, labels

    @classmethod
    def from_dump(cls, dump_dir: str | os.PathLike, *, cmvn, speakers: list[str]) -> "SpeakerDataset":
        """Features of ``dump_dir`` (CMVN-normalised) labelled by its ``utt2spk``."""
        base = SpeechTextDataset.from_dirs(dump_dir=dump_dir, data_dir=None, cmvn=cmvn)
        return cls(base, speaker_labels(Path(dump_dir) / "utt2spk", base.keys, speakers))

    @property
    def lengths(self) -> list[int]:
        return self.base.lengths

    @property
    def feat_dim(self) -> int:
        return self.base.feat_dim

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> dict:
        return {**self.base[i], "speaker": self.labels[i]}


def utt2spk_of(dump_dir: str | os.PathLike, utts: list[str]) -> list[str]:
    """The speaker of each of ``utts`` by ``dump_dir/utt2spk``."""
    path = Path(dump_dir) / "utt2spk"
    utt2spk = read_kv(path)
    missing = [u for u in utts if u not in utt2spk]
    if missing:
        raise DataError(path, f"no speaker for '{missing[0]}' ({len(missing)} utterances)")
    return [utt2spk[u] for u in utts]


@torch.no_grad()
def embed_set(encoder: torch.nn.Module, loader: Iterable[dict], device: str | torch.device = "cpu"
              ) -> tuple[list[str], np.ndarray]:
    """``(utterance ids, z (N, Z))`` of every batch of ``loader`` (feats, feat_lengths, utt_ids)."""
    was_training = encoder.training
    encoder.eval()
    utts, vectors = [], []
    try:
        for batch in loader:
            z = encoder.embed(batch["feats"].to(device), batch["feat_lengths"].to(device))
            utts += batch["utt_ids"]
            vectors.append(z.float().cpu().numpy())
    finally:
        encoder.train(was_training)
    return utts, np.concatenate(vectors) if vectors else np.zeros((0, encoder.embed_dim), np.float32)


def embed_dump(encoder: torch.nn.Module, dump_dir: str | os.PathLike, cmvn: np.ndarray, *,
               batch_size: int = 32, device: str | torch.device = "cpu") -> tuple[list[str], np.ndarray]:
    """``(utterance ids, z (N, Z))`` of every utterance of ``dump_dir`` (feats.scp), its log-mel
    normalised with the encoder's ``cmvn`` stats, in batches of similar lengths."""
    data = SpeechTextDataset.from_dirs(dump_dir=dump_dir, data_dir=None, cmvn=cmvn)
    loader = loader_factory(data, BucketBatchSampler(data.lengths, batch_size=batch_size, shuffle=False))(0)
    return embed_set(encoder, loader, device)


def speaker_means(utts: list[str], vectors: np.ndarray, speakers: list[str]) -> dict[str, np.ndarray]:
    """Speaker -> L2-normalised mean of its utterances' vectors."""
    means = {}
    for spk in sorted(set(speakers)):
        mean = vectors[[i for i, s in enumerate(speakers) if s == spk]].mean(0)
        means[spk] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return means
