"""Shared by every Lab-1.5 run (do not edit: every run gets this copy): the bench.

Your bench.py holds what you write about the run (the saved-bytes counter) and calls
``main(this_module)``; your flash_attention.py holds the tiled attention. This file measures:

1. Your ``flash_attention`` (flash_attention.py) against ``naive_attention`` on random inputs,
   with and without the causal mask, at a length the block size does not divide.
2. The bytes autograd saves for backward, naive against tiled, at N = 128, 256, 512: naive keeps
   the N × N probabilities (quadratic), tiled keeps Q, K, V, O and one number per row (linear).
3. Wall time of one forward on this machine; on a CUDA GPU also flash-attn's ``flash_attn_func``
   (when installed: the ``gpu`` extra), PyTorch SDPA and naive attention side by side, with
   ``torch.cuda.max_memory_allocated``.

Writes OUTDIR/memory.json; the grader re-measures every byte count itself (a probe runs your
function on inputs drawn at grading time) and compares.

It also holds what flash_attention.py is given (imported there under the same names): the naive
reference attention and the score tile with its causal mask (Dao et al. 2022, "FlashAttention:
Fast and Memory-Efficient Exact Attention with IO-Awareness", Algorithm 1).
"""

from __future__ import annotations

import math
import time
from functools import partial
from types import ModuleType
from typing import Any

import labcommon as lc
import torch

LENGTHS = [128, 256, 512]
"""Sequence lengths of the memory table (the grader measures the same ones)."""
BATCH, HEADS, HEAD_DIM = 1, 2, 16
"""Shape of the memory-table inputs: [BATCH, HEADS, N, HEAD_DIM]."""
BLOCK_SIZE = 64
"""Tile size of your tiled attention in the table."""
CHECK_N = 200
"""Length of the correctness check: not a multiple of BLOCK_SIZE on purpose."""


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    causal: bool = False) -> torch.Tensor:
    """Standard attention that materialises S = QKᵀ/√d and P = softmax(S) (N × N): the reference.

    Given (shared): the bench measures its memory next to yours.
    """
    scale = 1.0 / math.sqrt(q.shape[-1])
    s = (q @ k.transpose(-2, -1)) * scale
    if causal:
        n_q, n_k = s.shape[-2], s.shape[-1]
        mask = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(1)
        s = s.masked_fill(mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def _block_scores(q_i: torch.Tensor, k_j: torch.Tensor, scale: float, causal: bool,
                  q0: int, k0: int) -> torch.Tensor:
    """S_ij = Q_i K_jᵀ · scale for one tile, with the causal mask (key index > query index)."""
    s = (q_i @ k_j.transpose(-2, -1)) * scale
    if causal:
        rows = torch.arange(q0, q0 + q_i.shape[-2], device=q_i.device)[:, None]
        cols = torch.arange(k0, k0 + k_j.shape[-2], device=q_i.device)[None, :]
        s = s.masked_fill(cols > rows, float("-inf"))
    return s


def apply_tiled(function: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
                block_size: int) -> torch.Tensor:
    """``function.apply(q, k, v, causal, block_size)`` (your autograd Function), block_size > 0."""
    if block_size <= 0:
        raise ValueError("block_size must be positive")
    out: torch.Tensor = function.apply(q, k, v, causal, block_size)
    return out


def time_ms(fn: Any, *args: Any, repeat: int = 3, **kwargs: Any) -> float:
    """Best-of-``repeat`` wall time of one call, in milliseconds (synchronised on CUDA)."""
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
    import torch.nn.functional as F
    from flash_attention import flash_attention

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


def main(learner: ModuleType) -> int:
    """The whole run, with the learner's bench.py module ``learner`` (its saved_bytes); the exit
    status."""
    args = lc.parse_args()
    lc.seed_everything(args.seed)
    from flash_attention import flash_attention

    saved_bytes = learner.saved_bytes

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
    return 0
