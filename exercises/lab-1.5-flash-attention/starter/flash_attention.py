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


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    causal: bool = False) -> torch.Tensor:
    """Standard attention that materialises S = QKᵀ/√d and P = softmax(S) (N × N): the reference.

    Given: do not change it (the bench measures its memory next to yours).
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
    if block_size <= 0:
        raise ValueError("block_size must be positive")
    out: torch.Tensor = FlashAttentionFunction.apply(q, k, v, causal, block_size)
    return out
