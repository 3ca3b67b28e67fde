"""Shared by every Lab-1.6 run (do not edit: every run gets this copy): the run.

Your train.py holds what you write about the run (converting the whole model) and calls
``main(this_module)``; your gqa.py holds the attention, the cache and the conversion. This file:

1. Pre-trains the multi-head model (4 heads = 4 K/V heads) briefly on the course corpus.
2. Converts it to GQA (2 K/V groups) and MQA (1) by mean-pooling K/V heads (your mha_to_gqa),
   measures the validation loss right after the conversion, then uptrains the GQA model briefly.
3. Generates with your KV cache and compares every step's logits with a full recomputation;
   measures the cache bytes against 2 · layers · kv_heads · head_dim · tokens · bytes.

Writes OUTDIR/mha.safetensors, gqa.safetensors, mqa.safetensors, gqa_uptrained.safetensors and
metrics.json. The grader loads the checkpoints into its own copy of the model and computes the
losses on its own held-out text; a probe calls your gqa.py on inputs drawn at grading time.

It also holds the parts of gqa.py's classes you are given (your ``KVCache`` and ``GQAttention``
derive from them): the cache's storage, length and byte count, and the attention layer's
projections (Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from
Multi-Head Checkpoints": H query heads, G key/value heads).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import labcommon as lc
import torch
from torch import nn

CONFIG = {"hidden": 64, "layers": 2, "heads": 4, "max_len": 128}
"""The tiny decoder (lab.yaml params.model)."""
GROUPS = {"gqa": 2, "mqa": 1}
"""K/V heads after conversion."""
SEQ_LEN, BATCH = 64, 16
"""Training windows."""
PRETRAIN_STEPS, UPTRAIN_STEPS = 200, 40
"""AdamW steps of the multi-head pre-training and of the GQA uptraining."""
LEARNING_RATE = 3e-3
"""AdamW learning rate."""
PROMPT, NEW_TOKENS = 8, 24
"""Generation test: prompt length and tokens generated with the cache."""


class KVCacheBase:
    """The storage of a KV cache for one attention layer (gqa.KVCache adds ``append``)."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None
        """Cached keys [batch, kv_heads, tokens, head_dim] (None before the first token)."""
        self.v: torch.Tensor | None = None
        """Cached values, shaped like ``k``."""

    def __len__(self) -> int:
        return 0 if self.k is None else int(self.k.shape[-2])

    def nbytes(self) -> int:
        """Bytes the cache holds now."""
        if self.k is None or self.v is None:
            return 0
        return self.k.numel() * self.k.element_size() + self.v.numel() * self.v.element_size()


class AttentionBase(nn.Module):
    """The projections of a causal self-attention layer with ``n_heads`` query heads and
    ``n_kv_heads`` K/V heads (gqa.GQAttention adds ``forward``)."""

    def __init__(self, hidden: int, n_heads: int, n_kv_heads: int) -> None:
        super().__init__()
        if hidden % n_heads or n_heads % n_kv_heads:
            raise ValueError("hidden must divide by n_heads, and n_heads by n_kv_heads")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.head_dim = hidden // n_heads
        self.q_proj = nn.Linear(hidden, n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, n_kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, n_kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_heads * self.head_dim, hidden, bias=False)


def train(model: Any, ids: list[int], steps: int, seed: int, done: int, total: int) -> float:
    """AdamW on random windows; returns the last loss."""
    data = torch.tensor(ids, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    model.train()
    loss = torch.tensor(0.0)
    for step in range(steps):
        starts = torch.randint(0, len(data) - SEQ_LEN, (BATCH,), generator=gen).tolist()
        batch = torch.stack([data[s : s + SEQ_LEN] for s in starts])
        loss = model.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 10 == 9:
            lc.progress(done + step + 1, total, loss=float(loss.detach()))
    model.eval()
    return float(loss.detach())


def decode_check(model: Any, prompt: Any) -> dict[str, Any]:
    """Greedy generation with the cache against full recomputation at every step."""
    import gqa

    caches = [gqa.KVCache() for _ in model.blocks]
    ids = prompt.clone()
    worst = 0.0
    with torch.no_grad():
        logits = model(ids, caches)[:, -1]
        for _ in range(NEW_TOKENS):
            full = model(ids)[:, -1]  # no cache: everything recomputed
            worst = max(worst, float((logits - full).abs().max()))
            nxt = logits.argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
            logits = model(nxt, caches)[:, -1]
    attn = model.blocks[0].attn
    measured = sum(c.nbytes() for c in caches)
    return {"max_logit_diff": worst, "tokens": len(caches[0]), "cache_bytes": measured,
            "formula_bytes": gqa.kv_cache_bytes(len(model.blocks), attn.n_kv_heads, attn.head_dim,
                                                len(caches[0]), 4, batch=ids.shape[0]),
            "kv_heads": attn.n_kv_heads}


def main(learner: ModuleType) -> int:
    """The whole run, with the learner's train.py module ``learner`` (its convert); the exit
    status."""
    args = lc.parse_args()
    lc.seed_everything(args.seed)
    import gqa
    import tiny_lm
    from safetensors.torch import save_file

    train_ids, val_ids = lc.load_corpus(args.data)
    total = PRETRAIN_STEPS + UPTRAIN_STEPS + 1
    metrics: dict[str, Any] = {"config": CONFIG, "groups": GROUPS}

    mha = tiny_lm.build(CONFIG, args.seed, gqa.GQAttention)
    train(mha, train_ids, PRETRAIN_STEPS, args.seed, 0, total)
    save_file(mha.state_dict(), str(args.out / "mha.safetensors"))
    losses = {"mha": tiny_lm.heldout_loss(mha, val_ids, SEQ_LEN)}

    models = {"mha": mha}
    for name, groups in GROUPS.items():
        models[name] = learner.convert(mha, groups, args.seed)
        save_file({k: v.contiguous() for k, v in models[name].state_dict().items()},
                  str(args.out / f"{name}.safetensors"))
        losses[name] = tiny_lm.heldout_loss(models[name], val_ids, SEQ_LEN)
    up = learner.convert(mha, GROUPS["gqa"], args.seed)
    train(up, train_ids, UPTRAIN_STEPS, args.seed + 1, PRETRAIN_STEPS, total)
    save_file({k: v.contiguous() for k, v in up.state_dict().items()},
              str(args.out / "gqa_uptrained.safetensors"))
    losses["gqa_uptrained"] = tiny_lm.heldout_loss(up, val_ids, SEQ_LEN)
    metrics["val_loss"] = losses
    lc.log(f"validation loss: {losses}")

    prompt = torch.tensor([train_ids[:PROMPT], train_ids[100:100 + PROMPT]], dtype=torch.long)
    metrics["decode"] = {name: decode_check(m, prompt) for name, m in models.items()}
    for name, d in metrics["decode"].items():
        lc.log(f"{name}: cache {d['cache_bytes']} bytes (formula {d['formula_bytes']}), "
               f"max |cached - full| {d['max_logit_diff']:.2e}")
    lc.progress(total, total)
    lc.write_json(args.out / "metrics.json", metrics)
    lc.done()
    return 0
