"""Lab-1.3: DeepSpeed ZeRO stages 1, 2, 3 and ZeRO-Offload on two ranks.

Run (two ranks; the lab runner starts them for you):
    deepspeed --no_local_rank --num_gpus 2 train.py --out OUTDIR --data DATADIR --seed 0   (GPUs)
    torchrun --nproc_per_node 2 train.py --out OUTDIR --data DATADIR --seed 0 (CPU, gloo)

The same tiny Llama is trained five times from the same seed on the same batches: once without
ZeRO (stage 0, the reference) and once with each of your DeepSpeed configs
(ds_zero1.json, ds_zero2.json, ds_zero3.json, ds_zero2_offload.json). After the first backward
pass of each run, every rank reads from the engine how many elements of parameters, gradients and
optimizer states it holds (Rajbhandari et al. 2020: ZeRO-1 partitions the optimizer states, ZeRO-2
also the gradients, ZeRO-3 also the parameters; Ren et al. 2021: ZeRO-Offload keeps the optimizer
partition in CPU memory).

Writes into OUTDIR (the grader recomputes every number from these files):
  <run>/model.safetensors               the full weights after training (rank 0; gathered for ZeRO-3)
  <run>/rank<r>/states.json             what rank r holds: element counts and devices
  <run>/rank<r>/partition.safetensors   rank r's fp32 master partition (ZeRO runs)
  <run>/config.json                     the config as the engine ran it
  estimates.json                        DeepSpeed's own memory estimators for this model and world
  metrics.json                          losses of every run
where <run> is zero0, zero1, zero2, zero3, zero2_offload.
Progress goes to stdout as JSON lines (rank 0); logs go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir

import labcommon as lc  # noqa: E402

MODEL = {"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
         "initializer_range": 0.2, "tie_word_embeddings": False}
"""The tiny Llama (lab.yaml params.profiles.cpu; the grader rebuilds it from the same seed)."""
SEQ_LEN = 64
"""Tokens (bytes) per training window."""
STEPS = 20
"""Optimizer steps of every run."""
RUNS = {"zero0": None, "zero1": "ds_zero1.json", "zero2": "ds_zero2.json",
        "zero3": "ds_zero3.json", "zero2_offload": "ds_zero2_offload.json"}
"""Run name -> your config file (zero0: ds_zero1.json with the stage set to 0)."""


def on_gpus() -> bool:
    """Whether every rank gets its own CUDA GPU (NCCL); otherwise all ranks run on the CPU with
    gloo (a single GPU cannot host two NCCL ranks)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.device_count() >= lc.dist_env()[1]


def load_config(name: str, world: int) -> dict[str, Any]:
    """One of your config files, with a clear message when it is not a usable ZeRO config."""
    path = Path(os.path.dirname(os.path.abspath(__file__))) / name
    cfg = json.loads(path.read_text(encoding="utf-8"))
    micro, accum = cfg.get("train_micro_batch_size_per_gpu"), cfg.get("gradient_accumulation_steps")
    total = cfg.get("train_batch_size")
    if not all(isinstance(v, int) and v > 0 for v in (micro, accum, total)):
        raise SystemExit(f"{name}: train_batch_size, train_micro_batch_size_per_gpu and "
                         "gradient_accumulation_steps must be positive integers")
    if total != micro * accum * world:
        raise SystemExit(f"{name}: train_batch_size {total} != micro {micro} x accumulation "
                         f"{accum} x world {world}")
    return cfg


