"""Lab-1.3, your part of the run: what each rank holds under ZeRO, the full weights, the estimates.

Run (two ranks; the lab runner starts them for you):
    deepspeed --no_local_rank --num_gpus 2 train.py --out OUTDIR --data DATADIR --seed 0   (GPUs)
    torchrun --nproc_per_node 2 train.py --out OUTDIR --data DATADIR --seed 0 (CPU, gloo)
zero_run.py (shared) trains once without ZeRO and once with each of your configs (ds_zero1.json,
ds_zero2.json, ds_zero3.json, ds_zero2_offload.json), calls the functions below and writes the
artifacts. Replace every TODO below, and fill in the four config files.
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
    gradient-accumulation boundary (so nothing has been freed by an optimizer step yet)."""
    # TODO: return {"params": ..., "grads": ...}, element counts (use numel) read from
    # model = engine.module and opt = engine.optimizer:
    #  params: stage 3 -> the shards [p.ds_tensor for p in model.parameters()], else every parameter;
    #  grads:  stage 0/1 -> [p.grad for p in model.parameters()];
    #          stage 2   -> opt.all_grad_tensors plus [g.grad for g in opt.single_partition_of_fp32_groups];
    #          stage 3   -> opt.grad_partitions_flat_buffer.
    raise NotImplementedError("held_after_backward")


def held_after_step(engine: Any, stage: int) -> dict[str, Any]:
    """Elements of optimizer states this rank holds after the first optimizer step (Adam creates m
    and v lazily): m and v, plus under ZeRO the fp32 master copy of the partition; and where."""
    import torch  # noqa: F401

    # TODO: the inner torch optimizer is engine.optimizer at stage 0, engine.optimizer.optimizer
    # under ZeRO; its .state holds m and v per parameter (count the tensors with dim() > 0). The
    # fp32 master partition is opt.single_partition_of_fp32_groups (stages 1, 2) or
    # opt.fp32_partitioned_groups_flat (stage 3). Return
    # {"optimizer": m + v + master, "master_partition": master, "optimizer_device": "cpu" | "cuda"}.
    raise NotImplementedError("held_after_step")


def full_weights(engine: Any, stage: int) -> dict[str, Any]:
    """The full weights (ZeRO-3: gathered from every rank's partition first)."""
    import deepspeed  # noqa: F401

    # TODO: at stage 3 every rank holds only a shard of each parameter: gather them inside
    # `with deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None):`
    # and copy model.state_dict() there (float32, on the CPU); other stages copy it directly.
    raise NotImplementedError("full_weights")


def deepspeed_estimates(psi: int, largest_layer: int, world: int) -> dict[str, Any]:
    """DeepSpeed's own estimators of model-state memory (bytes) for one node of ``world`` GPUs."""
    # TODO: call DeepSpeed's estimators (deepspeed.runtime.zero.stage_1_and_2.
    # estimate_zero2_model_states_mem_needs and deepspeed.runtime.zero.stage3.
    # estimate_zero3_model_states_mem_needs) with num_gpus_per_node=world, and return
    # {"params": psi, "largest_layer_params": largest_layer, "gpus": world,
    #  "zero2": {"gpu_bytes", "cpu_bytes"} (cpu_offload=False),
    #  "zero2_offload": {...} (cpu_offload=True), "zero3": {...} (cpu_offload=False)}.
    raise NotImplementedError("deepspeed_estimates")


if __name__ == "__main__":
    sys.exit(zero_run.main(sys.modules[__name__]))
