"""Lab-1.2, your part of the run: the process group, the sampler, DDP, and averaging gradients.

Run (two ranks; the lab runner starts them for you):
    torchrun --nproc_per_node 2 train.py --out OUTDIR --data DATADIR --seed 0
ddp_run.py (shared) loads the data, trains with DDP (part 1) and again with your
``average_gradients`` (part 2), and writes the artifacts. Replace every TODO below: the driver,
the checks and the ring probe call these functions and ring.py by name.
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
    import torch  # noqa: F401
    import torch.distributed as dist  # noqa: F401

    # TODO: choose the backend ("nccl" when on_gpus(), else "gloo"), call
    # dist.init_process_group with it, on NCCL pin this process to its GPU
    # (torch.cuda.set_device(local rank), lc.dist_env() gives it), and return
    # (dist.get_rank(), dist.get_world_size()).
    raise NotImplementedError("init_distributed")


def make_sampler(n: int, rank: int, world: int, seed: int) -> Any:
    """A DistributedSampler over ``n`` windows: shuffled with ``seed``, disjoint shards per rank,
    the remainder (< world windows) dropped rather than padded with repeats."""
    from torch.utils.data.distributed import DistributedSampler  # noqa: F401

    # TODO: a DistributedSampler over range(n) for this rank: shuffled with the seed, and
    # drop_last=True so that no rank repeats a window to even out the shards.
    raise NotImplementedError("make_sampler")


def wrap_ddp(model: Any) -> Any:
    """The model wrapped in DistributedDataParallel (gradients all-reduced during backward)."""
    from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: F401

    # TODO: wrap the model in DDP (on a GPU also pass device_ids=[local rank]).
    raise NotImplementedError("wrap_ddp")


def average_gradients(model: Any, world: int) -> None:
    """Average the gradients over all ranks with your ring all-reduce.

    One flat buffer for all gradients, as DDP's buckets do: one ring instead of one per tensor.
    """
    import torch  # noqa: F401

    # TODO: concatenate every p.grad into one flat tensor, sum it over the ranks with
    # ring_all_reduce, divide by the world size and copy the slices back into the p.grad tensors.
    raise NotImplementedError("average_gradients")


if __name__ == "__main__":
    sys.exit(ddp_run.main(sys.modules[__name__]))