def _numel(obj: Any) -> int:
    """Elements in a tensor, or in the tensors of a (nested) list, tuple or dict."""
    import torch

    if torch.is_tensor(obj):
        return obj.numel()
    if isinstance(obj, dict):
        return sum(_numel(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_numel(v) for v in obj)
    return 0


def held_after_backward(engine: Any, stage: int) -> dict[str, int]:
    """Elements of parameters and gradients this rank holds after a backward pass that is not at a
    gradient-accumulation boundary (so nothing has been freed by an optimizer step yet).

    Stage 0/1 keep every parameter's full .grad until the boundary; stage 2 reduces each bucket
    during backward and keeps only the gradients of the parameters in its partition
    (``all_grad_tensors``; with offload, the fp32 partition's .grad in CPU memory); stage 3 keeps
    ``grad_partitions_flat_buffer``. Stage 3's parameters are the ``ds_tensor`` shards.
    """
    # TODO: return {"params": ..., "grads": ...}, element counts (use _numel) read from
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


def master_partition(engine: Any, stage: int) -> Any:
    """This rank's fp32 master partition, flat (what its optimizer updates)."""
    import torch

    opt = engine.optimizer
    groups = opt.single_partition_of_fp32_groups if stage in (1, 2) else opt.fp32_partitioned_groups_flat
    return torch.cat([g.detach().float().cpu().reshape(-1) for g in groups])


def full_weights(engine: Any, stage: int) -> dict[str, Any]:
    """The full weights (ZeRO-3: gathered from every rank's partition first)."""
    import deepspeed  # noqa: F401

    # TODO: at stage 3 every rank holds only a shard of each parameter: gather them inside
    # `with deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None):`
    # and copy model.state_dict() there (float32, on the CPU); other stages copy it directly.
    raise NotImplementedError("full_weights")


def global_batches(n: int, steps: int, global_batch: int, seed: int) -> Any:
    """The window indices of every optimizer step, the same on every rank and in every run."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen)[:global_batch] for _ in range(steps)]


def train_run(name: str, cfg: dict[str, Any], data: Any, plan: Any, args: Any, offset: int,
              total: int) -> dict[str, Any]:
    """One DeepSpeed training run; writes its artifacts under OUTDIR/<name>/."""
    import deepspeed
    import torch
    from safetensors.torch import save_file

    rank, world, _ = lc.dist_env()
    stage = int(cfg["zero_optimization"]["stage"])
    micro, accum = cfg["train_micro_batch_size_per_gpu"], cfg["gradient_accumulation_steps"]
    model = lc.build_model(MODEL, args.seed)
    model.train()
    engine, _, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters(),
                                           config=cfg)
    run_dir = args.out / name
    rdir = lc.rank_dir(run_dir)
    losses: list[float] = []
    states: dict[str, Any] | None = None
    for step, idx in enumerate(plan):
        step_loss = 0.0
        for m in range(accum):
            start = (m * world + rank) * micro  # micro-batch m of this rank
            batch = data[idx[start : start + micro]].to(engine.device)
            loss = engine(input_ids=batch, labels=batch).loss
            engine.backward(loss)
            if states is None:  # the first backward, before any boundary
                states = held_after_backward(engine, stage)
            engine.step()
            if step == 0 and m == accum - 1:  # the first optimizer step has run
                states.update(held_after_step(engine, stage))
            step_loss += loss.item() / accum
        losses.append(step_loss)
        lc.progress(offset + step + 1, total, step_loss, run=name)
    assert states is not None
    states.update({"rank": rank, "world": world, "stage": stage,
                   "offload": cfg["zero_optimization"].get("offload_optimizer", {}).get("device", "none")})
    lc.write_json(rdir / "states.json", states)
    if stage > 0:
        save_file({"fp32": master_partition(engine, stage).contiguous()},
                  str(rdir / "partition.safetensors"))
    weights = full_weights(engine, stage)
    if rank == 0:
        save_file({k: v.contiguous() for k, v in weights.items()}, str(run_dir / "model.safetensors"))
        lc.write_json(run_dir / "config.json", {
            "config": cfg, "train_batch_size": engine.train_batch_size(),
            "train_micro_batch_size_per_gpu": engine.train_micro_batch_size_per_gpu(),
            "gradient_accumulation_steps": engine.gradient_accumulation_steps(),
            "world": world, "zero_stage": engine.zero_optimization_stage(),
        })
    engine.destroy()
    del engine
    torch.distributed.barrier()
    return {"stage": stage, "loss": losses}


def deepspeed_estimates(psi: int, largest_layer: int, world: int) -> dict[str, Any]:
    """DeepSpeed's own estimators of model-state memory (bytes) for one node of ``world`` GPUs."""
    # TODO: call DeepSpeed's estimators (deepspeed.runtime.zero.stage_1_and_2.
    # estimate_zero2_model_states_mem_needs and deepspeed.runtime.zero.stage3.
    # estimate_zero3_model_states_mem_needs) with num_gpus_per_node=world, and return
    # {"params": psi, "largest_layer_params": largest_layer, "gpus": world,
    #  "zero2": {"gpu_bytes", "cpu_bytes"} (cpu_offload=False),
    #  "zero2_offload": {...} (cpu_offload=True), "zero3": {...} (cpu_offload=False)}.
    raise NotImplementedError("deepspeed_estimates")


def main() -> int:
    args = lc.parse_args()
    t0 = time.perf_counter()
    import torch

    gpus = on_gpus()
    if not gpus:
        os.environ["DS_ACCELERATOR"] = "cpu"  # before deepspeed is imported
    import deepspeed

    if not gpus:
        # DeepSpeed's CPU backend JIT-compiles a shared-memory all-reduce kernel (meant for CPU
        # inference) when it starts; gloo runs this lab's collectives, and compiling the kernel
        # takes minutes in a fresh sandbox, where no build cache survives
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    deepspeed.init_distributed(dist_backend="nccl" if gpus else "gloo")
    rank, world, _ = lc.dist_env()
    train_ids, _ = lc.load_corpus(args.data)
    data = lc.windows(train_ids, SEQ_LEN)
    configs = {name: load_config(file or "ds_zero1.json", world) for name, file in RUNS.items()}
    configs["zero0"] = {**configs["zero0"], "zero_optimization": {"stage": 0}}
    plan = global_batches(len(data), STEPS, configs["zero1"]["train_batch_size"], args.seed)
    lc.log(f"world {world}: {len(data)} windows, {STEPS} steps per run "
           f"({time.perf_counter() - t0:.1f} s)")
    results: dict[str, Any] = {}
    for i, (name, cfg) in enumerate(configs.items()):
        results[name] = train_run(name, cfg, data, plan, args, i * STEPS, len(configs) * STEPS)
        lc.log(f"{name}: loss {results[name]['loss'][0]:.4f} -> {results[name]['loss'][-1]:.4f} "
               f"({time.perf_counter() - t0:.1f} s)")
    if rank == 0:
        model = lc.build_model(MODEL, args.seed)
        psi = sum(p.numel() for p in model.parameters())
        # the largest module's own parameters: what ZeRO-3 gathers at once (here the embedding)
        largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
        lc.write_json(args.out / "estimates.json", deepspeed_estimates(psi, largest, world))
        lc.write_json(args.out / "metrics.json", {
            "world": world, "steps": STEPS, "seq_len": SEQ_LEN, "params": psi, "runs": results,
            "wall_s": round(time.perf_counter() - t0, 2)})
    torch.distributed.barrier()
    lc.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
