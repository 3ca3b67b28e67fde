"""Probe of Lab-1.5: run the learner's tiled attention on inputs drawn at grading time.

Runs inside the sandbox after the learner's run, in the run directory (the learner's
``flash_attention.py`` importable) with ``torch.nn.functional.scaled_dot_product_attention`` made
unavailable:

    python -I lab_1_5_tiled.py --submission RUN_DIR --out PROBE_OUT --seed S

S is drawn by the grader and never known to the submission. The probe writes ``result.json`` and
``outputs.safetensors`` (outputs and gradients); the checker (graders/labs/lab_1_5.py) regenerates
the same inputs from S with ``draw_cases`` below and recomputes the reference outside the sandbox.

What it records besides the outputs:
- every aten operator the learner's function dispatches (an SDPA or fused-attention kernel reached
  by any route, e.g. ``torch._C._nn``, is reported) and the largest storage any of them creates:
  materialising the N × N score matrix shows up as a storage that grows with N², far above the
  O(N · max(d, block)) a tiled implementation needs;
- the bytes autograd saves for backward (``saved_tensors_hooks``) at lengths N and 2N drawn from S
  (linear: ratio ≈ 2; N × N saved: ratio ≈ 4), and at the fixed bench lengths of lab.yaml so the
  learner's reported memory table can be cross-checked.

This file is also imported by the checker for ``draw_cases`` and the constants (one source of
truth); importing it runs nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

BENCH_LENGTHS = (128, 256, 512)
"""Sequence lengths of the learner's memory table (lab.yaml params.bench.lengths)."""
BENCH_SHAPE = (1, 2, 16)
"""(batch, heads, head_dim) of the memory table (lab.yaml params.bench)."""
BENCH_BLOCK = 64
"""block_size of the memory table (lab.yaml params.bench.block_size)."""
BIG_N = (600, 700)
"""Range of the length used to detect N × N materialisation (large next to any tile)."""
STORAGE_FACTOR = 2
"""Allowed largest storage: STORAGE_FACTOR × B·H·N·max(d, block) × 8 bytes (a float64 row block)."""
FORBIDDEN_OPS = ("scaled_dot_product", "flash_attention", "efficient_attention", "_cudnn_attention")
"""Substrings of aten operator names that mean a fused attention kernel did the work."""


def draw_cases(seed: int) -> dict[str, Any]:
    """The probe's inputs from the grading seed: shapes, block size and tensors (float32, CPU).

    Lengths never divide the block size, so the ragged last tile is always exercised.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)

    def pick(lo: int, hi: int) -> int:
        return int(torch.randint(lo, hi + 1, (1,), generator=gen))

    block = (16, 32)[pick(0, 1)]
    b, h, d = pick(1, 2), pick(1, 3), (8, 16)[pick(0, 1)]
    cases: dict[str, Any] = {"block_size": block, "batch": b, "heads": h, "head_dim": d}
    for name in ("plain", "causal"):
        n = pick(3 * block + 1, 6 * block)
        if n % block == 0:
            n += 1 + pick(0, block - 2)
        q, k, v, g = (torch.randn(b, h, n, d, generator=gen) for _ in range(4))
        cases[name] = {"n": n, "causal": name == "causal", "q": q, "k": k, "v": v, "grad": g}
    big = pick(*BIG_N)
    cases["big_n"] = big + (1 if big % block == 0 else 0)
    cases["linear_n"] = pick(5 * block + 1, 8 * block - 1)
    return cases


def _saved_bytes(fn: Any, *args: Any, **kwargs: Any) -> int:
    """Bytes autograd keeps for backward while ``fn(*args)`` runs (distinct storages counted once)."""
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


def _watch(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, int, list[str]]:
    """Run ``fn``; return its result, the largest storage any aten op created and forbidden ops."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class Watch(TorchDispatchMode):  # type: ignore[no-untyped-call]  # torch's class is untyped
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.largest = 0
            self.forbidden: list[str] = []

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            name = str(func)
            if any(f in name for f in FORBIDDEN_OPS) and name not in self.forbidden:
                self.forbidden.append(name)
            out = func(*args, **(kwargs or {}))
            for leaf in tree_leaves(out):
                if isinstance(leaf, torch.Tensor):
                    self.largest = max(self.largest, leaf.untyped_storage().nbytes())
            return out

    with Watch() as w:
        out = fn(*args, **kwargs)
    return out, w.largest, w.forbidden


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__


