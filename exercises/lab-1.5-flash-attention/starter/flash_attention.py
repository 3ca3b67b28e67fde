"""Tiled attention with the online softmax: FlashAttention in plain PyTorch (Lab-1.5).

Exact attention  O = softmax(Q Kᵀ / √d [+ causal mask]) V  computed block by block, so the N × N
score matrix never exists: Dao et al. 2022, "FlashAttention: Fast and Memory-Efficient Exact
Attention with IO-Awareness", Algorithm 1 (outer loop over K/V blocks, inner loop over Q blocks),
with the online softmax of Milakov & Gimelshein 2018 ("Online normalizer calculation for
softmax"): a running row maximum m and row sum l, rescaled by exp(m_old - m_new) whenever the
maximum grows. FlashAttention-2 (Dao 2023) swaps the loops (Q outer) and defers the division by l;
the result is the same.

Shapes: q, k, v are [batch, heads, N, head_dim]; the output has q's shape and dtype.
The backward pass (the stretch goal) recomputes each score block from Q, K, V and the saved
log-sum-exp L = m + log l instead of storing P (the paper's Algorithm 4 / FlashAttention-2's
backward), so autograd saves only Q, K, V, O and L: memory linear in N.
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
        # TODO: Algorithm 1 of Dao et al. 2022. Accumulate in float32: o (zeros, q's shape),
        #       m = -inf and l = 0 per query row. Outer loop over K/V blocks of block_size keys,
        #       inner loop over Q blocks; for each tile:
        #         s = _block_scores(q_i, k_j, 1/sqrt(d), causal, q0, k0)
        #         m_new = max(m_old, rowmax(s)); p = exp(s - m_new)   (careful: a row that has
        #         seen only masked keys has m = -inf, and -inf - -inf is NaN)
        #         l_new = exp(m_old - m_new) * l_old + rowsum(p)
        #         o_i = (exp(m_old - m_new) * l_old * o_i + p @ v_j) / l_new
        #       Skip tiles that the causal mask hides entirely. Never build an N x N tensor.
        #       Then save what backward needs: ctx.save_for_backward(q, k, v, out, m + log(l)),
        #       ctx.causal = causal, ctx.block_size = block_size, and return out in q's dtype.
        raise NotImplementedError("TODO: the tiled forward pass with the online softmax")

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # TODO (stretch goal): recompute each tile's P = exp(S - lse) from the saved Q, K, V and
        #       log-sum-exp instead of storing it. With D = rowsum(dO * O):
        #         dV_j += P^T dO_i;  dP = dO_i V_j^T;  dS = P * (dP - D_i)
        #         dQ_i += dS K_j / sqrt(d);  dK_j += dS^T Q_i / sqrt(d)
        #       Return (dq, dk, dv, None, None).
        raise NotImplementedError("TODO (stretch goal): the tiled backward pass")


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                    block_size: int = 64) -> torch.Tensor:
    """Exact attention, tile by tile (block_size × block_size score tiles; any N works)."""
    return apply_tiled(FlashAttentionFunction, q, k, v, causal, block_size)
