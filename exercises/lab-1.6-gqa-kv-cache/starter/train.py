"""Lab-1.6, your part of the run: convert the whole multi-head model to GQA / MQA.

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
    # TODO: build the GQA model
    #       (tiny_lm.build(gqa_run.CONFIG, seed, gqa.GQAttention, kv_heads=groups)), load every weight of `model` that is not an attention weight (".attn." not in the
    #       key; load_state_dict(..., strict=False)), replace each block's attn with
    #       gqa.mha_to_gqa(old_block.attn, groups), and return it in eval mode.
    raise NotImplementedError("TODO: convert the whole model")


if __name__ == "__main__":
    sys.exit(gqa_run.main(sys.modules[__name__]))