def probe(seed: int, out_dir: Path) -> dict[str, Any]:
    """Run every measurement; tensors go to ``out_dir/outputs.safetensors``."""
    import flash_attention as fa  # the learner's module (run directory on sys.path)
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    cases = draw_cases(seed)
    block = cases["block_size"]
    result: dict[str, Any] = {"seed": seed, "block_size": block}
    tensors: dict[str, torch.Tensor] = {}
    forbidden: list[str] = []
    for name in ("plain", "causal"):
        c = cases[name]
        q, k, v = (c[x].clone().requires_grad_(True) for x in "qkv")
        try:
            out, largest, bad = _watch(fa.flash_attention, q, k, v, causal=c["causal"],
                                       block_size=block)
            forbidden += [b for b in bad if b not in forbidden]
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(q.shape):
                raise TypeError(f"flash_attention returned {type(out).__name__} "
                                f"{tuple(getattr(out, 'shape', ()))}, expected shape {tuple(q.shape)}")
            tensors[f"{name}.out"] = out.detach().float().contiguous()
            result[name] = {"n": c["n"], "largest_storage": largest}
        except Exception as exc:  # the learner's failure: recorded, the checker fails the check
            result[name] = {"n": c["n"], "error": _one_line(exc)}
            continue
        try:
            grads = torch.autograd.grad(out, (q, k, v), c["grad"])
            for x, gx in zip("qkv", grads, strict=True):
                tensors[f"{name}.d{x}"] = gx.detach().float().contiguous()
            result[name]["backward"] = "ok"
        except Exception as exc:
            result[name]["backward_error"] = _one_line(exc)

    # N x N materialisation: the largest storage at a long length, against the tiled bound
    b, h, d = cases["batch"], cases["heads"], cases["head_dim"]
    big = cases["big_n"]
    gen = torch.Generator().manual_seed(seed + 1)
    q, k, v = (torch.randn(b, h, big, d, generator=gen) for _ in range(3))
    try:
        with torch.no_grad():
            _, largest, bad = _watch(fa.flash_attention, q, k, v, causal=True, block_size=block)
        forbidden += [x for x in bad if x not in forbidden]
        result["big"] = {"n": big, "largest_storage": largest,
                         "bound": STORAGE_FACTOR * b * h * big * max(d, block) * 8,
                         "nxn_bytes_fp16": b * h * big * big * 2}
    except Exception as exc:
        result["big"] = {"n": big, "error": _one_line(exc)}

    # saved-for-backward bytes at N and 2N (random) and at the bench lengths (fixed)
    def saved(fn: Any, shape: tuple[int, int, int], n: int, **kw: Any) -> int:
        qq, kk, vv = (torch.randn(shape[0], shape[1], n, shape[2], requires_grad=True)
                      for _ in range(3))
        return _saved_bytes(fn, qq, kk, vv, **kw)

    try:
        n = cases["linear_n"]
        result["linear"] = {
            "n": n,
            "saved": [saved(fa.flash_attention, (b, h, d), n, causal=False, block_size=block),
                      saved(fa.flash_attention, (b, h, d), 2 * n, causal=False, block_size=block)],
        }
    except Exception as exc:
        result["linear"] = {"error": _one_line(exc)}
    try:
        result["bench"] = {
            "lengths": list(BENCH_LENGTHS),
            "naive": [saved(fa.naive_attention, BENCH_SHAPE, n) for n in BENCH_LENGTHS],
            "tiled": [saved(fa.flash_attention, BENCH_SHAPE, n, block_size=BENCH_BLOCK)
                      for n in BENCH_LENGTHS],
        }
    except Exception as exc:
        result["bench"] = {"error": _one_line(exc)}
    result["forbidden_ops"] = forbidden
    if tensors:
        save_file(tensors, str(out_dir / "outputs.safetensors"))
    return result


def main() -> int:
    p = argparse.ArgumentParser(description="Lab-1.5 probe: the learner's tiled attention")
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out = args.out.resolve()  # before the chdir below
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(args.submission.resolve()))
    os.chdir(args.submission)
    try:
        result = probe(args.seed, args.out)
    except Exception as exc:  # e.g. the module does not import: the submission's failure
        traceback.print_exc()
        result = {"error": _one_line(exc)}
    (args.out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
