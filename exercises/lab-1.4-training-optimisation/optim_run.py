"""Shared by every Lab-1.4 run (do not edit: every run gets this copy): the measurements.

Your train.py holds what you write about the run (the activation bytes of the accumulation row)
and calls ``main(this_module)``; your optim_basics.py holds the techniques. This file measures:

1. Gradient accumulation: the gradient of k = 4 micro-batches against the whole batch's.
2. Gradient checkpointing with √L segments: saved-activation bytes and gradients against no
   checkpointing.
3. Mixed precision: the same 20 AdamW steps in fp32 and under autocast (bf16 on a CPU, fp16 with a
   GradScaler on CUDA), from the same initial weights and batches.
4. A memory profile of one training step in four configurations (fp32, bf16 autocast,
   accumulation, checkpointing): bytes of parameters, gradients, optimizer states and saved
   activations (measured on the CPU, where the counts are exact; on CUDA also
   torch.cuda.max_memory_allocated).

Writes OUTDIR/metrics.json and OUTDIR/memory.json. The grader re-measures everything with its own
code and also calls your functions in optim_basics.py on inputs of its own (a probe).

It also holds the helpers optim_basics.py is given (imported there under their names):
- the model's own loss, the segment ranges and the √L segment count of gradient checkpointing
  (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost");
- the bytes autograd saves for backward (``torch.autograd.graph.saved_tensors_hooks``);
- the autocast dtype (Micikevicius et al. 2018, "Mixed Precision Training": fp16 with loss
  scaling on CUDA; bf16, which has fp32's exponent range, on a CPU) and the fp32 baseline loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import labcommon as lc
import torch

PROFILE = {"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
           "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
           "initializer_range": 0.2, "tie_word_embeddings": False}
"""The tiny Llama (lab.yaml params.profiles.cpu); the same model on CUDA."""
BATCH, SEQ_LEN = 16, 64
"""Batch (sequences) and sequence length of every step."""
ACCUM_K = 4
"""Micro-batches of the accumulation configuration (4 sequences each)."""
STEPS = 20
"""AdamW steps of the fp32 and of the mixed-precision run."""
LEARNING_RATE = 1e-2
"""AdamW learning rate (no weight decay)."""


def lm_loss(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of ``ids`` [batch, seq] (the model's own loss)."""
    loss: torch.Tensor = model(input_ids=ids, labels=ids).loss
    return loss


