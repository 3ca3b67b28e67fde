"""Probe of Lab-1.4: call the learner's optim_basics.py on inputs drawn at grading time.

Runs inside the sandbox after the learner's run, in the run directory:

    python -I lab_1_4_optim.py --submission RUN_DIR --out PROBE_OUT --seed S

For a tiny Llama seeded from S and token batches drawn from S it records
- ``accumulate_gradients(model, ids, k)``: the gradients (``tensors.safetensors``, ``accum.*``)
  and the largest batch the model's embedding ever saw (must be len(ids) / k);
- ``checkpointed_loss(model, ids, segments)``: the gradients at √L segments (``ckpt.*``) and the
  bytes autograd saves for backward at 1, √L and L segments;
- ``train_mixed(model, batches, lr)``: the losses, the parameter dtypes afterwards (fp32 master
  weights) and how many operators produced bf16 tensors (autocast really on).

The checker (graders/labs/lab_1_4.py) imports this file for ``draw_cases`` and the reference
functions below (``ref_*``: the grader's own implementations) and recomputes everything outside
the sandbox. Importing it runs nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG: dict[str, Any] = {"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
          "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
          "initializer_range": 0.2, "tie_word_embeddings": False}
"""The tiny Llama of the lab (lab.yaml params.profiles.cpu)."""
LR = 3e-3
"""Learning rate of the mixed-precision steps."""
MIXED_STEPS = 4
"""AdamW steps of the mixed-precision probe."""


def draw_cases(seed: int) -> dict[str, Any]:
    """Model seed, k, and token batches drawn from the grading seed."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    k = (2, 4, 8)[int(torch.randint(0, 3, (1,), generator=gen))]
    seq = int(torch.randint(24, 41, (1,), generator=gen))
    return {
        "model_seed": int(torch.randint(0, 2**31 - 1, (1,), generator=gen)),
        "k": k,
        "seq": seq,
        "ids": torch.randint(0, 256, (8, seq), generator=gen),
        "mixed": [torch.randint(0, 256, (4, seq), generator=gen) for _ in range(MIXED_STEPS)],
    }


def build_model(seed: int) -> Any:
    """The seeded tiny Llama (as labcommon.build_model), in train mode."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**CONFIG))
    model.train()
    return model


def saved_bytes(fn: Callable[[], Any]) -> int:
    """Bytes autograd saves for backward while ``fn()`` runs (each distinct storage once)."""
    import torch

    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(seen.values())


def ref_loss(model: Any, ids: Any) -> Any:
    """The model's own mean next-token loss."""
    return model(input_ids=ids, labels=ids).loss


