"""Lab-1.3, your part of the run: what each rank holds under ZeRO, the full weights, the estimates.

The reference solution. zero_run.py (shared) trains once without ZeRO and once with each config
(ds_zero1.json, ds_zero2.json, ds_zero3.json, ds_zero2_offload.json), calls the functions below
and writes the artifacts.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import zero_run  # noqa: E402 - shared: the driver that calls your functions below
from zero_run import numel  # noqa: E402


def held_after_backward(engine: Any, stage: int) -> dict[str, int]:
    """Elements of parameters and gradients this rank holds after a backward pass that is not at a
    gradient-accumulation boundary (so nothing has been freed by an optimizer step yet).

    Stage 0/1 keep every parameter's full .grad until the boundary; stage 2 reduces each bucket
    during backward and keeps only the gradients of the parameters in its partition
    (``all_grad_tensors``; with offload, the fp32 partition's .grad in CPU memory); stage 3 keeps
    ``grad_partitions_flat_buffer``. Stage 3's parameters are the ``ds_tensor`` shards.
    """
    model, opt = engine.module, engine.optimizer
    if stage == 3:
        params = numel([p.ds_tensor for p in model.parameters()])
    else:
        params = numel(list(model.parameters()))
    if stage <= 1:
        grads = numel([p.grad for p in model.parameters()])
    elif stage == 2:
        grads = numel(getattr(opt, "all_grad_tensors", {})) + numel(
            [g.grad for g in opt.single_partition_of_fp32_groups])
    else:
        grads = numel(opt.grad_partitions_flat_buffer)
    return {"params": params, "grads": grads}


def held_after_step(engine: Any, stage: int) -> dict[str, Any]:
    """Elements of optimizer states this rank holds after the first optimizer step (Adam creates m
    and v lazily): m and v, plus under ZeRO the fp32 master copy of the partition; and where."""
    import torch

    opt = engine.optimizer
    inner = opt if stage == 0 else opt.optimizer
    moments = [t for st in inner.state.values() for t in st.values()
               if torch.is_tensor(t) and t.dim() > 0]
    master: list[Any] = []
    if stage in (1, 2):
        master = list(opt.single_partition_of_fp32_groups)
    elif stage == 3:
        master = list(opt.fp32_partitioned_groups_flat)
    return {"optimizer": numel(moments) + numel(master), "master_partition": numel(master),
            "optimizer_device": moments[0].device.type if moments else "none"}


def full_weights(engine: Any, stage: int) -> dict[str, Any]:
    """The full weights (ZeRO-3: gathered from every rank's partition first)."""
    import deepspeed

    model = engine.module
    if stage == 3:
        with deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None):
            return {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}
    return {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}


def deepspeed_estimates(psi: int, largest_layer: int, world: int) -> dict[str, Any]:
    """DeepSpeed's own estimators of model-state memory (bytes) for one node of ``world`` GPUs."""
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    out: dict[str, Any] = {"params": psi, "largest_layer_params": largest_layer, "gpus": world}
    for name, offload in (("zero2", False), ("zero2_offload", True)):
        cpu, gpu = estimate_zero2_model_states_mem_needs(psi, num_gpus_per_node=world,
                                                         cpu_offload=offload)
        out[name] = {"gpu_bytes": gpu, "cpu_bytes": cpu}
    cpu, gpu, _ = estimate_zero3_model_states_mem_needs(psi, largest_layer, num_gpus_per_node=world,
                                                        cpu_offload=False)
    out["zero3"] = {"gpu_bytes": gpu, "cpu_bytes": cpu}
    return out


if __name__ == "__main__":
    sys.exit(zero_run.main(sys.modules[__name__]))
