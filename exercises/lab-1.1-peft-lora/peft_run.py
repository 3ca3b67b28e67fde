"""Shared by every Lab-1.1 run (do not edit: every run gets this copy): the training loop.

Your train.py holds what you write (the peft and bitsandbytes configs, the 4-bit byte count) and
calls ``main(this_module)``; this file trains, saves and measures with it:

Part 1  LoRA: adapt every linear layer of the tiny Llama with peft, train, save the adapter, merge.
Part 2  QLoRA: load the same base in 4-bit NF4 (bitsandbytes), train LoRA on top, measure how many
        bytes the quantized linear weights take against float32.
Part 3  Your hand-written LoRALinear (lora_layer.py), given peft's weights, next to peft's layer
        (compare.safetensors, for you to look at; the grader runs your layer itself).

Writes into OUTDIR (the grader recomputes every number from these files):
  adapter/adapter_model.safetensors, adapter/adapter_config.json    the trained LoRA adapter
  merged.safetensors                     the merged model's weights  W0 + (alpha/r) B A
  compare.safetensors                    inputs and outputs of your layer next to peft's
  qlora/adapter/adapter_model.safetensors, qlora/memory.json
  metrics.json                           what you measured
Progress goes to stdout as JSON lines; logs go to stderr.

The model, corpus split, byte tokenizer and evaluation loss come from labcommon.py
(exercises/_common): a seeded tiny Llama built from ``PROFILES`` (the grader rebuilds it from
lab.yaml ``params.profiles``, which `tutor dev check` keeps equal to these).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import labcommon as lc

LORA_R = 8
"""Rank of every LoRA update."""
LORA_ALPHA = 16
"""LoRA alpha; the update is scaled by alpha / r."""
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
"""Every linear layer of the Llama blocks."""
STEPS = {"cpu": 120, "cuda": 600}
"""LoRA training steps per profile."""
QLORA_STEPS = {"cpu": 30, "cuda": 200}
"""QLoRA training steps per profile."""
BATCH_SIZE = 16
LEARNING_RATE = 1e-2
COMPARE_MODULE = "model.layers.0.self_attn.q_proj"
"""The layer whose peft output your hand-written layer must reproduce."""
SEQ_LEN = {"cpu": 64, "cuda": 128}
"""Tokens per training / evaluation window."""

PROFILES: dict[str, dict[str, Any]] = {
    "cpu": {
        "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128,
        "initializer_range": 0.2, "tie_word_embeddings": False,
    },
    "cuda": {
        "vocab_size": 256, "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 4,
        "num_attention_heads": 8, "num_key_value_heads": 8, "max_position_embeddings": 256,
        "initializer_range": 0.2, "tie_word_embeddings": False,
    },
}
"""Model configs: the small one on CPU, a larger one when CUDA is available."""


def train(task: Any, model: Any, ids: list[int], seq_len: int, steps: int, seed: int,
          offset: int, total: int) -> list[float]:
    """Train the trainable parameters on random windows; returns the loss of every step."""
    import torch

    device = next(model.parameters()).device
    data = torch.tensor(ids, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.0)
    model.train()
    losses: list[float] = []
    for step in range(steps):
        starts = torch.randint(0, len(data) - seq_len, (BATCH_SIZE,), generator=gen)
        batch = torch.stack([data[s : s + seq_len] for s in starts.tolist()]).to(device)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        lc.progress(offset + step + 1, total, losses[-1])
    return losses


def peft_reference(task: Any, peft_model: Any, seed: int) -> dict[str, Any]:
    """peft's side of the comparison, taken before merging: W0, A, B of COMPARE_MODULE, inputs x
    and peft's outputs on them."""
    import torch

    layer = peft_model.get_submodule("base_model.model." + COMPARE_MODULE)
    w0 = layer.base_layer.weight.detach().float().cpu().clone()
    x = torch.randn(8, w0.shape[1], generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        y_peft = layer(x.to(layer.base_layer.weight.device)).float().cpu()
    return {
        "w0": w0, "x": x, "y_peft": y_peft,
        "A": layer.lora_A["default"].weight.detach().float().cpu().clone(),
        "B": layer.lora_B["default"].weight.detach().float().cpu().clone(),
    }


def compare_with_peft(task: Any, ref: dict[str, Any]) -> dict[str, Any]:
    """Your LoRALinear, given peft's weights, next to peft's outputs on the same inputs (and your
    layer's initial A and B): for you to look at; the grader runs your layer itself."""
    import torch
    from lora_layer import LoRALinear, lora_param_count

    d, k = ref["w0"].shape
    base = torch.nn.Linear(k, d, bias=False)
    base.weight.data.copy_(ref["w0"])
    hand = LoRALinear(base, LORA_R, LORA_ALPHA)
    init_a, init_b = hand.lora_A.detach().clone(), hand.lora_B.detach().clone()
    hand.lora_A.data.copy_(ref["A"])
    hand.lora_B.data.copy_(ref["B"])
    with torch.no_grad():
        y_hand = hand(ref["x"])
        merged_hand = hand.merged_weight()
    return {
        "x": ref["x"], "y_hand": y_hand, "y_peft": ref["y_peft"], "merged_hand": merged_hand,
        "init_A": init_a, "init_B": init_b,
        "param_count_hand": torch.tensor([lora_param_count(d, k, LORA_R)], dtype=torch.long),
    }


def main(task: Any, argv: list[str] | None = None) -> int:
    """The whole run; ``task`` is the learner's train.py (its constants and config functions)."""
    args = lc.parse_args(argv=argv)
    t0 = time.perf_counter()
    import torch
    from lora_layer import lora_param_count
    from peft import get_peft_model, prepare_model_for_kbit_training
    from safetensors.torch import save_file
    from transformers import LlamaForCausalLM

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    profile = "cuda" if torch.cuda.is_available() else "cpu"
    device = "cuda" if profile == "cuda" else "cpu"
    seq_len = SEQ_LEN[profile]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    train_ids, val_ids = lc.load_corpus(args.data)
    heldout_ids = (
        lc.encode(args.heldout.read_text(encoding="utf-8")) if args.heldout else None
    )
    steps, qsteps = STEPS[profile], QLORA_STEPS[profile]
    total = steps + qsteps
    lc.log(f"imports done ({time.perf_counter() - t0:.1f} s)")
    lc.log(f"profile={profile} train={len(train_ids)}B val={len(val_ids)}B steps={steps}+{qsteps}")

    # ---- Part 1: LoRA ------------------------------------------------------------------------
    base = lc.build_model(PROFILES[profile], args.seed).to(device)
    val_base = lc.eval_loss(base, val_ids, seq_len)
    held_base = lc.eval_loss(base, heldout_ids, seq_len) if heldout_ids else None
    model = get_peft_model(base, task.make_lora_config())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shapes = [(m.out_features, m.in_features) for name, m in model.named_modules()
              if name.split(".")[-1] in TARGET_MODULES and hasattr(m, "base_layer")]
    lc.log(f"trainable parameters (peft): {trainable}")
    losses = train(task, model, train_ids, seq_len, steps, args.seed, 0, total)
    model.save_pretrained(str(out / "adapter"))
    reference = peft_reference(task, model, args.seed)
    merged = model.merge_and_unload()
    save_file({k: v.detach().cpu().contiguous() for k, v in merged.state_dict().items()},
              str(out / "merged.safetensors"))
    val_final = lc.eval_loss(merged, val_ids, seq_len)
    held_final = lc.eval_loss(merged, heldout_ids, seq_len) if heldout_ids else None
    lc.log(f"LoRA: val loss {val_base:.4f} -> {val_final:.4f} ({time.perf_counter() - t0:.1f} s)")

    # ---- Part 2: QLoRA -----------------------------------------------------------------------
    # the base as a checkpoint to load in 4 bit; inside OUTDIR so that a killed run leaves nothing outside it
    tmp = tempfile.mkdtemp(prefix=".base-", dir=out)
    lc.build_model(PROFILES[profile], args.seed).save_pretrained(tmp)
    qbase = LlamaForCausalLM.from_pretrained(
        tmp, quantization_config=task.make_bnb_config(), device_map={"": device},
    )
    memory = task.quantized_bytes(qbase)
    qbase = prepare_model_for_kbit_training(qbase, use_gradient_checkpointing=False)
    qmodel = get_peft_model(qbase, task.make_lora_config())
    q_val_base = lc.eval_loss(qmodel, val_ids, seq_len, train_mode=True)
    q_losses = train(task, qmodel, train_ids, seq_len, qsteps, args.seed + 1, steps, total)
    q_val_final = lc.eval_loss(qmodel, val_ids, seq_len, train_mode=True)
    qmodel.save_pretrained(str(out / "qlora" / "adapter"))
    shutil.rmtree(tmp, ignore_errors=True)
    (out / "qlora" / "memory.json").write_text(json.dumps(memory, indent=2), encoding="utf-8")
    lc.log(f"QLoRA: val loss {q_val_base:.4f} -> {q_val_final:.4f}; "
        f"4-bit {memory['nf4_bytes']} B vs fp32 {memory['fp32_bytes']} B ({memory['ratio']:.2f}x) "
        f"({time.perf_counter() - t0:.1f} s)")

    metrics = {
        "profile": profile, "seed": args.seed, "seq_len": seq_len,
        "lora": {
            "r": LORA_R, "alpha": LORA_ALPHA, "target_modules": TARGET_MODULES,
            "trainable_params": trainable,
            "steps": steps, "train_loss": losses,
            "val_loss_base": val_base, "val_loss_final": val_final,
            "heldout_loss_base": held_base, "heldout_loss_final": held_final,
            "compare_module": COMPARE_MODULE,
        },
        "qlora": {
            "steps": qsteps, "train_loss": q_losses,
            "val_loss_base": q_val_base, "val_loss_final": q_val_final,
            "nf4_bytes": memory["nf4_bytes"], "fp32_bytes": memory["fp32_bytes"],
        },
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")

    # ---- Part 3: your LoRA layer against peft's (last, so parts 1-2 count on their own) -------
    formula = sum(lora_param_count(d, k, LORA_R) for d, k in shapes)
    lc.log(f"trainable parameters: peft {trainable}, your r(d+k) formula {formula}")
    save_file({k: v.contiguous() for k, v in compare_with_peft(task, reference).items()},
              str(out / "compare.safetensors"))
    lc.done()
    return 0

