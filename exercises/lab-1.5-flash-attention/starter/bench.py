"""Lab-1.5: tiled attention (FlashAttention) against naive attention: correctness and memory.

Run:  python -I bench.py --out OUTDIR --seed 0

1. Your ``flash_attention`` (flash_attention.py) against ``naive_attention`` on random inputs,
   with and without the causal mask, at a length the block size does not divide.
2. The bytes autograd saves for backward, naive against tiled, at N = 128, 256, 512: naive keeps
   the N × N probabilities (quadratic), tiled keeps Q, K, V, O and one number per row (linear).
3. Wall time of one forward on this machine; on a CUDA GPU also flash-attn's ``flash_attn_func``
   (when installed: the ``gpu`` extra), PyTorch SDPA and naive attention side by side, with
   ``torch.cuda.max_memory_allocated``.

Writes OUTDIR/memory.json; the grader re-measures every byte count itself (a probe runs your
function on inputs drawn at grading time) and compares.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import labcommon as lc  # noqa: E402

LENGTHS = [128, 256, 512]
"""Sequence lengths of the memory table (the grader measures the same ones)."""
BATCH, HEADS, HEAD_DIM = 1, 2, 16
"""Shape of the memory-table inputs: [BATCH, HEADS, N, HEAD_DIM]."""
BLOCK_SIZE = 64
"""Tile size of your tiled attention in the table."""
CHECK_N = 200
"""Length of the correctness check: not a multiple of BLOCK_SIZE on purpose."""


def saved_bytes(fn: Any, *args: Any, **kwargs: Any) -> int:
    """Bytes autograd saves for backward while ``fn(*args, **kwargs)`` runs.

    Each saved tensor passes through the pack hook of ``torch.autograd.graph.saved_tensors_hooks``;
    count the bytes of its storage, each distinct storage once (a tensor saved twice, or a view of
    an input, costs nothing extra).
    """
    # TODO: wrap the call in torch.autograd.graph.saved_tensors_hooks(pack, unpack); in pack, add
    #       t.untyped_storage().nbytes() once per distinct storage (key: storage data_ptr) and
    #       return t unchanged; unpack returns its argument. Return the total.
    return 0


def time_ms(fn: Any, *args: Any, repeat: int = 3, **kwargs: Any) -> float:
    """Best-of-``repeat`` wall time of one call, in milliseconds (synchronised on CUDA)."""
    import torch

    best = float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(*args, **kwargs)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def cuda_table() -> list[dict[str, Any]]:
    """flash-attn, SDPA, naive and tiled attention side by side on the GPU (fp16)."""
    import torch
    import torch.nn.functional as F

    from flash_attention import flash_attention, naive_attention

    try:
        from flash_attn import flash_attn_func  # the `gpu` extra; [B, N, H, d] layout
    except ImportError:
        flash_attn_func = None
    rows: list[dict[str, Any]] = []
    for n in (1024, 2048, 4096, 8192):
        q, k, v = (torch.randn(4, 16, n, 64, device="cuda", dtype=torch.float16) for _ in range(3))
        impls: dict[str, Any] = {
            "naive": partial(naive_attention, q, k, v, causal=True),
            "sdpa": partial(F.scaled_dot_product_attention, q, k, v, is_causal=True),
        }
        if flash_attn_func is not None:
            qt, kt, vt = (x.transpose(1, 2).contiguous() for x in (q, k, v))
            impls["flash_attn"] = partial(flash_attn_func, qt, kt, vt, causal=True)
        if n <= 2048:  # the Python loop over tiles is slow; two lengths show the trend
            impls["tiled_pytorch"] = partial(flash_attention, q, k, v, causal=True, block_size=128)
        for name, fn in impls.items():
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            try:
                ms = time_ms(fn)
                peak = torch.cuda.max_memory_allocated() - base
                rows.append({"n": n, "impl": name, "ms": round(ms, 3), "peak_extra_bytes": int(peak)})
            except torch.cuda.OutOfMemoryError:
                rows.append({"n": n, "impl": name, "error": "out of memory"})
        lc.log(f"cuda n={n}: " + ", ".join(f"{r['impl']} {r.get('ms', r.get('error'))}"
                                           for r in rows if r["n"] == n))
    return rows


def main() -> None:
    args = lc.parse_args()
    lc.seed_everything(args.seed)
    import torch

    from flash_attention import flash_attention, naive_attention

    total = 3 + len(LENGTHS)
    report: dict[str, Any] = {"profile": lc.profile(), "batch": BATCH, "heads": HEADS,
                              "head_dim": HEAD_DIM, "block_size": BLOCK_SIZE, "lengths": LENGTHS}

    # 1. correctness against naive attention (forward, and backward if you wrote it)
    errors: dict[str, Any] = {}
    for causal in (False, True):
        q, k, v = (torch.randn(2, 2, CHECK_N, HEAD_DIM, requires_grad=True) for _ in range(3))
        ref = naive_attention(q, k, v, causal=causal)
        key = "causal" if causal else "plain"
        try:
            out = flash_attention(q, k, v, causal=causal, block_size=BLOCK_SIZE)
            errors[key] = float((out - ref).detach().abs().max())
            g = torch.randn_like(ref)
            g_ref = torch.autograd.grad(ref, (q, k, v), g)
            try:
                g_out = torch.autograd.grad(out, (q, k, v), g)
                errors[key + "_grad"] = max(float((a - b).abs().max())
                                            for a, b in zip(g_out, g_ref, strict=True))
            except NotImplementedError:
                lc.log("backward not implemented (stretch goal): gradients not compared")
        except NotImplementedError as exc:
            lc.log(f"flash_attention not implemented yet: {exc}")
        lc.progress(1 + int(causal), total)
    report["max_abs_err"] = errors
    lc.log(f"max |tiled - naive|: {errors}")

    # 2. saved-for-backward bytes against N
    naive_b: list[int] = []
    tiled_b: list[int | None] = []
    for i, n in enumerate(LENGTHS):
        q, k, v = (torch.randn(BATCH, HEADS, n, HEAD_DIM, requires_grad=True) for _ in range(3))
        naive_b.append(saved_bytes(naive_attention, q, k, v))
        try:
            tiled_b.append(saved_bytes(flash_attention, q, k, v, block_size=BLOCK_SIZE))
        except NotImplementedError:
            tiled_b.append(None)
        lc.progress(3 + i, total)
        lc.log(f"N={n}: saved bytes naive {naive_b[-1]}, tiled {tiled_b[-1]}")
    report["saved_bytes"] = {"naive": naive_b, "tiled": tiled_b}

    # 3. time (on this machine; on CUDA the side-by-side table)
    q, k, v = (torch.randn(BATCH, HEADS, LENGTHS[-1], HEAD_DIM) for _ in range(3))
    with torch.no_grad():
        timing = {"naive_ms": round(time_ms(naive_attention, q, k, v), 3)}
        try:
            timing["tiled_ms"] = round(time_ms(flash_attention, q, k, v, block_size=BLOCK_SIZE), 3)
        except NotImplementedError:
            pass
    report["cpu_timing"] = timing
    if torch.cuda.is_available():
        report["cuda"] = cuda_table()
    lc.progress(total, total)
    lc.write_json(args.out / "memory.json", report)
    lc.done()


if __name__ == "__main__":
    main()
