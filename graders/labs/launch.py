"""The command line that starts a lab's entry (or a probe) with one or many ranks.

One place for the runner (``tutor lab run/check``), ``tutor dev check`` and the grader, so every
front end starts a lab the same way:

- 1 rank: ``python -I <entry> <args>``;
- ``torchrun`` / ``deepspeed``: ``python -I -m torch.distributed.run --standalone --nnodes 1
  --nproc-per-node N --max-restarts 0 --tee 3 --log-dir logs <entry> <args>`` (c10d rendezvous on
  a free loopback port; torchrun stops every rank when one fails). deepspeed's own launcher needs
  ``hostfile``/ssh or CUDA to start ranks, so deepspeed labs use torchrun's line and call
  ``deepspeed.init_distributed(dist_backend="gloo")`` (docs/labs.md);
- ``spawn``: the grader's stdlib launcher (graders/labs/ranks.py, copied next to the entry as
  ``RANKS_SCRIPT``).

Every rank's output goes to ``logs/`` of the run directory and, rank-prefixed, to the run's log.
"""

from __future__ import annotations

import re
from pathlib import Path

from graders.labs.spec import LabSpec

RANKS_SCRIPT = "_lab_ranks.py"
"""Name of the spawn launcher's copy in the run directory (grader-owned, like the common files)."""
RANKS_SOURCE = Path(__file__).resolve().parent / "ranks.py"
"""The spawn launcher shipped with the grader."""
LOG_DIR = "logs"
"""Per-rank logs, relative to the run directory."""

_RANK_PREFIX = re.compile(r"^\[(?:default0|rank ?0)\]:? ?")
"""torchrun --tee writes ``[default0]:`` before rank 0's lines; the spawn launcher does not."""


def launch_argv(spec: LabSpec, python: str, script: str, args: list[str], *,
                ranks: int | None = None) -> list[str]:
    """The argv that runs ``script args`` with ``ranks`` (default: the lab's) processes."""
    n = spec.ranks if ranks is None else ranks
    if n <= 1:
        return [python, "-I", script, *args]
    if spec.launcher == "spawn":
        return [python, "-I", RANKS_SCRIPT, "--nproc", str(n), "--log-dir", LOG_DIR, "--",
                python, "-I", script, *args]
    # torchrun, and deepspeed on CPU (see the module docstring)
    return [python, "-I", "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
            "--nproc-per-node", str(n), "--max-restarts", "0", "--monitor-interval", "0.2",
            "--tee", "3", "--log-dir", LOG_DIR, script, *args]


def launcher_files(spec: LabSpec, ranks: int | None = None) -> dict[str, Path]:
    """Grader-owned files the launch needs in the run directory: ``{name: source}``."""
    n = max([spec.ranks if ranks is None else ranks, *(p.ranks for p in spec.probes)])
    if n > 1 and spec.launcher == "spawn":
        return {RANKS_SCRIPT: RANKS_SOURCE}
    return {}


def rank0_line(line: str) -> str:
    """A stdout line with torchrun's rank-0 prefix removed (progress events stay parseable)."""
    return _RANK_PREFIX.sub("", line, count=1)
