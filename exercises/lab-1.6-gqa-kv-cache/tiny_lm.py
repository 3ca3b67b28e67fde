"""The tiny decoder of Lab-1.6, built around your attention layer (shared: do not edit).

Pre-norm blocks (LayerNorm → attention → residual, LayerNorm → MLP → residual), learned position
embeddings, byte vocabulary (256). ``build(..., attention=GQAttention)`` takes the attention
class, so the grader builds the same model with its own attention to check your checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """One decoder block."""

    def __init__(self, hidden: int, heads: int, kv_heads: int, attention: Any) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden)
        self.attn = attention(hidden, heads, kv_heads)
        self.ln2 = nn.LayerNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Linear(4 * hidden, hidden))

    def forward(self, x: torch.Tensor, cache: Any = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    """Byte-level causal LM; ``forward(ids, caches)`` continues from the cached tokens."""

    def __init__(self, hidden: int, layers: int, heads: int, kv_heads: int, max_len: int,
                 attention: Any) -> None:
        super().__init__()
        self.tok = nn.Embedding(256, hidden)
        self.pos = nn.Embedding(max_len, hidden)
        self.blocks = nn.ModuleList(Block(hidden, heads, kv_heads, attention) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, 256, bias=False)

    def forward(self, ids: torch.Tensor, caches: list[Any] | None = None) -> torch.Tensor:
        past = len(caches[0]) if caches else 0
        pos = torch.arange(past, past + ids.shape[1], device=ids.device)
        x = self.tok(ids) + self.pos(pos)[None]
        for i, block in enumerate(self.blocks):
            x = block(x, caches[i] if caches else None)
        logits: torch.Tensor = self.head(self.ln_f(x))
        return logits

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy."""
        logits = self(ids)
        return F.cross_entropy(logits[:, :-1].reshape(-1, 256), ids[:, 1:].reshape(-1))


def build(config: dict[str, int], seed: int, attention: Any, kv_heads: int | None = None) -> TinyLM:
    """The seeded model (``config``: hidden, layers, heads, max_len; K/V heads default to heads)."""
    torch.manual_seed(seed)
    return TinyLM(config["hidden"], config["layers"], config["heads"],
                  config["heads"] if kv_heads is None else kv_heads, config["max_len"], attention)


def heldout_loss(model: TinyLM, ids: list[int], seq_len: int, batch: int = 32) -> float:
    """Mean next-token loss over the non-overlapping windows of ``ids``."""
    n = len(ids) // seq_len
    data = torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, batch):
            chunk = data[i : i + batch]
            total += float(model.loss(chunk)) * len(chunk)
    return total / max(n, 1)
