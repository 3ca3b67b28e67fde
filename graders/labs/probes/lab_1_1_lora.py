"""Lab-1.1 probe: the learner's own ``LoRALinear`` and ``lora_param_count`` on fresh inputs.

Runs inside the sandbox with ``peft`` blocked (graders/labs/probes/_bootstrap.py):

    python -I _bootstrap.py --block peft --probe lab_1_1_lora.py -- \
        --submission RUN_DIR --out OUT --seed S

From the grading-time seed S it draws the shapes (d, k, r, alpha), a frozen W0, A, B and inputs x
(``draw``), builds ``LoRALinear(nn.Linear(k, d), r, alpha)`` from the learner's lora_layer.py,
records its initial A and B, sets A and B, and writes the layer's forward output and merged weight
(``outputs.safetensors``) and ``lora_param_count(d, k, r)`` (``result.json``). The checker imports
``draw`` to rebuild the same inputs outside the sandbox and compares with
W0·x + (α/r)·B·A·x (Hu et al. 2021, "LoRA", eq. 3).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def draw(seed: int) -> dict[str, Any]:
    """The probe's inputs for ``seed``: shapes, W0 (d×k), A (r×k), B (d×r), x (n×k)."""
    import torch

    g = torch.Generator().manual_seed(int(seed) % (2**63))
    d = int(torch.randint(12, 48, (1,), generator=g))
    k = int(torch.randint(12, 48, (1,), generator=g))
    r = int((2, 4, 8)[int(torch.randint(0, 3, (1,), generator=g))])
    alpha = float((8, 16, 32)[int(torch.randint(0, 3, (1,), generator=g))])
    return {
        "d": d, "k": k, "r": r, "alpha": alpha,
        "w0": torch.randn(d, k, generator=g), "A": torch.randn(r, k, generator=g),
        "B": torch.randn(d, r, generator=g), "x": torch.randn(16, k, generator=g),
    }


def run(submission: Path, out: Path, seed: int) -> dict[str, Any]:
    """Call the learner's layer on the drawn inputs; the result (tensors saved beside it)."""
    import torch
    from safetensors.torch import save_file

    sys.path.insert(0, str(submission))
    import lora_layer  # the learner's file

    inp = draw(seed)
    d, k, r, alpha = inp["d"], inp["k"], inp["r"], inp["alpha"]
    base = torch.nn.Linear(k, d, bias=False)
    with torch.no_grad():
        base.weight.copy_(inp["w0"])
    layer = lora_layer.LoRALinear(base, r, alpha)
    init_a = layer.lora_A.detach().float().clone()
    init_b = layer.lora_B.detach().float().clone()
    with torch.no_grad():
        layer.lora_A.copy_(inp["A"])
        layer.lora_B.copy_(inp["B"])
        y = layer(inp["x"]).float()
        merged = layer.merged_weight().float()
    save_file({"y": y.contiguous(), "merged": merged.contiguous(),
               "init_A": init_a.contiguous(), "init_B": init_b.contiguous()},
              str(out / "outputs.safetensors"))
    count = lora_layer.lora_param_count(d, k, r)
    return {"param_count": count if isinstance(count, int) and not isinstance(count, bool)
            else repr(count)[:80]}


def main() -> None:
    """Probe entry (arguments as in the module docstring)."""
    p = argparse.ArgumentParser()
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import labcommon  # the grader's copy (loaded by the bootstrap)

    try:
        result = run(args.submission, args.out, args.seed)
    except Exception as exc:  # noqa: BLE001 - the learner's code raised: the submission's failure
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}".splitlines()[0]}
    labcommon.write_json(args.out / "result.json", result)


if __name__ == "__main__":
    main()
