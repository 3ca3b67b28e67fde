"""Shared by every Lab-1.1 run (do not edit: the grader uses its own copy of these definitions).

- a byte-level tokenizer (vocabulary = the 256 byte values; works for English and 中文),
- the tiny Llama "base model", built from a config and seeded (we cannot download a pretrained
  model, so a seeded random initialisation stands in for one; the grader rebuilds it from the seed),
- the corpus split and the evaluation loss the grader recomputes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SEQ_LEN = {"cpu": 64, "cuda": 128}
"""Tokens per training / evaluation window."""

PROFILES: dict[str, dict[str, Any]] = {
    "cpu": {
        "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
        "initializer_range": 0.2, "tie_word_embeddings": False,
    },
    "cuda": {
        "vocab_size": 256, "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 4,
        "num_attention_heads": 8, "num_key_value_heads": 8, "max_position_embeddings": 256,
        "initializer_range": 0.2, "tie_word_embeddings": False,
    },
}
"""Model configs: the small one on CPU, a larger one when CUDA is available."""

VAL_EVERY = 10
"""Every 10th paragraph (blank-line separated) of the corpus is the validation split."""


def encode(text: str) -> list[int]:
    """Byte-level tokenisation: UTF-8 bytes are the token ids."""
    return list(text.encode("utf-8"))


def load_corpus(data_dir: str | Path) -> tuple[list[int], list[int]]:
    """(train ids, validation ids) of ``<data_dir>/train.txt``: paragraph i with i % VAL_EVERY == VAL_EVERY - 1
    go to validation (so both splits hold English and 中文)."""
    text = Path(data_dir, "train.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    train = [p for i, p in enumerate(paragraphs) if i % VAL_EVERY != VAL_EVERY - 1]
    val = [p for i, p in enumerate(paragraphs) if i % VAL_EVERY == VAL_EVERY - 1]
    return encode("\n\n".join(train)), encode("\n\n".join(val))


def build_base(profile: str, seed: int) -> Any:
    """The seeded tiny Llama base model (float32, on the CPU)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**PROFILES[profile]))
    model.eval()
    return model


def windows(ids: list[int], seq_len: int) -> Any:
    """Non-overlapping windows of ``seq_len`` tokens (remainder dropped), as a LongTensor."""
    import torch

    n = len(ids) // seq_len
    return torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)


def eval_loss(model: Any, ids: list[int], seq_len: int, batch_size: int = 32,
              train_mode: bool = False) -> float:
    """Mean next-token loss over the non-overlapping windows of ``ids`` (the grader's definition).

    ``train_mode=True`` for 4-bit models: on CPU, bitsandbytes repacks a Linear4bit's weights for
    inference the first time it runs in eval mode, and training after that silently loses the
    gradients flowing through the base layers. The tiny model has no dropout, so the loss is the same.
    """
    import torch

    data = windows(ids, seq_len)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    was_training = model.training
    model.train(train_mode)
    with torch.no_grad():
        for i in range(0, len(data), batch_size):
            batch = data[i : i + batch_size].to(device)
            out = model(input_ids=batch, labels=batch)
            total += float(out.loss) * len(batch)
            count += len(batch)
    model.train(was_training)
    return total / max(count, 1)
