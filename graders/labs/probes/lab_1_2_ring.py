"""Lab-1.2 probe: the learner's own ``ring_all_reduce`` on awkward tensors, bytes counted.

Runs inside the sandbox under the lab's launcher with several ranks (lab.yaml ``probes[].ranks``;
more than two, so that a ring and "send everything to everyone" send different amounts), with
``dist.all_reduce`` and the other collectives blocked (graders/labs/probes/_bootstrap.py):

    torchrun --nproc-per-node P _bootstrap.py --block torch.distributed.all_reduce,... \
        --probe lab_1_2_ring.py -- --submission RUN_DIR --out OUT --seed S

Every rank draws its own inputs from the grading-time seed S (``draw``): an empty tensor, one
element, sizes not divisible by P, a size divisible by P, a non-contiguous 2-D view and a float64
tensor. Before the learner's ring.py is imported, ``dist.send``/``isend`` (and ``recv``/``irecv``)
are wrapped so that the bytes each rank hands to them are counted per case. Rank r writes
``rank<r>.safetensors`` (its results ``case<i>`` and ``bytes_sent``, int64 per case); rank 0
writes ``result.json`` once every rank is through (a barrier). The checker rebuilds every rank's
inputs with ``draw`` outside the sandbox, sums them and compares; a ring sends 2(p − 1)/p · M bytes
per rank (Patarasuk & Yuan 2009; Thakur et al. 2005).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

SEND_FUNCS = ("send", "isend")
"""Point-to-point sends whose bytes are counted."""


def shapes(seed: int, world: int) -> list[tuple[tuple[int, ...], str, bool]]:
    """(shape, dtype, transposed view?) of every case, the same on every rank."""
    import torch

    g = torch.Generator().manual_seed(int(seed) % (2**63))
    odd = int(torch.randint(3, 40, (1,), generator=g)) * world + int(
        torch.randint(1, world, (1,), generator=g))  # not divisible by world
    even = int(torch.randint(20, 200, (1,), generator=g)) * world  # divisible
    big = int(torch.randint(2000, 5000, (1,), generator=g)) * world + world - 1
    rows, cols = int(torch.randint(3, 9, (1,), generator=g)), int(torch.randint(3, 9, (1,), generator=g))
    return [((0,), "float32", False), ((1,), "float32", False), ((odd,), "float32", False),
            ((even,), "float32", False), ((big,), "float32", False),
            ((rows, cols), "float32", True), ((odd,), "float64", False)]


def draw(seed: int, rank: int, world: int) -> list[Any]:
    """Rank ``rank``'s input tensors (contiguous; the probe transposes where a case says so)."""
    import torch

    out = []
    g = torch.Generator().manual_seed((int(seed) * 1009 + rank + 1) % (2**63))
    for shape, dtype, transposed in shapes(seed, world):
        t = torch.randn(*shape, generator=g, dtype=getattr(torch, dtype))
        out.append(t.t().contiguous() if transposed else t)
    return out


def _wrap_sends(counter: dict[str, int]) -> None:
    """Count the bytes given to dist.send / dist.isend (every module attribute bound to them).

    Counted once per outermost call: torch's blocking ``send`` is itself built on ``isend``
    (torch 2.13), and the wrapper replaces that inner reference too.
    """
    import torch.distributed as dist

    depth = {"n": 0}
    for name in SEND_FUNCS:
        original = getattr(dist, name)

        def counting(tensor: Any, *args: Any, _orig: Any = original, **kwargs: Any) -> Any:
            if depth["n"] == 0:
                counter["bytes"] += int(tensor.numel()) * int(tensor.element_size())
            depth["n"] += 1
            try:
                return _orig(tensor, *args, **kwargs)
            finally:
                depth["n"] -= 1

        for m in list(sys.modules.values()):
            d = getattr(m, "__dict__", None)
            if isinstance(d, dict):
                for key, value in list(d.items()):
                    if value is original:
                        setattr(m, key, counting)


def run(submission: Path, out: Path, seed: int) -> dict[str, Any]:
    """Call the learner's ring on every case; write this rank's outputs."""
    import torch
    import torch.distributed as dist
    from safetensors.torch import save_file

    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    counter = {"bytes": 0}
    _wrap_sends(counter)
    sys.path.insert(0, str(submission))
    import ring  # the learner's file, imported after the wrappers are in place

    results: dict[str, Any] = {}
    sent: list[int] = []
    for i, ((_, _, transposed), x) in enumerate(zip(shapes(seed, world), draw(seed, rank, world),
                                                    strict=True)):
        t = x.t() if transposed else x.clone()  # the transposed case hands in a non-contiguous view
        counter["bytes"] = 0
        ret = ring.ring_all_reduce(t)
        if ret is not None and ret is not t and torch.is_tensor(ret):
            t = ret  # a returned result counts as well as an in-place one
        results[f"case{i}"] = (t.t() if transposed else t).detach().contiguous().clone()
        sent.append(counter["bytes"])
    results["bytes_sent"] = torch.tensor(sent, dtype=torch.int64)
    save_file(results, str(out / f"rank{rank}.safetensors"))
    dist.barrier()  # every rank has written its file
    return {"world": world, "cases": len(sent)}


def main() -> None:
    """Probe entry (arguments as in the module docstring)."""
    p = argparse.ArgumentParser()
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import labcommon  # the grader's copy (loaded by the bootstrap)

    rank = int(os.environ.get("RANK", "0"))
    try:
        result = run(args.submission, args.out, args.seed)
    except Exception as exc:  # noqa: BLE001 - the learner's code raised: the submission's failure
        # any rank may fail; its message wins (the other ranks are killed by the launcher)
        result = {"error": f"rank {rank}: {type(exc).__name__}: {str(exc)[:300]}".splitlines()[0]}
        labcommon.write_json(args.out / "result.json", result)
        raise SystemExit(1) from None
    if rank == 0:
        labcommon.write_json(args.out / "result.json", result)


if __name__ == "__main__":
    main()
