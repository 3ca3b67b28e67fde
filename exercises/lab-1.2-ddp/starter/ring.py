"""Your ring all-reduce: reduce-scatter, then all-gather, with point-to-point send/recv only.

Patarasuk & Yuan 2009 ("Bandwidth optimal all-reduce algorithms for clusters of workstations") and
Thakur et al. 2005 ("Optimization of collective communication operations in MPICH"): the buffer is
cut into p chunks; in p - 1 reduce-scatter steps every rank sends one chunk to its right neighbour
and adds the chunk it receives from its left one, after which rank r holds the complete sum of
chunk (r + 1) mod p; p - 1 all-gather steps then pass the finished chunks round the ring. Each rank
sends 2(p - 1) chunks of M/p bytes: 2(p - 1)/p · M in total, nearly independent of p.

The grader imports this module and calls ``ring_all_reduce`` itself, on tensors of awkward sizes
(not divisible by the world size, one element, empty), with ``dist.all_reduce`` and the other
collectives made unavailable, and counts the bytes each rank sends.
"""

from __future__ import annotations

from typing import Any


def ring_all_reduce(tensor: Any) -> Any:
    """Sum ``tensor`` over all ranks of the default process group, in place; returns it.

    Every rank calls it with a tensor of the same shape and dtype (any size, 0 and 1 included).
    """
    import torch  # noqa: F401
    import torch.distributed as dist  # noqa: F401

    # TODO: with world = dist.get_world_size() and rank = dist.get_rank():
    #  - nothing to do when world == 1 or the tensor is empty;
    #  - cut the flat tensor into `world` chunks (torch.tensor_split: sizes differ by at most one,
    #    some are empty when numel < world); right = (rank + 1) % world, left = (rank - 1) % world;
    #  - reduce-scatter, world - 1 steps: send chunk (rank - s) % world to the right, receive chunk
    #    (rank - s - 1) % world from the left and add it in;
    #  - all-gather, world - 1 steps: send chunk (rank + 1 - s) % world, receive chunk
    #    (rank - s) % world and copy it in.
    # Use only dist.isend / dist.irecv (start both, then wait): dist.all_reduce and the other
    # collectives are unavailable when the grader calls your function. Skip empty chunks on both
    # ends. The result must land in `tensor` itself.
    raise NotImplementedError("ring_all_reduce")
