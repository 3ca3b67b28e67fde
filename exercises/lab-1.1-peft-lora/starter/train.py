"""Lab-1.1, your part of the run: the peft and bitsandbytes configs and the 4-bit byte count.

Run:  python -I train.py --out OUTDIR --data DATADIR --seed 0   (peft_run.py does the rest)
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import peft_run  # noqa: E402 - shared: the training loop that calls your functions below
from peft_run import LORA_ALPHA, LORA_R, TARGET_MODULES  # noqa: E402


def make_lora_config() -> Any:
    """The peft LoraConfig: rank, alpha, target modules, no dropout, causal-LM task."""
    from peft import LoraConfig  # noqa: F401

    # TODO: rank LORA_R, alpha LORA_ALPHA, every module in TARGET_MODULES, no dropout,
    # no bias training, task type for a causal LM
    raise NotImplementedError("make_lora_config")


def make_bnb_config() -> Any:
    """4-bit NF4 quantisation of the frozen base (no double quantisation), compute in float32."""
    import torch  # noqa: F401
    from transformers import BitsAndBytesConfig  # noqa: F401

    # TODO: load in 4 bit, NF4 quantisation type, no double quantisation, float32 compute dtype
    raise NotImplementedError("make_bnb_config")


def quantized_bytes(model: Any) -> dict[str, Any]:
    """Bytes of every 4-bit linear weight (packed values + block scales) against float32."""
    import bitsandbytes as bnb  # noqa: F401

    layers: dict[str, Any] = {}
    # TODO: for every bnb.nn.Linear4bit in the model, count the bytes of its packed 4-bit weight
    # (module.weight) plus its block scales (module.weight.quant_state.absmax, and
    # quant_state.state2.absmax when quant_state.nested), and the bytes the same d x k matrix
    # takes in float32. Key the layers by module name without the "base_model.model." prefix:
    #   layers[name] = {"shape": [d, k], "nf4_bytes": ..., "fp32_bytes": ...}
    nf4 = sum(v["nf4_bytes"] for v in layers.values())
    fp32 = sum(v["fp32_bytes"] for v in layers.values())
    return {"layers": layers, "nf4_bytes": nf4, "fp32_bytes": fp32, "ratio": fp32 / max(nf4, 1)}


if __name__ == "__main__":
    sys.exit(peft_run.main(sys.modules[__name__]))
