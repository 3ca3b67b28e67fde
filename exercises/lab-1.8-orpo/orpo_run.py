"""Shared by every Lab-1.8 run (do not edit: every run gets this copy): ORPO, SFT + DPO and the
side-by-side table.

Your train.py holds ``make_orpo_config`` and calls ``main(this_module)``; your orpo_loss.py holds
``orpo_loss``. This file runs:

Part 1  ORPO with trl's ORPOTrainer (trl.experimental.orpo) straight from the seeded base model:
        SFT and preference in one loss, no reference model.
Part 2  The two-stage route on the same budget of optimizer steps: SFT on the chosen responses, then
        DPO (trl's DPOTrainer) with the SFT checkpoint as its reference.
Part 3  Your orpo_loss on the validation pairs, and the side-by-side table: wall time, model-state
        memory (weights, gradients, AdamW moments, reference), accuracy.

Writes into OUTDIR (the grader recomputes every number from these files):
  orpo/model.safetensors                 the ORPO model
  dpo/sft.safetensors                    the SFT stage = DPO's reference
  dpo/policy.safetensors                 the DPO policy
  metrics.json                           what you measured, with the table under "compare"
Progress goes to stdout as JSON lines; logs go to stderr.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import labcommon as lc
import preference as pref

LAMBDA = 1.0
"""ORPO's λ, the weight of the odds-ratio term (trl calls it ``beta``). Seeds 0-3 with 120 steps:
λ = 1.0 ranked 57-60 % of the held-out pairs right, λ = 0.5 as few as 55 %."""
ORPO_STEPS = 120
"""ORPO steps: the same number of optimizer steps as SFT_STEPS + DPO_STEPS."""
BATCH = 8
"""Pairs per step (ORPO and DPO); SFT uses SFT_BATCH sequences."""
ORPO_LR = 3e-3
SFT_STEPS = 80
SFT_BATCH = 16
SFT_LR = 3e-3
DPO_STEPS = 40
DPO_BETA = 0.1
DPO_LR = 1e-3


def cuda_peak() -> int | None:
    """Peak CUDA memory allocated since the last reset (None on the CPU)."""
    import torch

    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None


def reset_cuda_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def run_orpo(make_config: Any, config: dict[str, Any], pairs: list[dict[str, str]], out: Path,
             seed: int, total: int) -> tuple[Any, dict[str, Any]]:
    """ORPO from the seeded base model; the trained model and a summary."""
    from datasets import Dataset
    from trl.experimental.orpo import ORPOTrainer

    reset_cuda_peak()
    t0 = time.perf_counter()
    model = lc.build_model(config, seed)
    trainer = ORPOTrainer(model=model, args=make_config(out / "trainer", ORPO_STEPS, seed),
                          train_dataset=Dataset.from_list(pairs),
                          processing_class=pref.byte_tokenizer(),
                          callbacks=[pref.progress_callback(0, total)])
    trainer.train()
    memory = pref.state_bytes(trainer.model, trainer.optimizer, None)
    summary = {"steps": ORPO_STEPS, "lambda": LAMBDA, "wall_s": round(time.perf_counter() - t0, 2),
               "state_bytes": memory, "cuda_peak_bytes": cuda_peak(),
               "trl_log": [h for h in trainer.state.log_history if "loss" in h]}
    return trainer.model.cpu().eval(), summary


def run_sft_dpo(config: dict[str, Any], pairs: list[dict[str, str]], out: Path, seed: int,
                total: int) -> tuple[Any, Any, dict[str, Any]]:
    """SFT, then DPO from the SFT checkpoint (its saved path is also the reference); the policy,
    the reference and a summary."""
    import torch
    from datasets import Dataset
    from transformers import LlamaForCausalLM
    from trl import DPOConfig, DPOTrainer

    reset_cuda_peak()
    t0 = time.perf_counter()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sft_model = lc.build_model(config, seed).to(device)
    pref.sft(sft_model, pairs, SFT_STEPS, SFT_BATCH, SFT_LR, seed,
             lambda i, loss: lc.progress(ORPO_STEPS + i + 1, total, loss))
    sft_dir = out / ".sft"  # inside OUTDIR: a killed run leaves nothing outside it
    sft_model.cpu().save_pretrained(str(sft_dir))
    policy = LlamaForCausalLM.from_pretrained(str(sft_dir))
    args = DPOConfig(
        output_dir=str(out / "trainer"), beta=DPO_BETA, max_steps=DPO_STEPS,
        per_device_train_batch_size=BATCH, learning_rate=DPO_LR, lr_scheduler_type="constant",
        warmup_steps=0, weight_decay=0.0, seed=seed, max_length=128, save_strategy="no",
        report_to="none", logging_steps=5, disable_tqdm=True, dataloader_num_workers=0,
        use_cpu=device == "cpu",
    )
    trainer = DPOTrainer(model=policy, ref_model=None, args=args,
                         train_dataset=Dataset.from_list(pairs),
                         processing_class=pref.byte_tokenizer(),
                         callbacks=[pref.progress_callback(ORPO_STEPS + SFT_STEPS, total)])
    trainer.train()
    # the peak is DPO's: the SFT stage holds the same policy states but no reference
    memory = pref.state_bytes(trainer.model, trainer.optimizer, trainer.ref_model)
    summary = {"steps": SFT_STEPS + DPO_STEPS, "sft_steps": SFT_STEPS, "dpo_steps": DPO_STEPS,
               "beta": DPO_BETA, "wall_s": round(time.perf_counter() - t0, 2),
               "state_bytes": memory, "cuda_peak_bytes": cuda_peak()}
    shutil.rmtree(sft_dir, ignore_errors=True)
    return trainer.model.cpu().eval(), sft_model.eval(), summary


def main(learner: ModuleType, argv: list[str] | None = None) -> int:
    """The whole run, with ``learner.make_orpo_config`` and the orpo_loss of orpo_loss.py."""
    from orpo_loss import orpo_loss  # the learner's file, next to train.py

    args = lc.parse_args(argv=argv)
    t0 = time.perf_counter()
    import torch
    from datasets import disable_progress_bar

    disable_progress_bar()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    profile = lc.profile()
    lc.seed_everything(args.seed)
    out: Path = args.out
    config = pref.PROFILES[profile]
    train_pairs, val_pairs = pref.load_pairs(args.data)
    total = ORPO_STEPS + SFT_STEPS + DPO_STEPS
    lc.log(f"profile={profile} pairs: {len(train_pairs)} train, {len(val_pairs)} validation")

    base = lc.build_model(config, args.seed)
    bc, br = pref.response_logps(base, val_pairs, average=True)
    base_acc = pref.preference_stats(bc, br)["accuracy"]

    # ---- Part 1: ORPO, one stage, no reference -------------------------------------------------
    orpo_model, orpo = run_orpo(learner.make_orpo_config, config, train_pairs, out, args.seed,
                                total)
    pref.save_weights(orpo_model, out / "orpo" / "model.safetensors")
    oc, orj = pref.response_logps(orpo_model, val_pairs, average=True)
    with torch.no_grad():
        # L_SFT here: the mean NLL per chosen byte (trl's ORPO also counts the prompt's bytes)
        nll = -pref.response_logps(orpo_model, val_pairs, average=True)[0].mean()
    loss, ratio = orpo_loss(oc, orj, nll, LAMBDA)
    orpo["val"] = {"loss": float(loss), "accuracy": pref.preference_stats(oc, orj)["accuracy"],
                   "log_odds_ratio": float(ratio.mean()),
                   "chosen_logp": float(oc.mean()), "rejected_logp": float(orj.mean())}
    lc.log(f"ORPO: validation accuracy {orpo['val']['accuracy']:.2f} (base {base_acc:.2f}), "
           f"log odds ratio {orpo['val']['log_odds_ratio']:.3f} ({time.perf_counter() - t0:.1f} s)")

    # ---- Part 2: SFT + DPO on the same step budget ---------------------------------------------
    policy, reference, dpo = run_sft_dpo(config, train_pairs, out, args.seed, total)
    pref.save_weights(reference, out / "dpo" / "sft.safetensors")
    pref.save_weights(policy, out / "dpo" / "policy.safetensors")
    pc, pr = pref.response_logps(policy, val_pairs, average=True)
    sc, sr = pref.response_logps(policy, val_pairs)
    rc, rr = pref.response_logps(reference, val_pairs)
    dpo["val"] = {"accuracy": pref.preference_stats(pc, pr)["accuracy"],
                  "reward_accuracy": pref.preference_stats(sc - rc, sr - rr)["accuracy"]}
    lc.log(f"SFT+DPO: validation accuracy {dpo['val']['accuracy']:.2f}, implicit-reward accuracy "
           f"{dpo['val']['reward_accuracy']:.2f} ({time.perf_counter() - t0:.1f} s)")
    shutil.rmtree(out / "trainer", ignore_errors=True)

    # ---- Part 3: side by side --------------------------------------------------------------------
    compare = {
        name: {"wall_s": run["wall_s"], "state_bytes": run["state_bytes"]["total"],
               "reference_bytes": run["state_bytes"]["reference"],
               "cuda_peak_bytes": run["cuda_peak_bytes"], "val_accuracy": run["val"]["accuracy"],
               "steps": run["steps"]}
        for name, run in (("orpo", orpo), ("sft_dpo", dpo))
    }
    lc.log("method    wall s   state MB   val acc")
    for name, row in compare.items():
        lc.log(f"{name:8s} {row['wall_s']:7.1f} {row['state_bytes'] / 1e6:10.3f} "
               f"{row['val_accuracy']:9.2f}")
    metrics = {"profile": profile, "seed": args.seed, "base_val_accuracy": base_acc,
               "orpo": orpo, "sft_dpo": dpo, "compare": compare,
               "wall_s": round(time.perf_counter() - t0, 2)}
    lc.write_json(out / "metrics.json", metrics)
    lc.done()
    return 0

