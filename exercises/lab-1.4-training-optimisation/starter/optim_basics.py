"""Training-memory techniques on the tiny Llama (Lab-1.4): yours to write at each TODO.

Write accumulation, checkpointing, the memory count and mixed precision here; the helpers you are
given (lm_loss, segment_bounds, autocast_dtype, train_fp32, ...) live in the shared optim_run.py:
do not edit it. The grader calls your functions in a probe, on inputs of its own.
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
    # TODO: zero the gradients (model.zero_grad(set_to_none=True)), split ids into k equal
    #       micro-batches (ids.chunk(k)) and call backward() on each micro-batch's loss scaled so
    #       that the sum of the k gradients equals the gradient of the whole batch's mean loss.
    raise NotImplementedError("TODO: gradient accumulation")


def checkpointed_loss(model: Any, ids: torch.Tensor, segments: int) -> torch.Tensor:
    """``lm_loss`` with the decoder layers run in ``segments`` checkpointed segments.

    Only each segment's input is saved for backward (``use_reentrant=True`` saves the inputs
    through ``ctx.save_for_backward``, so a saved-tensor hook counts them); the layers inside a
    segment run again during the backward pass.
    """
    # TODO: run the model by hand (the tiny Llama, transformers 5):
    #         inner = model.model; h = inner.embed_tokens(ids)
    #         pos = torch.arange(seq)[None]; cos, sin = inner.rotary_emb(h, pos)
    #         each layer: h = layer(h, attention_mask=None, position_ids=pos,
    #                               position_embeddings=(cos, sin))
    #         logits = model.lm_head(inner.norm(h)); loss = cross-entropy of logits[:, :-1]
    #         against ids[:, 1:]
    #       but run the layers in `segments` groups (segment_bounds), each group through
    #       checkpoint(fn, h, cos, sin, use_reentrant=True) so only its input is saved.
    raise NotImplementedError("TODO: checkpointed forward pass")


def model_state_bytes(model: Any, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Bytes of the parameters, their gradients and every tensor in the optimizer's state."""
    # TODO: numel() * element_size() summed over the parameters, over their .grad (when not None)
    #       and over every tensor in optimizer.state (exp_avg, exp_avg_sq and step for AdamW).
    return {"params": 0, "grads": 0, "optimizer": 0}


def train_mixed(model: Any, batches: Iterable[torch.Tensor], lr: float) -> list[float]:
    """AdamW steps with the forward pass under autocast; the parameters stay fp32 (master weights).

    On CUDA the fp16 loss is scaled by a GradScaler so small gradients do not underflow
    (Micikevicius et al. 2018, section 3.2); bf16 on a CPU needs no scaling.
    """
    # TODO: like train_fp32 (given, in optim_run.py), but run the forward pass (the loss) inside
    #       torch.autocast(device_type, dtype=autocast_dtype(device_type)) and the backward pass
    #       outside it; the parameters must stay float32. On CUDA scale the loss with
    #       torch.amp.GradScaler("cuda"): scaler.scale(loss).backward(); scaler.step(opt);
    #       scaler.update().
    raise NotImplementedError("TODO: mixed-precision training")
