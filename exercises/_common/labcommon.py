"""Shared by every lab run (do not edit: the grader uses its own copy of these definitions).

A lab's lab.yaml lists this file under ``common:``; `tutor lab start`, `tutor lab run` and the
grader copy it next to the lab's entry script, so an entry does::

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops it
    import labcommon as lc

What is here:
- the run contract: ``parse_args`` (``--out --data --seed [--heldout]``), JSON progress events on
  stdout (``progress``/``done``), logs on stderr, ``write_json`` for artifacts (finite numbers only);
- ranks: ``dist_env`` reads torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK), ``rank_dir``;
- the data: a byte-level tokenizer (vocabulary = the 256 byte values; works for English and 中文),
  the corpus split, fixed-length windows;
- the seeded tiny causal LM built from a config dict (nothing is downloaded: a seeded random
  initialisation stands in for a pretrained model; the grader rebuilds it from the same seed) and
  the evaluation loss the grader recomputes.

Heavy imports (torch, transformers) happen inside the functions that need them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

VAL_EVERY = 10
"""Every 10th paragraph (blank-line separated) of a corpus is the validation split."""


# ------------------------------------------------------------------------------------------
# the run contract
# ------------------------------------------------------------------------------------------


def parse_args(extra: Callable[[argparse.ArgumentParser], None] | None = None,
               argv: list[str] | None = None) -> argparse.Namespace:
    """``--out OUTDIR --data DATADIR --seed N [--heldout FILE]`` plus what ``extra`` adds.

    ``out`` is created; ``data`` and ``heldout`` are Paths or None.
    """
    p = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="directory for the artifacts")
    p.add_argument("--data", type=Path, default=None, help="training-data directory")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--heldout", type=Path, default=None, help="held-out file (grader only)")
    if extra is not None:
        extra(p)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout (the runner parses these). Only rank 0 of a multi-rank run speaks."""
    if dist_env()[0] != 0:
        return
    print(json.dumps({"event": event, **fields}), flush=True)


def progress(step: int, total: int, loss: float | None = None, **fields: Any) -> None:
    """``{"event": "progress", "step": i, "total": n, "loss": x}``."""
    if loss is not None:
        fields["loss"] = round(float(loss), 6)
    emit("progress", step=int(step), total=int(total), **fields)


def done(**fields: Any) -> None:
    """The final ``{"event": "done"}`` line: the run finished normally."""
    emit("done", **fields)


def log(message: str) -> None:
    """A free-form log line on stderr (prefixed with the rank in a multi-rank run)."""
    rank, world, _ = dist_env()
    prefix = f"[rank {rank}] " if world > 1 else ""
    print(prefix + message, file=sys.stderr, flush=True)


def _finite(obj: Any, where: str = "$") -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"{where}: {obj} is not a finite number")
    if isinstance(obj, dict):
        return {str(k): _finite(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as JSON (parents created; atomically); NaN/Inf are refused with the key path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_finite(obj), indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def seed_everything(seed: int) -> None:
    """Seed Python's, and (when imported) torch's random generators."""
    random.seed(seed)
    if "torch" in sys.modules or _can_import("torch"):
        import torch

        torch.manual_seed(seed)


def _can_import(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def profile() -> str:
    """``cuda`` when a CUDA GPU is available (a lab may use a larger model there), else ``cpu``.

    ``LAB_PROFILE=cpu`` forces the CPU profile on a GPU machine.
    """
    forced = os.environ.get("LAB_PROFILE")
    if forced in ("cpu", "cuda"):
        return forced
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


# ------------------------------------------------------------------------------------------
# ranks
# ------------------------------------------------------------------------------------------


def dist_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's / deepspeed's variables; (0, 1, 0) alone."""
    def _int(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name, default))
        except ValueError:
            return default

    return _int("RANK", 0), _int("WORLD_SIZE", 1), _int("LOCAL_RANK", 0)


def rank_dir(out: str | Path, rank: int | None = None) -> Path:
    """``<out>/rank<r>`` (created): where rank r writes its own artifacts."""
    r = dist_env()[0] if rank is None else rank
    path = Path(out) / f"rank{r}"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------


def encode(text: str) -> list[int]:
    """Byte-level tokenisation: UTF-8 bytes are the token ids (vocabulary 256)."""
    return list(text.encode("utf-8"))


def decode(ids: list[int]) -> str:
    """The inverse of ``encode`` (invalid byte sequences replaced)."""
    return bytes(int(i) & 0xFF for i in ids).decode("utf-8", errors="replace")


def load_corpus(data_dir: str | Path, name: str = "train.txt",
                val_every: int = VAL_EVERY) -> tuple[list[int], list[int]]:
    """(train ids, validation ids) of ``<data_dir>/<name>``: paragraph i with
    i % val_every == val_every - 1 goes to validation (so both splits hold English and 中文)."""
    text = Path(data_dir, name).read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    train = [p for i, p in enumerate(paragraphs) if i % val_every != val_every - 1]
    val = [p for i, p in enumerate(paragraphs) if i % val_every == val_every - 1]
    return encode("\n\n".join(train)), encode("\n\n".join(val))


def windows(ids: list[int], seq_len: int) -> Any:
    """Non-overlapping windows of ``seq_len`` tokens (remainder dropped), as a LongTensor [n, seq_len]."""
    import torch

    n = len(ids) // seq_len
    return torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)


# ------------------------------------------------------------------------------------------
# the tiny model
# ------------------------------------------------------------------------------------------


def build_model(config: dict[str, Any], seed: int) -> Any:
    """The seeded tiny Llama causal LM (float32, CPU, eval mode) from a ``LlamaConfig`` dict."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**config))
    model.eval()
    return model


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
