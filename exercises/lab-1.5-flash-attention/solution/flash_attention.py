"""Tiled attention with the online softmax (Lab-1.5): the reference solution of flash_attention.py.

Forward: Dao et al. 2022, "FlashAttention: Fast and Memory-Efficient Exact Attention with
IO-Awareness", Algorithm 1, with the online softmax of Milakov & Gimelshein 2018. Backward: P
recomputed per tile from the saved log-sum-exp (Dao 2023, FlashAttention-2, Algorithm 2). The
starter's docstring derives both.
"""

from __future__ import annotations

import math
from typing import Any

import torch

# given, from the shared flash_run.py (the probe calls naive_attention from this module)
from flash_run import _block_scores, apply_tiled, naive_attention  # noqa: F401


class FlashAttentionFunction(torch.autograd.Function):
    """Tiled exact attention; saves Q, K, V, O and the log-sum-exp L for the backward pass."""

    @staticmethod
    def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
                block_size: int) -> torch.Tensor:
        n, d = q.shape[-2], q.shape[-1]
        n_k = k.shape[-2]
        scale = 1.0 / math.sqrt(d)
        # accumulate in float32 whatever the input dtype (as the CUDA kernels do)
        qf, kf, vf = q.float(), k.float(), v.float()
        o = torch.zeros(q.shape, dtype=torch.float32, device=q.device)
        m = torch.full(q.shape[:-1], float("-inf"), dtype=torch.float32, device=q.device)
        row_sum = torch.zeros(q.shape[:-1], dtype=torch.float32, device=q.device)
        for k0 in range(0, n_k, block_size):  # outer loop: K/V blocks (Algorithm 1, line 5)
            k_j, v_j = kf[..., k0:k0 + block_size, :], vf[..., k0:k0 + block_size, :]
            for q0 in range(0, n, block_size):  # inner loop: Q blocks (line 7)
                if causal and k0 > q0 + block_size - 1:
                    continue  # every key of this block comes after every query: all masked
                q1 = q0 + block_size
                s = _block_scores(qf[..., q0:q1, :], k_j, scale, causal, q0, k0)
                m_old, l_old = m[..., q0:q1], row_sum[..., q0:q1]
                m_new = torch.maximum(m_old, s.amax(dim=-1))
                # a row with nothing visible yet keeps m = -inf; exponentiate against 0 there so
                # that exp(-inf - -inf) never produces NaN
                m_safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)
                p = torch.exp(s - m_safe[..., None])
                alpha = torch.exp(m_old - m_safe)  # rescales what was accumulated so far
                l_new = alpha * l_old + p.sum(dim=-1)
                o_i = o[..., q0:q1, :] * (alpha * l_old)[..., None] + p @ v_j
                o[..., q0:q1, :] = o_i / l_new.clamp_min(1e-30)[..., None]
                m[..., q0:q1], row_sum[..., q0:q1] = m_new, l_new
        lse = m + torch.log(row_sum)
        out = o.to(q.dtype)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.causal, ctx.block_size = causal, block_size
        return out

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (d_out,) = grads
        q, k, v, out, lse = ctx.saved_tensors
        causal, bs = ctx.causal, ctx.block_size
        n, n_k, d = q.shape[-2], k.shape[-2], q.shape[-1]
        scale = 1.0 / math.sqrt(d)
        qf, kf, vf, of, dof = q.float(), k.float(), v.float(), out.float(), d_out.float()
        dq, dk, dv = torch.zeros_like(qf), torch.zeros_like(kf), torch.zeros_like(vf)
        delta = (dof * of).sum(dim=-1)  # D_i = rowsum(dO ∘ O) (FlashAttention-2, Algorithm 2)
        for k0 in range(0, n_k, bs):
            k_j, v_j = kf[..., k0:k0 + bs, :], vf[..., k0:k0 + bs, :]
            for q0 in range(0, n, bs):
                if causal and k0 > q0 + bs - 1:
                    continue
                q1 = q0 + bs
                s = _block_scores(qf[..., q0:q1, :], k_j, scale, causal, q0, k0)
                p = torch.exp(s - lse[..., q0:q1, None])  # P recomputed, never stored
                do_i = dof[..., q0:q1, :]
                dv[..., k0:k0 + bs, :] += p.transpose(-2, -1) @ do_i
                dp = do_i @ v_j.transpose(-2, -1)
                ds = p * (dp - delta[..., q0:q1, None])
                dq[..., q0:q1, :] += (ds @ k_j) * scale
                dk[..., k0:k0 + bs, :] += (ds.transpose(-2, -1) @ qf[..., q0:q1, :]) * scale
        return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype), None, None


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                    block_size: int = 64) -> torch.Tensor:
    """Exact attention, tile by tile (block_size × block_size score tiles; any N works)."""
    return apply_tiled(FlashAttentionFunction, q, k, v, causal, block_size)
