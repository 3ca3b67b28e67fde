"""Shared by every Lab-1.2 run (do not edit: every run gets this copy): the driver.

Your train.py holds what you write (joining the process group, the sampler, the DDP wrapper,
averaging the gradients with your ring all-reduce) and calls ``main(this_module)``; this file
loads the data, plans the batches, trains twice and writes the artifacts:

Part 1  DDP: join the process group, shard the training windows with a DistributedSampler, wrap
        the seeded tiny Llama in DistributedDataParallel and train (Li et al. 2020).
Part 2  The same training without DDP: after every backward pass, your ``average_gradients``
        averages the gradients with your ring all-reduce (ring.py).

Writes into OUTDIR (the grader recomputes every number from these files):
  rank<r>/steps.json        this rank's shard of every epoch, the window indices of every step and
                            its local losses (DDP run and ring run)
  rank<r>/ddp.safetensors   this rank's weights after the DDP run
  rank<r>/ring.safetensors  this rank's weights after the ring run
  metrics.json              (rank 0) the set-up: world size, batch sizes, steps, parameter count
Progress goes to stdout as JSON lines (rank 0); logs go to stderr.
"""

from __future__ import annotations

import os
import time
from types import ModuleType
from typing import Any

import labcommon as lc

# your train.py imports this file first, before anything loads transformers (lab.yaml env sets
# it too; this keeps a run by hand offline as well)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROFILES: dict[str, dict[str, Any]] = {"cpu": {
    "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
    "initializer_range": 0.2, "tie_word_embeddings": False}}
"""The tiny Llama (lab.yaml params.profiles, which `tutor dev check` keeps equal to this; the
grader rebuilds the model from the same seed and profile)."""
MODEL = PROFILES["cpu"]
"""What both runs train on every rank, on GPUs too."""
SEQ_LEN = 64
"""Tokens (bytes) per training window."""
PER_RANK_BATCH = 8
"""Windows per rank per step; the global batch is PER_RANK_BATCH × world size."""
STEPS = 24
"""Optimizer steps of each run (a little more than one epoch of the shards)."""
LEARNING_RATE = 1e-2


def on_gpus() -> bool:
    """Whether every rank gets its own CUDA GPU (NCCL); otherwise all ranks run on the CPU with
    gloo (a single GPU cannot host two NCCL ranks)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.device_count() >= lc.dist_env()[1]


def batches(sampler: Any, steps: int) -> tuple[list[list[int]], list[list[int]]]:
    """(this rank's shard of every epoch, the window indices of every step)."""
    shards: list[list[int]] = []
    plan: list[list[int]] = []
    epoch = 0
    while len(plan) < steps:
        sampler.set_epoch(epoch)  # a new shuffle every epoch, the same on every rank
        shard = list(sampler)
        shards.append(shard)
        for i in range(0, len(shard) - PER_RANK_BATCH + 1, PER_RANK_BATCH):
            if len(plan) < steps:
                plan.append(shard[i : i + PER_RANK_BATCH])
        epoch += 1
    return shards, plan


def train(model: Any, data: Any, plan: list[list[int]], step_fn: Any, offset: int,
          total: int) -> list[float]:
    """AdamW over the planned batches; ``step_fn(model)`` runs between backward and step."""
    import torch

    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    model.train()
    losses: list[float] = []
    for i, idx in enumerate(plan):
        batch = data[idx].to(device)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        step_fn(model)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        lc.progress(offset + i + 1, total, losses[-1])
    return losses


def save_weights(model: Any, path: Any) -> None:
    """The model's weights as safetensors (contiguous CPU copies)."""
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(path))


def main(learner: ModuleType) -> int:
    """The whole run; ``learner`` is your train.py (init_distributed, make_sampler, wrap_ddp,
    average_gradients)."""
    args = lc.parse_args()
    t0 = time.perf_counter()
    import torch
    import torch.distributed as dist

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    rank, world = learner.init_distributed()
    lc.seed_everything(args.seed)
    train_ids, _ = lc.load_corpus(args.data)
    data = lc.windows(train_ids, SEQ_LEN)
    shards, plan = batches(learner.make_sampler(len(data), rank, world, args.seed), STEPS)
    lc.log(f"world {world}: {len(data)} windows, {len(shards[0])} per rank per epoch, "
           f"{STEPS} steps of {PER_RANK_BATCH} x {world} ({time.perf_counter() - t0:.1f} s)")
    device = f"cuda:{lc.dist_env()[2]}" if on_gpus() else "cpu"
    rdir = lc.rank_dir(args.out)

    # ---- Part 1: DDP -------------------------------------------------------------------------
    model = learner.wrap_ddp(lc.build_model(MODEL, args.seed).to(device))
    ddp_losses = train(model, data, plan, lambda m: None, 0, 2 * STEPS)
    save_weights(model.module, rdir / "ddp.safetensors")
    lc.log(f"DDP: loss {ddp_losses[0]:.4f} -> {ddp_losses[-1]:.4f} ({time.perf_counter() - t0:.1f} s)")

    # ---- Part 2: no DDP, your ring all-reduce averages the gradients --------------------------
    plain = lc.build_model(MODEL, args.seed).to(device)
    ring_losses = train(plain, data, plan, lambda m: learner.average_gradients(m, world), STEPS,
                        2 * STEPS)
    save_weights(plain, rdir / "ring.safetensors")
    lc.log(f"ring: loss {ring_losses[0]:.4f} -> {ring_losses[-1]:.4f} "
           f"({time.perf_counter() - t0:.1f} s)")

    lc.write_json(rdir / "steps.json", {
        "rank": rank, "world": world, "shards": shards, "batches": plan,
        "ddp_loss": ddp_losses, "ring_loss": ring_losses,
    })
    if rank == 0:
        lc.write_json(args.out / "metrics.json", {
            "world": world, "per_rank_batch": PER_RANK_BATCH, "global_batch": PER_RANK_BATCH * world,
            "seq_len": SEQ_LEN, "steps": STEPS, "windows": len(data),
            "params": sum(p.numel() for p in plain.parameters()),
            "wall_s": round(time.perf_counter() - t0, 2),
        })
    dist.barrier()  # every rank's files are written before rank 0 reports done
    lc.done()
    dist.destroy_process_group()
    return 0
