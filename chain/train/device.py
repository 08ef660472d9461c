"""Device selection, mixed precision and the distributed hooks of the trainer.

Distributed training (one process per device, DESIGN.md section 6) needs three things
from the loop, all here: the model is wrapped in one place (:func:`wrap_model`), only
rank 0 writes files (:func:`is_main`), and every rank takes the same skip decision for a
non-finite step (:func:`all_ranks_true`). Without ``torch.distributed`` initialised they
are the identity, True and the local flags.
"""
from __future__ import annotations

import contextlib
import logging

import torch
import torch.distributed as dist

from chain.train.options import AMP_MODES

log = logging.getLogger(__name__)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main() -> bool:
    """True on rank 0 (and without torch.distributed): the process that writes files."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def select_device(ngpu: int) -> torch.device:
    """CPU for ``ngpu`` 0, this process's GPU for 1 (``LOCAL_RANK``'s under torchrun)."""
    if ngpu == 0:
        return torch.device("cpu")
    if ngpu != 1:
        raise ValueError(f"--ngpu must be 0 or 1 per process: got {ngpu} (for several GPUs "
                         "start one process per GPU with torchrun --nproc_per_node N)")
    if not torch.cuda.is_available():
        raise RuntimeError("--ngpu 1 but torch sees no CUDA device (torch.cuda.is_available() "
                           "is False): use --ngpu 0 or a GPU node")
    index = dist.get_rank() % torch.cuda.device_count() if distributed() else 0
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def wrap_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The module the loop calls: DistributedDataParallel when distributed, else ``model``."""
    if not distributed():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_ranks_true(*flags: bool, device: torch.device | None = None) -> tuple[bool, ...]:
    """Each flag AND-ed over all ranks (a step is skipped everywhere or nowhere)."""
    if not distributed():
        return tuple(bool(f) for f in flags)
    t = torch.tensor([float(bool(f)) for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return tuple(bool(v) for v in t.tolist())


def check_amp(amp: str, device: torch.device) -> str:
    """The AMP mode in effect: ``amp`` on GPU, ``none`` on CPU (with a note)."""
    if amp not in AMP_MODES:
        raise ValueError(f"--amp must be one of {', '.join(AMP_MODES)}: got '{amp}'")
    if amp != "none" and device.type != "cuda":
        log.info("--amp %s ignored on %s: training in float32", amp, device.type)
        return "none"
    return amp


def autocast(device: torch.device, amp: str):
    """``torch.autocast`` in bf16/fp16 for ``amp`` (after :func:`check_amp`), else a no-op."""
    if amp == "none":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_scaler(device: torch.device, amp: str) -> torch.amp.GradScaler | None:
    """A gradient scaler for fp16 (its small range needs loss scaling); None otherwise."""
    return torch.amp.GradScaler(device.type) if amp == "fp16" else None
