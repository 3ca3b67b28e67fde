"""Probe of the ranks fixture lab (tests/fixtures/ranks_lab): the learner's ``total(value)`` on
every rank, with values drawn from the grading-time seed and ``dist.all_reduce`` blocked.

Runs under the lab's launcher with 2 ranks (lab.yaml ``probes[].ranks``); rank 0 writes
``result.json`` with every rank's answer. The checker recomputes the sum from ``draw``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def draw(seed: int, world: int) -> list[float]:
    """The value each rank contributes (integers, so the sum is exact in float32)."""
    import random

    rng = random.Random(seed)
    return [float(rng.randint(-1000, 1000)) for _ in range(world)]


def main() -> None:
    """Probe entry: ``--submission DIR --out DIR --seed S`` (one process per rank)."""
    p = argparse.ArgumentParser()
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    import labcommon  # the grader's copy (loaded by the bootstrap)
    import torch.distributed as dist

    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    sys.path.insert(0, str(args.submission))
    try:
        import train  # the learner's file

        got = float(train.total(draw(args.seed, world)[rank]))
    except Exception as exc:  # noqa: BLE001 - the learner's code raised: the submission's failure
        got = float("nan")
        if rank == 0:
            labcommon.write_json(args.out / "result.json",
                                 {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]})
    answers = [None] * world
    dist.all_gather_object(answers, got)
    if rank == 0 and not (args.out / "result.json").exists():
        labcommon.write_json(args.out / "result.json",
                             {"world": world, "totals": [a if a == a else None for a in answers]})
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
