"""Frame-level data of the ZeroSpeech recipe: features, unit sequences, linear spectrograms.

A feature dir ``dump/<set>/`` holds ``mfcc.scp``, ``logmel.scp``, ``linear.scp`` (kaldiio,
``(T, D)`` float32 at one frame rate) and ``utt2num_frames``; a unit dir
``exp/.../units_<set>/`` holds ``units.scp`` (``(T / stride, D_u)`` unit vectors) and
``units.yaml`` (``stride``, ``frame_shift`` in seconds, ``distance`` for ABX).
"""
from __future__ import annotations

import os
from pathlib import Path

import kaldiio
import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset

from chain.data.collate import pad_sequences
from chain.data.datadir import DataError, read_kv
from chain.data.sampler import BucketBatchSampler
from chain.feats.cmvn import apply_cmvn, load_cmvn
from chain.fileio import atomic_write

UNITS_META = "units.yaml"


class FramesDataset(Dataset):
    """Items ``{"utt_id", "feats" (T, D), "units" (T_z, D_u), "linear" (T, F), "spk_id"}``.

    Keys appear when their source is given: ``feats_scp`` (CMVN-normalised with ``cmvn``),
    ``units_scp``, ``linear_scp`` (with ``linear_cmvn``), ``utt2spk`` + ``spk2id``. The
    utterances are those of ``num_frames`` (``utt2num_frames``: the batching lengths); every
    other file must have them all.
    """

    def __init__(self, num_frames: str | os.PathLike, *, feats_scp=None, units_scp=None, linear_scp=None,
                 utt2spk=None, spk2id: dict[str, int] | None = None, cmvn=None, linear_cmvn=None) -> None:
        frames = read_kv(num_frames)
        self.keys = list(frames)
        self.lengths = [int(frames[k]) for k in self.keys]
        self._tables = {}
        for name, path in (("feats", feats_scp), ("units", units_scp), ("linear", linear_scp), ("spk", utt2spk)):
            if path is None:
                continue
            table = read_kv(path)
            missing = [k for k in self.keys if k not in table]
            if missing:
                raise DataError(path, f"no entry for {len(missing)} utterances of {num_frames}, "
                                f"e.g. '{missing[0]}'")
            self._tables[name] = table
        if "spk" in self._tables:
            if spk2id is None:
                spk2id = {s: i for i, s in enumerate(sorted(set(self._tables["spk"].values())))}
            unknown = sorted(set(self._tables["spk"][k] for k in self.keys) - set(spk2id))
            if unknown:
                raise DataError(utt2spk, f"speakers unknown to the model: {', '.join(unknown[:5])}")
        self.spk2id = spk2id
        self.cmvn = load_cmvn(cmvn) if isinstance(cmvn, (str, os.PathLike)) else cmvn
        self.linear_cmvn = load_cmvn(linear_cmvn) if isinstance(linear_cmvn, (str, os.PathLike)) else linear_cmvn

    def __len__(self) -> int:
        return len(self.keys)

    def dim(self, name: str) -> int:
        """Width of the ``feats``, ``units`` or ``linear`` matrices (reads the first one)."""
        return int(kaldiio.load_mat(self._tables[name][self.keys[0]]).shape[1])

    def __getitem__(self, i: int) -> dict:
        key = self.keys[i]
        item: dict = {"utt_id": key}
        for name, stats in (("feats", self.cmvn), ("units", None), ("linear", self.linear_cmvn)):
            if name in self._tables:
                mat = np.asarray(kaldiio.load_mat(self._tables[name][key]), np.float32)
                item[name] = torch.from_numpy(apply_cmvn(mat, stats) if stats is not None else mat)
        if "spk" in self._tables:
            item["spk_id"] = self.spk2id[self._tables["spk"][key]]
        return item


def collate_frames(items: list[dict]) -> dict:
    """Pad items of :class:`FramesDataset`: ``feats``/``units``/``linear (B, T, .)`` with
    ``<name>_lengths (B,)`` (``feat_lengths`` for feats), ``spk_ids (B,)``, ``utt_ids``."""
    batch: dict = {"utt_ids": [it["utt_id"] for it in items]}
    for name, lengths in (("feats", "feat_lengths"), ("units", "unit_lengths"), ("linear", "linear_lengths")):
        if name in items[0]:
            batch[name], batch[lengths] = pad_sequences([it[name] for it in items], 0.0)
    if "spk_id" in items[0]:
        batch["spk_ids"] = torch.tensor([it["spk_id"] for it in items], dtype=torch.int64)
    return batch


def add_batch_arguments(group) -> None:
    """``--exp-dir`` and the batching options of the training entry points."""
    group.add_argument("--exp-dir", required=True, help="where checkpoints and logs go")
    group.add_argument("--batch-size", type=int, default=16, help="utterances per batch")
    group.add_argument("--max-frames", type=int, default=0, help="frames per batch, padding included (0: off)")
    group.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")


def frame_loaders(train_set: FramesDataset, dev_set: FramesDataset | None, *, batch_size: int,
                  max_frames: int = 0, seed: int = 1, num_workers: int = 0):
    """``(epoch -> training loader, dev loader)`` over length-bucketed batches."""
    limits = dict(batch_size=batch_size, max_frames=max_frames)
    train_sampler = BucketBatchSampler(train_set.lengths, shuffle=True, seed=seed, **limits)
    train_loader = DataLoader(train_set, batch_sampler=train_sampler, collate_fn=collate_frames,
                              num_workers=num_workers, persistent_workers=num_workers > 0)

    def for_epoch(epoch: int) -> DataLoader:
        train_sampler.set_epoch(epoch)
        return train_loader

    dev_loader = None if dev_set is None else DataLoader(
        dev_set, batch_sampler=BucketBatchSampler(dev_set.lengths, shuffle=False, **limits),
        collate_fn=collate_frames)
    return for_epoch, dev_loader


def write_units_meta(unit_dir: str | os.PathLike, *, stride: int, frame_shift: float, distance: str,
                     **extra) -> None:
    with atomic_write(Path(unit_dir) / UNITS_META) as f:
        yaml.safe_dump({"stride": stride, "frame_shift": frame_shift, "distance": distance, **extra}, f)


def read_units_meta(unit_dir: str | os.PathLike) -> dict:
    path = Path(unit_dir) / UNITS_META
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {unit_dir} a unit dir written by "
                                "vq_encode or zs_baseline?)")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def read_units(unit_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """``utt -> (T_z, D_u)`` of every utterance of ``unit_dir/units.scp``."""
    return {k: np.asarray(v) for k, v in kaldiio.load_scp_sequential(str(Path(unit_dir) / "units.scp"))}


def write_units(unit_dir: str | os.PathLike, units: dict[str, np.ndarray]) -> None:
    """Write ``units.ark``/``units.scp`` (scp renamed into place last)."""
    unit_dir = Path(unit_dir)
    unit_dir.mkdir(parents=True, exist_ok=True)
    tmp = unit_dir / ".units.scp.tmp"
    with kaldiio.WriteHelper(f"ark,scp:{unit_dir / 'units.ark'},{tmp}") as writer:
        for key in sorted(units):
            writer(key, np.asarray(units[key], np.float32))
    tmp.replace(unit_dir / "units.scp")
