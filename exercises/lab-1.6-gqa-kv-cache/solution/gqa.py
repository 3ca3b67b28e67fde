"""Grouped-query attention with a KV cache, and MHA → GQA conversion (Lab-1.6): the reference
solution of gqa.py (Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models
from Multi-Head Checkpoints"; Shazeer 2019 for multi-query attention). The starter's docstring
states the shapes and the cache formula.
"""

from __future__ import annotations

import math

import torch
from gqa_run import AttentionBase, KVCacheBase  # given: shared gqa_run.py


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """[B, G, T, d] → [B, G·n_rep, T, d]: query head h uses K/V head h // n_rep."""
    if n_rep == 1:
        return x
    b, g, t, d = x.shape
    return x[:, :, None].expand(b, g, n_rep, t, d).reshape(b, g * n_rep, t, d)


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int, dtype_bytes: int,
                   batch: int = 1) -> int:
    """Bytes of a KV cache: 2 (K and V) · layers · kv_heads · head_dim · tokens · bytes · batch."""
    return 2 * layers * kv_heads * head_dim * tokens * dtype_bytes * batch


class KVCache(KVCacheBase):
    """Keys and values of the tokens seen so far, for one attention layer.

    Given (gqa_run.KVCacheBase): ``k``, ``v`` (None before the first token), ``len(cache)`` (tokens
    held) and ``nbytes()``.
    """

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new tokens' k and v; return all cached keys and values."""
        if self.k is None or self.v is None:
            self.k, self.v = k, v
        else:
            self.k = torch.cat([self.k, k], dim=-2)
            self.v = torch.cat([self.v, v], dim=-2)
        return self.k, self.v


class GQAttention(AttentionBase):
    """Causal self-attention with ``n_heads`` query heads and ``n_kv_heads`` K/V heads.

    Given (gqa_run.AttentionBase): ``n_heads``, ``n_kv_heads``, ``head_dim`` and the bias-free
    ``q_proj``, ``k_proj``, ``v_proj`` (rows ordered (head, head_dim)) and ``o_proj``.
    """

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Attention of the new tokens ``x`` over the cached tokens and themselves."""
        b, t, _ = x.shape
        d = self.head_dim
        q = self.q_proj(x).view(b, t, self.n_heads, d).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, d).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, d).transpose(1, 2)
        past = 0
        if cache is not None:
            past = len(cache)
            k, v = cache.append(k, v)
        n_rep = self.n_heads // self.n_kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        # new token i sits at position past + i and sees keys 0 .. past + i
        rows = torch.arange(past, past + t, device=x.device)[:, None]
        cols = torch.arange(past + t, device=x.device)[None, :]
        s = s.masked_fill(cols > rows, float("-inf"))
        out = torch.softmax(s, dim=-1) @ v
        y: torch.Tensor = self.o_proj(out.transpose(1, 2).reshape(b, t, self.n_heads * d))
        return y


def mha_to_gqa(attn: GQAttention, groups: int) -> GQAttention:
    """A GQA layer with ``groups`` K/V heads from a multi-head one: each group's K and V
    projections are the mean of its heads' (Ainslie et al. 2023, section 2.1); Q and O are kept."""
    h, d = attn.n_heads, attn.head_dim
    if attn.n_kv_heads != h or h % groups:
        raise ValueError("convert a multi-head layer, with groups dividing the heads")
    hidden = attn.q_proj.in_features
    new = GQAttention(hidden, h, groups)
    with torch.no_grad():
        new.q_proj.weight.copy_(attn.q_proj.weight)
        new.o_proj.weight.copy_(attn.o_proj.weight)
        for src, dst in ((attn.k_proj, new.k_proj), (attn.v_proj, new.v_proj)):
            # rows of W are (head, dim); heads g·H/G .. (g+1)·H/G - 1 form group g
            w = src.weight.view(groups, h // groups, d, hidden).mean(dim=1)
            dst.weight.copy_(w.reshape(groups * d, hidden))
    return new
