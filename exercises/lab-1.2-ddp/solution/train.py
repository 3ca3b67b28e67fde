"""Lab-1.2, your part of the run: the process group, the sampler, DDP, and averaging gradients.

The reference solution. ddp_run.py (shared) loads the data, trains with DDP (part 1) and again
with ``average_gradients`` (part 2), and writes the artifacts.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import ddp_run  # noqa: E402 - shared: the driver that calls your functions below
import labcommon as lc  # noqa: E402
from ddp_run import on_gpus  # noqa: E402
from ring import ring_all_reduce  # noqa: E402


def init_distributed() -> tuple[int, int]:
    """Join the default process group (gloo on CPU, NCCL when every rank has a GPU); returns
    (rank, world size). torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT: the default
    ``env://`` rendezvous needs no arguments."""
    import torch
    import torch.distributed as dist

    backend = "nccl" if on_gpus() else "gloo"
    dist.init_process_group(backend=backend)
    if backend == "nccl":
        torch.cuda.set_device(lc.dist_env()[2])
    return dist.get_rank(), dist.get_world_size()


def make_sampler(n: int, rank: int, world: int, seed: int) -> Any:
    """A DistributedSampler over ``n`` windows: shuffled with ``seed``, disjoint shards per rank,
    the remainder (< world windows) dropped rather than padded with repeats."""
    from torch.utils.data.distributed import DistributedSampler

    return DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed,
                              drop_last=True)


def wrap_ddp(model: Any) -> Any:
    """The model wrapped in DistributedDataParallel (gradients all-reduced during backward)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    if on_gpus():
        return DDP(model, device_ids=[lc.dist_env()[2]])
    return DDP(model)


def average_gradients(model: Any, world: int) -> None:
    """Average the gradients over all ranks with your ring all-reduce.

    One flat buffer for all gradients, as DDP's buckets do: one ring instead of one per tensor.
    """
    import torch

    grads = [p.grad for p in model.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    ring_all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


if __name__ == "__main__":
    sys.exit(ddp_run.main(sys.modules[__name__]))
