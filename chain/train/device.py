"""Device selection, mixed precision and the distributed hooks of the trainers.

Distributed training (one process per device; see README.md) needs these from the
loops, all here: the model is wrapped in one place (:func:`wrap_model`) or its gradients
averaged by hand (:func:`average_gradients`, for models trained through more methods
than ``forward``), only rank 0 writes files (:func:`is_main`), and every rank takes the
same decisions: skip a non-finite step or stop (:func:`all_ranks_true`), best epoch and
schedule from rank 0's dev statistics (:func:`broadcast_object`). Without
``torch.distributed`` initialised they are the identity, no-ops, True and the local values.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterable

import torch
import torch.distributed as dist

from chain.train.launch import from_environment
from chain.train.options import AMP_MODES

log = logging.getLogger(__name__)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main() -> bool:
    """True on rank 0 (and without torch.distributed): the process that writes files."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def rank_world() -> tuple[int, int]:
    """``(rank, world size)`` of this process; ``(0, 1)`` without torch.distributed."""
    return (dist.get_rank(), dist.get_world_size()) if distributed() else (0, 1)


def select_device(ngpu: int) -> torch.device:
    """CPU for ``ngpu`` 0, this process's GPU for 1 (the one of its local rank on the node)."""
    if ngpu == 0:
        return torch.device("cpu")
    if ngpu != 1:
        raise ValueError(f"--ngpu must be 0 or 1 per process: got {ngpu} (for several GPUs "
                         "start one process per GPU with torchrun --nproc_per_node N)")
    if not torch.cuda.is_available():
        raise RuntimeError("--ngpu 1 but torch sees no CUDA device (torch.cuda.is_available() "
                           "is False): use --ngpu 0 or a GPU node")
    launch = from_environment() if distributed() else None
    index = launch.local_rank % torch.cuda.device_count() if launch is not None else 0
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


def barrier() -> None:
    """Wait until every rank gets here (e.g. rank 0 has written a checkpoint)."""
    if distributed():
        dist.barrier()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` (picklable) on every rank."""
    if not distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def check_same(value: Any, what: str) -> None:
    """Raise ValueError on every rank unless all hold rank 0's ``value`` (``what`` names it)."""
    if not distributed():
        return
    reference = broadcast_object(value)
    if not all_ranks_true(value == reference)[0]:
        raise ValueError(f"{what} differs between the ranks (rank 0: {reference}, rank "
                         f"{dist.get_rank()}: {value} or another rank's): every rank must see "
                         "the same files (a shared file system)")


def average_gradients(params: Iterable[torch.Tensor]) -> None:
    """Replace every gradient by its mean over the ranks, in one all-reduce.

    What DistributedDataParallel does, for models whose loss also comes from methods
    other than ``forward()`` (DDP's hooks follow ``forward()`` only). Call it after
    ``backward()`` and before clipping. A parameter without a gradient on some ranks
    counts as zero there; one without a gradient on every rank keeps None (so Adam skips it,
    as in one process).
    """
    if not distributed():
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    present = torch.tensor([p.grad is not None for p in params], dtype=params[0].dtype,
                           device=params[0].device)
    flat = torch.cat([*(p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel())
                        for p in params), present])
    dist.all_reduce(flat)
    world = dist.get_world_size()
    grads = flat[:-len(params)].split([p.numel() for p in params])
    for p, grad, count in zip(params, grads, flat[-len(params):].tolist()):
        p.grad = (grad / world).view_as(p) if count > 0 else None


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
