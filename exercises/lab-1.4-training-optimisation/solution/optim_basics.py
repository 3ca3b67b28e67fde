"""Training-memory techniques on the tiny Llama (Lab-1.4): what each one saves, measured.

- Gradient accumulation: k micro-batches of b/k samples, each loss scaled by 1/k, give the
  gradient of the whole batch of b while only b/k samples' activations are alive at once.
- Gradient checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"): keep
  only the inputs of k segments of the L layers and recompute each segment in the backward pass;
  activation memory ~ k·(segment input) + (L/k)·(one layer), smallest near k = √L.
- Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training"): run the forward pass in
  16-bit (bf16 autocast on a CPU; fp16 with a loss-scaling GradScaler on CUDA) while the optimizer
  updates fp32 master weights.
- A memory profile: bytes of parameters, gradients, optimizer states and of the activations
  autograd saves for backward (counted with ``torch.autograd.graph.saved_tensors_hooks``).

The grader imports this module in a probe and calls these functions on inputs of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def lm_loss(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of ``ids`` [batch, seq] (the model's own loss)."""
    loss: torch.Tensor = model(input_ids=ids, labels=ids).loss
    return loss


def accumulate_gradients(model: Any, ids: torch.Tensor, k: int) -> None:
    """Fill ``.grad`` with the gradient of ``lm_loss(model, ids)`` using k equal micro-batches.

    The model never sees more than len(ids) / k samples at once.
    """
    if k <= 0 or len(ids) % k:
        raise ValueError(f"k={k} must divide the batch of {len(ids)}")
    model.zero_grad(set_to_none=True)
    for micro in ids.chunk(k):
        # the batch loss is the mean of the k micro-batch means: scale each by 1/k
        (lm_loss(model, micro) / k).backward()


def segment_bounds(layers: int, segments: int) -> list[tuple[int, int]]:
    """[start, end) layer ranges of ``segments`` near-equal segments of ``layers`` layers."""
    if not 1 <= segments <= layers:
        raise ValueError(f"segments must be in 1..{layers}")
    edges = [round(i * layers / segments) for i in range(segments + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def checkpointed_loss(model: Any, ids: torch.Tensor, segments: int) -> torch.Tensor:
    """``lm_loss`` with the decoder layers run in ``segments`` checkpointed segments.

    Only each segment's input is saved for backward (``use_reentrant=True`` saves the inputs
    through ``ctx.save_for_backward``, so a saved-tensor hook counts them); the layers inside a
    segment run again during the backward pass.
    """
    inner = model.model
    layers = list(inner.layers)
    h = inner.embed_tokens(ids)
    pos = torch.arange(ids.shape[1], device=ids.device)[None]
    cos, sin = inner.rotary_emb(h, pos)

    def run(start: int, end: int) -> Callable[..., torch.Tensor]:
        def segment(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
            for layer in layers[start:end]:
                out = layer(x, attention_mask=None, position_ids=pos, position_embeddings=(cos, sin))
                x = out[0] if isinstance(out, tuple) else out
            return x
        return segment

    for start, end in segment_bounds(len(layers), segments):
        h = checkpoint(run(start, end), h, cos, sin, use_reentrant=True)
    logits = model.lm_head(inner.norm(h)).float()
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


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


def model_state_bytes(model: Any, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Bytes of the parameters, their gradients and every tensor in the optimizer's state."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters()
                if p.grad is not None)
    states = sum(t.numel() * t.element_size() for state in optimizer.state.values()
                 for t in state.values() if isinstance(t, torch.Tensor))
    return {"params": params, "grads": grads, "optimizer": states}


def autocast_dtype(device_type: str) -> torch.dtype:
    """bf16 on a CPU (no loss scaling needed: bf16 has fp32's exponent range), fp16 on CUDA."""
    return torch.float16 if device_type == "cuda" else torch.bfloat16


def train_mixed(model: Any, batches: Iterable[torch.Tensor], lr: float) -> list[float]:
    """AdamW steps with the forward pass under autocast; the parameters stay fp32 (master weights).

    On CUDA the fp16 loss is scaled by a GradScaler so small gradients do not underflow
    (Micikevicius et al. 2018, section 3.2); bf16 on a CPU needs no scaling.
    """
    device_type = next(model.parameters()).device.type
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    scaler = torch.amp.GradScaler("cuda") if device_type == "cuda" else None
    model.train()
    losses: list[float] = []
    for ids in batches:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type, dtype=autocast_dtype(device_type)):
            loss = lm_loss(model, ids)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        losses.append(float(loss.detach()))
    return losses


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
