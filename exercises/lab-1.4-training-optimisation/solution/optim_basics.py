"""Training-memory techniques on the tiny Llama (Lab-1.4): the reference solution of optim_basics.

The helpers the learner is given come from the shared optim_run.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F

# given, from the shared optim_run.py (train_fp32: the fp32 baseline, callable here as before)
from optim_run import autocast_dtype, lm_loss, segment_bounds, train_fp32  # noqa: F401
from torch.utils.checkpoint import checkpoint


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


def model_state_bytes(model: Any, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Bytes of the parameters, their gradients and every tensor in the optimizer's state."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters()
                if p.grad is not None)
    states = sum(t.numel() * t.element_size() for state in optimizer.state.values()
                 for t in state.values() if isinstance(t, torch.Tensor))
    return {"params": params, "grads": grads, "optimizer": states}


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
