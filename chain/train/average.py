"""Average the model weights of several checkpoints (ESPnet's ``avg<N>`` snapshot)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch

from chain.train.checkpoint import epoch_checkpoints, load_checkpoint, model_weights, save_checkpoint


def average_checkpoints(paths: Sequence[str | os.PathLike]) -> dict[str, torch.Tensor]:
    """Element-wise mean of the floating-point weights in ``paths`` (summed in float64).

    Integer tensors (e.g. BatchNorm's ``num_batches_tracked``) are taken from the last file.
    Files are read one at a time, so memory holds two state dicts at most.
    """
    if not paths:
        raise ValueError("no checkpoints to average")
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    first = None
    for path in paths:
        weights = model_weights(load_checkpoint(path), path)
        if first is None:
            first = path
            dtypes = {k: v.dtype for k, v in weights.items()}
            total = {k: v.double() if v.is_floating_point() else v.clone() for k, v in weights.items()}
            continue
        if set(weights) != set(total):
            diff = sorted(set(weights) ^ set(total))
            raise ValueError(f"{path}: parameters differ from {first} (e.g. '{diff[0]}'): "
                             "checkpoints of different models cannot be averaged")
        for k, v in weights.items():
            if v.is_floating_point():
                total[k] += v.double()
            else:
                total[k] = v.clone()
    return {k: (v / len(paths)).to(dtypes[k]) if dtypes[k].is_floating_point else v
            for k, v in total.items()}


def average_last(ckpt_dir: str | os.PathLike, n: int, out_path: str | os.PathLike) -> list[int]:
    """Write the mean weights of the last ``n`` ``epoch<N>.pt`` of ``ckpt_dir`` to ``out_path``.

    Fewer than ``n`` checkpoints: averages those there are. Returns the epochs averaged
    (also stored in the file as ``epochs``).
    """
    found = epoch_checkpoints(ckpt_dir)[-n:]
    if not found:
        raise ValueError(f"{ckpt_dir}: no epoch<N>.pt to average (train first)")
    epochs = [e for e, _ in found]
    weights = average_checkpoints([p for _, p in found])
    save_checkpoint(Path(out_path), {"model": weights, "epochs": epochs})
    return epochs
