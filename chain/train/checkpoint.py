"""Checkpoints: atomic save, safe loading, latest-complete lookup, RNG states, weights-only init.

An epoch checkpoint ``<exp>/checkpoints/epoch<N>.pt`` is a dict with ``model``,
``optimizer``, ``schedule``, ``scaler``, ``rng``, ``train_state`` and ``options``;
``checkpoints/interrupted.pt`` is the same within the epoch a stop signal interrupted (its
``train_state`` counts the batches done, see chain.train.preempt), removed once that epoch
ends. ``best.pt`` and ``avg<N>.pt`` hold ``model`` plus a little metadata. Every file is
written to a temp name and renamed (``os.replace``), so a file under a final name is
always complete, and everything in it loads with ``torch.load(weights_only=True)``.

Every model is loaded through :func:`load_checkpoint` and :func:`load_weights`: a file that
cannot be used raises :class:`CheckpointError`, one line with the file, what is wrong
(empty, truncated, not a checkpoint, refused as unsafe, does not match the model) and
what to do.
"""
from __future__ import annotations

import logging
import os
import pickle
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from chain.fileio import atomic_write

log = logging.getLogger(__name__)

_EPOCH_RE = re.compile(r"^epoch(\d+)\.pt$")
INTERRUPTED = "interrupted.pt"


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """``torch.save`` to a temp file next to ``path``, then rename it onto ``path``."""
    with atomic_write(path, "wb") as f:
        torch.save(state, f)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line: file, problem, remedy."""


_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
_PICKLE_PROTO = 0x80  # torch.save's legacy format starts with a pickle protocol opcode
_RECOPY = "copy it again or pick another checkpoint"


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint onto the CPU with ``torch.load(weights_only=True)``: tensors and
    plain python values only, so no code in the file runs. A file that cannot be used
    raises :class:`CheckpointError`; a missing one FileNotFoundError."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes, a save or copy that never "
                              f"finished); {_RECOPY}")
    with open(path, "rb") as f:
        head = f.read(len(_ZIP_MAGIC))
    if head != _ZIP_MAGIC and head[0] != _PICKLE_PROTO:
        raise CheckpointError(f"{path}: not a checkpoint (starts with {head!r}, not a file of "
                              "torch.save); give a .pt file written by chain")
    if head == _ZIP_MAGIC and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: truncated ({size} bytes, the end of its archive is "
                              f"missing); {_RECOPY}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err.__context__ or err).splitlines()[0]
        found = re.search(r"GLOBAL (\S+)", reason)
        if found:
            raise CheckpointError(f"{path}: refused as unsafe: loading it would call "
                                  f"{found.group(1)} (only tensors and plain values are loaded); "
                                  "chain never writes such a file: use one from a source you "
                                  "trust") from None
        raise CheckpointError(f"{path}: not a checkpoint ({reason}); give a .pt file written "
                              "by chain") from None
    except (RuntimeError, EOFError, OSError, KeyError, ValueError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f"{path}: damaged ({reason}); {_RECOPY}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a checkpoint (holds a {type(state).__name__}, not "
                              "a dict); give a .pt file written by chain")
    return state


def epoch_checkpoints(ckpt_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of every ``epoch<N>.pt`` in ``ckpt_dir``, by epoch."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in ckpt_dir.iterdir() if (m := _EPOCH_RE.match(p.name))]
    return sorted(found)


def latest_checkpoint(ckpt_dir: str | os.PathLike) -> tuple[Path, dict] | None:
    """The newest epoch checkpoint that loads, as ``(path, state)``; None if there is none."""
    for _, path in reversed(epoch_checkpoints(ckpt_dir)):
        try:
            return path, load_checkpoint(path)
        except CheckpointError as e:  # disk full, killed copy: try the one before
            log.warning("%s; trying the previous epoch", e)
    return None


def resume_checkpoint(ckpt_dir: str | os.PathLike) -> tuple[Path, dict] | None:
    """Where ``--resume`` continues: ``interrupted.pt`` unless it is older than the newest
    ``epoch<N>.pt`` (a stale one, left by a kill between the two writes), else
    :func:`latest_checkpoint`."""
    path = Path(ckpt_dir) / INTERRUPTED
    if path.is_file():
        try:
            state = load_checkpoint(path)
        except CheckpointError as e:  # disk full, killed copy: the epochs are left
            log.warning("%s; resuming from the last epoch", e)
        else:
            done = [epoch for epoch, _ in epoch_checkpoints(ckpt_dir)]
            if not done or state["train_state"]["epoch"] >= done[-1]:
                return path, state
    return latest_checkpoint(ckpt_dir)


def find_checkpoint(exp_dir: str | os.PathLike, checkpoint: str | os.PathLike) -> Path:
    """``checkpoint`` inside ``exp_dir`` (best.pt, avg5.pt, checkpoints/epoch3.pt), or a path
    of its own; a missing file raises FileNotFoundError listing the ones there are."""
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise FileNotFoundError(f"{exp_dir}: no such experiment dir (train one first)")
    for path in (exp_dir / checkpoint, Path(checkpoint)):
        if path.is_file():
            return path
    found = sorted(str(p.relative_to(exp_dir)) for p in
                   [*exp_dir.glob("*.pt"), *exp_dir.glob("checkpoints/epoch*.pt")])
    raise FileNotFoundError(f"{exp_dir / checkpoint}: no such checkpoint (found: "
                            f"{', '.join(found) or 'none; did training finish an epoch?'})")


def rng_state() -> dict:
    """States of the python, numpy and torch (CPU and CUDA) generators."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(),
             "numpy": (kind, keys.tolist(), pos, has_gauss, gauss),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(_to_tuple(state["python"]))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_tuple(x):
    return tuple(_to_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def model_weights(obj: dict, path: str | os.PathLike = "<checkpoint>") -> dict[str, torch.Tensor]:
    """The model state dict inside a checkpoint, a snapshot, or a bare state dict."""
    if isinstance(obj.get("model"), dict):
        return obj["model"]
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    raise CheckpointError(f"{path}: not a model checkpoint (no 'model' entry and not a state "
                          f"dict; keys: {', '.join(map(str, list(obj)[:5]))}); give best.pt, "
                          "avg<N>.pt or checkpoints/epoch<N>.pt of a training run")


INIT_HINT = "use init_strict false to load what matches, or init_prefixes to pick a part"


def load_weights(model: torch.nn.Module, path: str | os.PathLike, *, strict: bool = True,
                 prefixes: tuple[str, ...] = (), target: str = "the model",
                 hint: str = INIT_HINT) -> dict[str, list[str]]:
    """Copy weights from ``path`` into ``model``; nothing else (optimizer, RNG) is touched.

    Every model (ASR, TTS, ...) is loaded through here, for decoding and for ``--init``.
    ``prefixes`` restricts loading to parameter names starting with one of them. With
    ``strict`` every selected model parameter must be in the file with the same shape
    and the file may hold no selected name the model lacks, or CheckpointError names
    ``target`` (e.g. "the model of exp/x/config.yaml") and ends with ``hint``, what to do;
    otherwise what matches is loaded and the rest reported.
    Returns ``{"loaded", "missing", "unexpected", "mismatched"}``.
    """
    source = model_weights(load_checkpoint(path), path)
    select = (lambda k: k.startswith(tuple(prefixes))) if prefixes else (lambda k: True)  # noqa: E731
    target_weights = {k: v for k, v in model.state_dict().items() if select(k)}
    source = {k: v for k, v in source.items() if select(k)}
    report = {"missing": sorted(set(target_weights) - set(source)),
              "unexpected": sorted(set(source) - set(target_weights)),
              "mismatched": sorted(k for k in set(source) & set(target_weights)
                                   if source[k].shape != target_weights[k].shape)}
    report["loaded"] = sorted(set(source) & set(target_weights) - set(report["mismatched"]))
    if not report["loaded"]:
        raise CheckpointError(f"{path}: no parameter matches {target}"
                              + (f" under prefixes {list(prefixes)}" if prefixes else "")
                              + f"; {hint}")
    if strict and report["mismatched"]:
        name = report["mismatched"][0]
        raise CheckpointError(
            f"{path}: shape mismatch with {target} in {len(report['mismatched'])} tensors, e.g. "
            f"{name} {tuple(source[name].shape)} in the file, {tuple(target_weights[name].shape)} "
            f"in the model; {hint}")
    problems = {k: v for k, v in report.items() if k not in ("loaded", "mismatched") and v}
    if strict and problems:
        detail = "; ".join(f"{k} {len(v)} (e.g. {v[0]})" for k, v in problems.items())
        raise CheckpointError(f"{path}: does not match {target}: {detail}; {hint}")
    model.load_state_dict({k: source[k] for k in report["loaded"]}, strict=False)
    log.info("loaded %d tensors from %s%s", len(report["loaded"]), path,
             "".join(f"; {k}: {len(v)}" for k, v in report.items() if k != "loaded" and v))
    return report
