"""Lab-1.6, your part of the run (reference solution): the whole-model conversion.

Run:  python -I train.py --out OUTDIR --data DATADIR --seed 0   (gqa_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import gqa_run  # noqa: E402 - shared: the run that calls your functions


def convert(model: Any, groups: int, seed: int) -> Any:
    """The same model with every attention layer converted by your mha_to_gqa."""
    import gqa
    import tiny_lm

    new = tiny_lm.build(gqa_run.CONFIG, seed, gqa.GQAttention, kv_heads=groups)
    state = {k: v for k, v in model.state_dict().items() if ".attn." not in k}
    missing = new.load_state_dict(state, strict=False).missing_keys
    assert all(".attn." in k for k in missing), missing
    for block, old in zip(new.blocks, model.blocks, strict=True):
        block.attn = gqa.mha_to_gqa(old.attn, groups)
    new.eval()
    return new


if __name__ == "__main__":
    sys.exit(gqa_run.main(sys.modules[__name__]))
