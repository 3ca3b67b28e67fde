"""Lab-1.5, your part of the bench (reference solution): the saved-bytes counter.

Run:  python -I bench.py --out OUTDIR --seed 0   (flash_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import flash_run  # noqa: E402 - shared: the bench that calls your functions


def saved_bytes(fn: Any, *args: Any, **kwargs: Any) -> int:
    """Bytes autograd saves for backward while ``fn(*args, **kwargs)`` runs.

    Each saved tensor passes through the pack hook of ``torch.autograd.graph.saved_tensors_hooks``;
    count the bytes of its storage, each distinct storage once (a tensor saved twice, or a view of
    an input, costs nothing extra).
    """
    import torch

    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args, **kwargs)
    del out
    return sum(seen.values())


if __name__ == "__main__":
    sys.exit(flash_run.main(sys.modules[__name__]))
