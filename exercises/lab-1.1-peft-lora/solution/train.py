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
    from peft import LoraConfig

    return LoraConfig(
        r=LORA_R, lora_alpha=LORA_ALPHA, target_modules=TARGET_MODULES, lora_dropout=0.0,
        bias="none", task_type="CAUSAL_LM",
    )


def make_bnb_config() -> Any:
    """4-bit NF4 quantisation of the frozen base (no double quantisation), compute in float32."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=False,
        bnb_4bit_compute_dtype=torch.float32,
    )


def quantized_bytes(model: Any) -> dict[str, Any]:
    """Bytes of every 4-bit linear weight (packed values + block scales) against float32."""
    import bitsandbytes as bnb

    layers: dict[str, Any] = {}
    for name, module in model.named_modules():
        if isinstance(module, bnb.nn.Linear4bit):
            w = module.weight
            packed = w.numel() * w.element_size()
            qs = w.quant_state
            scales = qs.absmax.numel() * qs.absmax.element_size()
            if qs.nested:
                scales += qs.state2.absmax.numel() * qs.state2.absmax.element_size()
            d, k = module.out_features, module.in_features
            layers[name.removeprefix("base_model.model.")] = {
                "shape": [d, k], "nf4_bytes": packed + scales, "fp32_bytes": d * k * 4,
            }
    nf4 = sum(v["nf4_bytes"] for v in layers.values())
    fp32 = sum(v["fp32_bytes"] for v in layers.values())
    return {"layers": layers, "nf4_bytes": nf4, "fp32_bytes": fp32, "ratio": fp32 / max(nf4, 1)}


if __name__ == "__main__":
    sys.exit(peft_run.main(sys.modules[__name__]))
