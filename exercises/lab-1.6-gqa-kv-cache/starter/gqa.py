"""Grouped-query attention with a KV cache, and MHA → GQA conversion (Lab-1.6).

H query heads share G key/value heads, each K/V head serving a group of H/G query heads
(Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head
Checkpoints"). G = H is multi-head attention; G = 1 is multi-query attention (Shazeer 2019, "Fast
Transformer Decoding: One Write-Head is All You Need"). During generation the keys and values of
past tokens are kept in a cache, so each new token computes only its own q, k, v; the cache holds
2 · layers · G · head_dim · tokens · bytes per sequence — G/H of multi-head attention's.

Shapes: x is [batch, tokens, hidden]; heads are [batch, heads, tokens, head_dim].
"""

from __future__ import annotations

import math

import torch
from gqa_run import AttentionBase, KVCacheBase  # given: shared gqa_run.py


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """[B, G, T, d] → [B, G·n_rep, T, d]: query head h uses K/V head h // n_rep."""
    # TODO: repeat every K/V head n_rep times along the head axis, keeping each head's copies
    #       next to each other (head h of the result is head h // n_rep of x).
    raise NotImplementedError("TODO: repeat_kv")


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int, dtype_bytes: int,
                   batch: int = 1) -> int:
    """Bytes of a KV cache: 2 (K and V) · layers · kv_heads · head_dim · tokens · bytes · batch."""
    # TODO: the KV-cache formula (2 for K and V).
    return 0


class KVCache(KVCacheBase):
    """Keys and values of the tokens seen so far, for one attention layer.

    Given (gqa_run.KVCacheBase): ``k``, ``v`` (None before the first token), ``len(cache)`` (tokens
    held) and ``nbytes()``.
    """

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new tokens' k and v; return all cached keys and values."""
        # TODO: concatenate the new k and v to the cached ones along the token axis (dim -2),
        #       keep them, and return all cached keys and values.
        raise NotImplementedError("TODO: KVCache.append")


class GQAttention(AttentionBase):
    """Causal self-attention with ``n_heads`` query heads and ``n_kv_heads`` K/V heads.

    Given (gqa_run.AttentionBase): ``n_heads``, ``n_kv_heads``, ``head_dim`` and the bias-free
    ``q_proj``, ``k_proj``, ``v_proj`` (rows ordered (head, head_dim)) and ``o_proj``.
    """

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Attention of the new tokens ``x`` over the cached tokens and themselves."""
        # TODO: project x to q (n_heads heads) and k, v (n_kv_heads heads), shaped
        #       [batch, heads, tokens, head_dim]. With a cache, the new tokens start at position
        #       past = len(cache): append k, v to the cache and attend over everything it holds.
        #       Repeat K/V heads for their query groups (repeat_kv), scale by 1/sqrt(head_dim),
        #       mask keys after each query's own position, softmax, multiply by v, merge the heads
        #       and apply o_proj. Do not call F.scaled_dot_product_attention.
        raise NotImplementedError("TODO: grouped-query attention with a KV cache")


def mha_to_gqa(attn: GQAttention, groups: int) -> GQAttention:
    """A GQA layer with ``groups`` K/V heads from a multi-head one: each group's K and V
    projections are the mean of its heads' (Ainslie et al. 2023, section 2.1); Q and O are kept."""
    # TODO: a new GQAttention(hidden, n_heads, groups) whose q_proj and o_proj weights are
    #       copies of attn's, and whose k_proj / v_proj weights are the mean of the K / V heads in
    #       each group (weight rows are ordered (head, head_dim); group g holds heads
    #       g*H/G .. (g+1)*H/G - 1).
    raise NotImplementedError("TODO: mha_to_gqa")