def ref_checkpointed_loss(model: Any, ids: Any, segments: int) -> Any:
    """The grader's checkpointed forward: ``segments`` reentrant checkpoints over the layers."""
    import torch
    import torch.nn.functional as F
    from torch.utils.checkpoint import checkpoint

    inner = model.model
    layers = list(inner.layers)
    h = inner.embed_tokens(ids)
    pos = torch.arange(ids.shape[1])[None]
    cos, sin = inner.rotary_emb(h, pos)
    edges = [round(i * len(layers) / segments) for i in range(segments + 1)]
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        def seg(x: Any, c: Any, s: Any, start: int = start, end: int = end) -> Any:
            for layer in layers[start:end]:
                out = layer(x, attention_mask=None, position_ids=pos, position_embeddings=(c, s))
                x = out[0] if isinstance(out, tuple) else out
            return x
        h = checkpoint(seg, h, cos, sin, use_reentrant=True)
    logits = model.lm_head(inner.norm(h)).float()
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def ref_profile(config: str, ids: Any, accum_k: int, segments: int, seed: int) -> dict[str, int]:
    """The grader's memory profile of one AdamW step of ``config`` (see the lab's train.py)."""
    import torch

    model = build_model(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    if config == "fp32":
        act = saved_bytes(lambda: ref_loss(model, ids))
        ref_loss(model, ids).backward()
    elif config == "bf16-autocast":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            act = saved_bytes(lambda: ref_loss(model, ids))
            loss = ref_loss(model, ids)
        loss.backward()
    elif config == "accumulation":
        act = saved_bytes(lambda: ref_loss(model, ids[: len(ids) // accum_k]))
        for micro in ids.chunk(accum_k):
            (ref_loss(model, micro) / accum_k).backward()
    elif config == "checkpointing":
        act = saved_bytes(lambda: ref_checkpointed_loss(model, ids, segments))
        ref_checkpointed_loss(model, ids, segments).backward()
    else:
        raise ValueError(config)
    opt.step()
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters()
                if p.grad is not None)
    states = sum(t.numel() * t.element_size() for st in opt.state.values() for t in st.values()
                 if isinstance(t, torch.Tensor))
    row = {"params": params, "grads": grads, "optimizer": states, "activations": act}
    row["total"] = sum(row.values())
    return row


def ref_train_fp32(seed: int, batches: list[Any]) -> list[float]:
    """The fp32 baseline of the mixed-precision probe: the same AdamW steps without autocast."""
    import torch

    model = build_model(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    losses = []
    for ids in batches:
        opt.zero_grad(set_to_none=True)
        loss = ref_loss(model, ids)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__


def probe(seed: int, out_dir: Path) -> dict[str, Any]:
    """Every measurement; gradients go to ``out_dir/tensors.safetensors``."""
    import optim_basics as ob  # the learner's module (run directory on sys.path)
    import torch
    from safetensors.torch import save_file
    from torch.utils._python_dispatch import TorchDispatchMode

    cases = draw_cases(seed)
    ids, k = cases["ids"], cases["k"]
    result: dict[str, Any] = {"seed": seed, "k": k}
    tensors: dict[str, torch.Tensor] = {}
    layers = int(CONFIG["num_hidden_layers"])

    # 1. accumulation: gradients and the largest batch the model saw
    model = build_model(cases["model_seed"])
    sizes: list[int] = []
    model.model.embed_tokens.register_forward_pre_hook(
        lambda _m, args: sizes.append(int(args[0].shape[0])) if args else None)
    try:
        ob.accumulate_gradients(model, ids.clone(), k)
        for n, p in model.named_parameters():
            if p.grad is not None:
                tensors[f"accum.{n}"] = p.grad.detach().float().contiguous()
        result["accumulation"] = {"batch_sizes": sizes[:64], "calls": len(sizes)}
    except Exception as exc:
        result["accumulation"] = {"error": _one_line(exc)}

    # 2. checkpointing: saved bytes at 1, sqrt(L), L segments; gradients at sqrt(L)
    model = build_model(cases["model_seed"])
    try:
        segs = [1, round(layers ** 0.5), layers]
        def measure(segments: int) -> int:
            return saved_bytes(lambda: ob.checkpointed_loss(model, ids.clone(), segments))

        saved = [measure(s) for s in segs]
        model.zero_grad(set_to_none=True)
        loss = ob.checkpointed_loss(model, ids.clone(), segs[1])
        loss.backward()
        for n, p in model.named_parameters():
            if p.grad is not None:
                tensors[f"ckpt.{n}"] = p.grad.detach().float().contiguous()
        result["checkpointing"] = {"segments": segs, "saved": saved, "loss": float(loss.detach())}
    except Exception as exc:
        result["checkpointing"] = {"error": _one_line(exc)}

    # 3. mixed precision: losses, dtypes, and whether anything ran in bf16
    class Count(TorchDispatchMode):  # type: ignore[no-untyped-call]  # torch's class is untyped
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.bf16 = 0

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and out.dtype == torch.bfloat16:
                self.bf16 += 1
            return out

    model = build_model(cases["model_seed"])
    try:
        with Count() as counter:
            losses = ob.train_mixed(model, [b.clone() for b in cases["mixed"]], LR)
        result["mixed"] = {
            "losses": [float(x) for x in list(losses)[:MIXED_STEPS + 1]],
            "param_dtypes": sorted({str(p.dtype) for p in model.parameters()}),
            "bf16_ops": counter.bf16,
        }
    except Exception as exc:
        result["mixed"] = {"error": _one_line(exc)}
    if tensors:
        save_file(tensors, str(out_dir / "tensors.safetensors"))
    return result


def main() -> int:
    p = argparse.ArgumentParser(description="Lab-1.4 probe: the learner's optim_basics.py")
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out = args.out.resolve()  # before the chdir below
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(args.submission.resolve()))
    os.chdir(args.submission)
    try:
        result = probe(args.seed, args.out)
    except Exception as exc:  # e.g. the module does not import: the submission's failure
        traceback.print_exc()
        result = {"error": _one_line(exc)}
    (args.out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