def segment_bounds(layers: int, segments: int) -> list[tuple[int, int]]:
    """[start, end) layer ranges of ``segments`` near-equal segments of ``layers`` layers."""
    if not 1 <= segments <= layers:
        raise ValueError(f"segments must be in 1..{layers}")
    edges = [round(i * layers / segments) for i in range(segments + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def sqrt_segments(layers: int) -> int:
    """√L segments, rounded (Chen et al. 2016): the memory-optimal count for equal layers."""
    return max(1, round(math.sqrt(layers)))


def saved_bytes(fn: Callable[[], Any]) -> int:
    """Bytes autograd saves for backward while ``fn()`` runs (each distinct storage once)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(seen.values())


def autocast_dtype(device_type: str) -> torch.dtype:
    """bf16 on a CPU (no loss scaling needed: bf16 has fp32's exponent range), fp16 on CUDA."""
    return torch.float16 if device_type == "cuda" else torch.bfloat16


def train_fp32(model: Any, batches: Iterable[torch.Tensor], lr: float) -> list[float]:
    """The same AdamW steps in plain fp32: the baseline mixed precision is compared with."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    losses: list[float] = []
    for ids in batches:
        opt.zero_grad(set_to_none=True)
        loss = lm_loss(model, ids)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def batches(ids: list[int], n: int, seed: int) -> list[Any]:
    """``n`` batches of BATCH random windows of SEQ_LEN tokens (the same for every run)."""
    import torch

    data = torch.tensor(ids, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        starts = torch.randint(0, len(data) - SEQ_LEN, (BATCH,), generator=gen).tolist()
        out.append(torch.stack([data[s : s + SEQ_LEN] for s in starts]))
    return out


def grads_of(model: Any) -> dict[str, Any]:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def max_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    if a.keys() != b.keys():
        return float("inf")
    return max(float((a[n] - b[n]).abs().max()) for n in a)


def profile_step(config: str, seed: int, ids: Any, learner: ModuleType) -> dict[str, int]:
    """One AdamW step of ``config`` on a fresh model; the memory it needs, term by term (CPU)."""
    import optim_basics as ob

    model = lc.build_model(PROFILE, seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    layers = PROFILE["num_hidden_layers"]
    if config == "fp32":
        act = saved_bytes(lambda: lm_loss(model, ids))
        lm_loss(model, ids).backward()
    elif config == "bf16-autocast":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            act = saved_bytes(lambda: lm_loss(model, ids))
            loss = lm_loss(model, ids)
        loss.backward()
    elif config == "accumulation":
        act = learner.accumulation_activation_bytes(model, ids)
        ob.accumulate_gradients(model, ids, ACCUM_K)
    elif config == "checkpointing":
        segments = sqrt_segments(layers)
        act = saved_bytes(lambda: ob.checkpointed_loss(model, ids, segments))
        ob.checkpointed_loss(model, ids, segments).backward()
    else:
        raise ValueError(config)
    opt.step()
    row = ob.model_state_bytes(model, opt)
    row["activations"] = act
    row["total"] = sum(row.values())
    return row


def cuda_peak(config: str, seed: int, ids: Any) -> int:
    """torch.cuda.max_memory_allocated of one step of ``config`` (fp16 + GradScaler for autocast)."""
    import optim_basics as ob

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model = lc.build_model(PROFILE, seed).cuda()
    model.train()
    ids = ids.cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    if config == "bf16-autocast":
        ob.train_mixed(model, [ids], LEARNING_RATE)
    else:
        if config == "fp32":
            lm_loss(model, ids).backward()
        elif config == "accumulation":
            ob.accumulate_gradients(model, ids, ACCUM_K)
        else:
            ob.checkpointed_loss(model, ids, sqrt_segments(PROFILE["num_hidden_layers"])).backward()
        opt.step()
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated())


def main(learner: ModuleType) -> int:
    """The whole run, with the learner's train.py module ``learner``; the exit status."""
    args = lc.parse_args()
    lc.seed_everything(args.seed)
    import optim_basics as ob

    train_ids, val_ids = lc.load_corpus(args.data)
    data = batches(train_ids, STEPS, args.seed)
    total = 4 + 2 * STEPS
    metrics: dict[str, Any] = {"profile": lc.profile(), "batch": BATCH, "seq_len": SEQ_LEN,
                               "accum_k": ACCUM_K, "steps": STEPS}

    # 1. accumulation
    model = lc.build_model(PROFILE, args.seed)
    model.train()
    model.zero_grad(set_to_none=True)
    lm_loss(model, data[0]).backward()
    full = grads_of(model)
    ob.accumulate_gradients(model, data[0], ACCUM_K)
    metrics["accumulation_max_grad_diff"] = max_diff(full, grads_of(model))
    lc.progress(1, total)

    # 2. checkpointing with √L segments
    segments = sqrt_segments(PROFILE["num_hidden_layers"])
    model.zero_grad(set_to_none=True)
    ob.checkpointed_loss(model, data[0], segments).backward()
    metrics["checkpointing"] = {
        "segments": segments,
        "saved_bytes_plain": saved_bytes(lambda: lm_loss(model, data[0])),
        "saved_bytes_checkpointed": saved_bytes(lambda: ob.checkpointed_loss(model, data[0],
                                                                                 segments)),
        "max_grad_diff": max_diff(full, grads_of(model)),
    }
    lc.progress(2, total)
    lc.log(f"accumulation: max |grad diff| {metrics['accumulation_max_grad_diff']:.2e}; "
           f"checkpointing: {metrics['checkpointing']}")

    # 3. fp32 against mixed precision, same start and batches
    device = "cuda" if lc.profile() == "cuda" else "cpu"
    runs: dict[str, list[float]] = {}
    for i, name in enumerate(("fp32", "mixed")):
        model = lc.build_model(PROFILE, args.seed).to(device)
        on_device = [b.to(device) for b in data]
        fn = train_fp32 if name == "fp32" else ob.train_mixed
        runs[name] = fn(model, on_device, LEARNING_RATE)
        lc.progress(3 + i * STEPS + STEPS - 1, total, loss=runs[name][-1])
        metrics[f"val_loss_{name}"] = lc.eval_loss(model, val_ids, SEQ_LEN)
        metrics[f"param_dtypes_{name}"] = sorted({str(p.dtype) for p in model.parameters()})
    metrics["losses"] = runs
    metrics["mixed_precision_dtype"] = "float16" if device == "cuda" else "bfloat16"
    lc.log(f"val loss fp32 {metrics['val_loss_fp32']:.4f}, mixed {metrics['val_loss_mixed']:.4f}")

    # 4. the memory profile (CPU: exact byte counts)
    table: dict[str, Any] = {}
    for name in ("fp32", "bf16-autocast", "accumulation", "checkpointing"):
        table[name] = profile_step(name, args.seed, data[0], learner)
        if torch.cuda.is_available():
            table[name]["cuda_max_memory_allocated"] = cuda_peak(name, args.seed, data[0])
        lc.log(f"{name:14s} {table[name]}")
    lc.progress(total, total)
    lc.write_json(args.out / "metrics.json", metrics)
    lc.write_json(args.out / "memory.json", {"batch": BATCH, "seq_len": SEQ_LEN, "accum_k": ACCUM_K,
                                             "segments": segments, "configs": table})
    lc.done()
    return 0
