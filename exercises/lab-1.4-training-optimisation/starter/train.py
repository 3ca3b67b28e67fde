"""Lab-1.4, your part of the run: what the accumulation row of the memory table measures.

Run:  python -I train.py --out OUTDIR --data DATADIR --seed 0   (optim_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import optim_run  # noqa: E402 - shared: the measurements that call your functions


def accumulation_activation_bytes(model: Any, ids: Any) -> int:
    """Saved-activation bytes of one step of the accumulation configuration (batch ``ids``)."""
    # TODO: with accumulation, how many sequences' activations are alive at once? Measure
    #       the saved bytes of that forward pass instead of the whole batch's.
    return optim_run.saved_bytes(lambda: optim_run.lm_loss(model, ids))


if __name__ == "__main__":
    sys.exit(optim_run.main(sys.modules[__name__]))
