"""Rank and world size from the launcher, and the process group.

One process per device, started by ``torchrun`` locally or by ``srun`` under Slurm.
torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``.
srun sets ``SLURM_PROCID``, ``SLURM_LOCALID`` and ``SLURM_STEP_NUM_TASKS`` in each task of a
step; the batch script itself has no ``SLURM_STEP_NUM_TASKS``, so Python run there without
srun stays a single process even in a job of several tasks. Under srun the rendezvous is
``MASTER_ADDR`` (default: the first node of the step) and ``MASTER_PORT`` (default:
20000 + job id mod 20000, so that concurrent jobs on a node differ).
The training entry points run inside :func:`process_group`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator, Mapping

import torch.distributed as dist

BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


@dataclass(frozen=True)
class Launch:
    """Where this process sits in a distributed run."""

    rank: int
    world_size: int
    local_rank: int  # rank among the processes of this node (its GPU index)
    master_addr: str
    master_port: int


def first_node(nodelist: str) -> str:
    """The first host of a Slurm node list such as ``gpu[01-04],cpu7`` (through scontrol)."""
    if not any(c in nodelist for c in "[],"):
        return nodelist
    hosts = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True,
                           text=True, check=True).stdout.split()
    return hosts[0]


def from_environment(env: Mapping[str, str] = os.environ) -> Launch | None:
    """The launch that ``env`` describes: torchrun's variables, else srun's; None for one process."""
    env = dict(env)
    if "WORLD_SIZE" in env:
        names = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    elif "SLURM_STEP_NUM_TASKS" in env:
        names = ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "MASTER_ADDR", "MASTER_PORT")
        if "MASTER_ADDR" not in env and "SLURM_STEP_NODELIST" in env:
            env["MASTER_ADDR"] = first_node(env["SLURM_STEP_NODELIST"])
        if "MASTER_PORT" not in env and "SLURM_JOB_ID" in env:
            env["MASTER_PORT"] = str(20000 + int(env["SLURM_JOB_ID"]) % 20000)
    else:
        return None
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise RuntimeError(f"{names[1]} is set but not {', '.join(missing)}: start the processes with "
                           "torchrun or srun, or set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT")
    rank, world_size, local_rank, addr, port = (env[name] for name in names)
    return Launch(int(rank), int(world_size), int(local_rank), addr, int(port))


def init_distributed(device_type: str, timeout_s: float = 600.0) -> Launch | None:
    """Join the process group of :func:`from_environment` (gloo on CPU, NCCL on GPU).

    Returns the launch, or None (and initialises nothing) for a single process.
    """
    if device_type not in BACKENDS:
        raise ValueError(f"device type must be one of {', '.join(BACKENDS)}: got '{device_type}'")
    launch = from_environment()
    if launch is None or launch.world_size == 1:
        return None
    dist.init_process_group(BACKENDS[device_type], rank=launch.rank, world_size=launch.world_size,
                            init_method=f"tcp://{launch.master_addr}:{launch.master_port}",
                            timeout=timedelta(seconds=timeout_s))
    return launch


@contextlib.contextmanager
def process_group(ngpu: int) -> Iterator[Launch | None]:
    """Join the process group of a training run (``ngpu`` 0: gloo, else NCCL) and leave it on exit
    (after a barrier when the block ends normally, so that no rank tears its connections
    down while another still uses them).

    Ranks other than 0 show warnings and errors only on stderr (rank 0 logs for all).
    Yields the launch, or None for a single process.
    """
    launch = init_distributed("cuda" if ngpu > 0 else "cpu")
    quiet = [h for h in logging.getLogger().handlers if launch is not None and launch.rank != 0]
    levels = [h.level for h in quiet]
    for handler in quiet:
        handler.setLevel(logging.WARNING)
    try:
        yield launch
        if launch is not None:
            dist.barrier()
    finally:
        for handler, level in zip(quiet, levels):
            handler.setLevel(level)
        if launch is not None:
            dist.destroy_process_group()
