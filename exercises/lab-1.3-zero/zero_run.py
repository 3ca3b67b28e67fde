"""Shared by every Lab-1.3 run (do not edit: every run gets this copy): the driver.

Your train.py holds what you write (reading from the engine what each rank holds, gathering the
full weights, DeepSpeed's own estimators) and calls ``main(this_module)``; this file trains and
writes the artifacts with it.

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
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import labcommon as lc

# no download, even in a run started by hand (lab.yaml env sets it for graded runs): train.py
# imports this module before deepspeed or transformers is loaded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEQ_LEN = 64
"""Tokens (bytes) per training window."""
STEPS = 20
"""Optimizer steps of every run."""
RUNS = {"zero0": None, "zero1": "ds_zero1.json", "zero2": "ds_zero2.json",
        "zero3": "ds_zero3.json", "zero2_offload": "ds_zero2_offload.json"}
"""Run name -> your config file (zero0: ds_zero1.json with the stage set to 0)."""
PROFILES: dict[str, dict[str, Any]] = {"cpu": {
    "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
    "initializer_range": 0.2, "tie_word_embeddings": False}}
"""The seeded tiny Llama of all five runs, on GPUs too: equal to lab.yaml params.profiles
(`tutor dev check` compares them), from which the grader rebuilds it."""
MODEL = PROFILES["cpu"]


def load_config(folder: Path, name: str, world: int) -> dict[str, Any]:
    """One of your config files (in ``folder``, beside your train.py), with a clear message when it
    is not a usable ZeRO config."""
    path = folder / name
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


def numel(obj: Any) -> int:
    """Elements in a tensor, or in the tensors of a (nested) list, tuple or dict."""
    import torch

    if torch.is_tensor(obj):
        return obj.numel()
    if isinstance(obj, dict):
        return sum(numel(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(numel(v) for v in obj)
    return 0


def master_partition(engine: Any, stage: int) -> Any:
    """This rank's fp32 master partition, flat (what its optimizer updates)."""
    import torch

    opt = engine.optimizer
    groups = opt.single_partition_of_fp32_groups if stage in (1, 2) else opt.fp32_partitioned_groups_flat
    return torch.cat([g.detach().float().cpu().reshape(-1) for g in groups])


def global_batches(n: int, steps: int, global_batch: int, seed: int) -> Any:
    """The window indices of every optimizer step, the same on every rank and in every run."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen)[:global_batch] for _ in range(steps)]


def train_run(learner: ModuleType, name: str, cfg: dict[str, Any], data: Any, plan: Any, args: Any,
              offset: int, total: int) -> dict[str, Any]:
    """One DeepSpeed training run with your functions (``learner``); writes its artifacts under
    OUTDIR/<name>/."""
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
                states = learner.held_after_backward(engine, stage)
            engine.step()
            if step == 0 and m == accum - 1:  # the first optimizer step has run
                states.update(learner.held_after_step(engine, stage))
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
    weights = learner.full_weights(engine, stage)
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


def main(learner: ModuleType) -> int:
    """The whole run; ``learner`` is your train.py (held_after_backward, held_after_step,
    full_weights, deepspeed_estimates) and the folder of your config files."""
    args = lc.parse_args()
    t0 = time.perf_counter()
    import torch

    # every rank its own CUDA GPU (NCCL); otherwise all ranks on the CPU with gloo (a single GPU
    # cannot host two NCCL ranks)
    gpus = torch.cuda.is_available() and torch.cuda.device_count() >= lc.dist_env()[1]
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
    folder = Path(os.path.dirname(os.path.abspath(str(learner.__file__))))
    configs = {name: load_config(folder, file or "ds_zero1.json", world)
               for name, file in RUNS.items()}
    configs["zero0"] = {**configs["zero0"], "zero_optimization": {"stage": 0}}
    plan = global_batches(len(data), STEPS, configs["zero1"]["train_batch_size"], args.seed)
    lc.log(f"world {world}: {len(data)} windows, {STEPS} steps per run "
           f"({time.perf_counter() - t0:.1f} s)")
    results: dict[str, Any] = {}
    for i, (name, cfg) in enumerate(configs.items()):
        results[name] = train_run(learner, name, cfg, data, plan, args, i * STEPS,
                                  len(configs) * STEPS)
        lc.log(f"{name}: loss {results[name]['loss'][0]:.4f} -> {results[name]['loss'][-1]:.4f} "
               f"({time.perf_counter() - t0:.1f} s)")
    if rank == 0:
        model = lc.build_model(MODEL, args.seed)
        psi = sum(p.numel() for p in model.parameters())
        # the largest module's own parameters: what ZeRO-3 gathers at once (here the embedding)
        largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
        lc.write_json(args.out / "estimates.json", learner.deepspeed_estimates(psi, largest, world))
        lc.write_json(args.out / "metrics.json", {
            "world": world, "steps": STEPS, "seq_len": SEQ_LEN, "params": psi, "runs": results,
            "wall_s": round(time.perf_counter() - t0, 2)})
    torch.distributed.barrier()
    lc.done()
    return 0
