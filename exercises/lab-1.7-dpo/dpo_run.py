"""Shared by every Lab-1.7 run (do not edit: every run gets this copy): SFT, two DPO runs, the
evaluation and the artifacts.

Your train.py holds ``make_dpo_config`` and calls ``main(this_module)``; your dpo_loss.py holds
``dpo_loss``. This file runs:

Part 1  SFT: fine-tune the seeded tiny Llama on the chosen responses (prompt bytes masked).
Part 2  DPO with trl's DPOTrainer from the SFT checkpoint; the reference model is that checkpoint,
        loaded by trl from its saved path. Two runs: β = BETA and β = BETA_ALT.
Part 3  Your dpo_loss on the validation pairs; the KL to the reference; the likelihood
        displacement (does log π(y_w|x) fall while the margin grows?).

Writes into OUTDIR (the grader recomputes every number from these files):
  sft.safetensors                        the SFT baseline = the DPO reference
  dpo/policy.safetensors                 the DPO policy trained with β = BETA
  dpo_alt/policy.safetensors             the DPO policy trained with β = BETA_ALT
  metrics.json                           what you measured
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

SFT_STEPS = 100
"""SFT steps (batch SFT_BATCH, AdamW, constant learning rate SFT_LR)."""
SFT_BATCH = 16
SFT_LR = 3e-3
BETA = 0.1
"""DPO's β: the strength of the KL constraint to the reference (the run whose policy is graded)."""
BETA_ALT = 1.0
"""The second run's β, to see its effect."""
DPO_STEPS = 60
"""DPO steps per run (batch DPO_BATCH pairs, learning rate DPO_LR)."""
DPO_BATCH = 8
DPO_LR = 1e-3


def run_dpo(make_config: Any, sft_dir: Path, pairs: list[dict[str, str]], beta: float, out: Path,
            seed: int, offset: int, total: int) -> tuple[Any, dict[str, Any]]:
    """DPO from the SFT checkpoint (policy and reference both loaded from ``sft_dir``; trl builds
    the reference itself from the policy's saved path). Returns the trained policy and a summary."""
    from datasets import Dataset
    from transformers import LlamaForCausalLM
    from trl import DPOTrainer

    policy = LlamaForCausalLM.from_pretrained(str(sft_dir))
    trainer = DPOTrainer(
        model=policy, ref_model=None, args=make_config(out / "trainer", beta, DPO_STEPS, seed),
        train_dataset=Dataset.from_list(pairs), processing_class=pref.byte_tokenizer(),
        callbacks=[pref.progress_callback(offset, total)],
    )
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    memory = pref.state_bytes(trainer.model, trainer.optimizer, trainer.ref_model)
    logs = [h for h in trainer.state.log_history if "loss" in h]
    model = trainer.model.cpu().eval()
    return model, {"beta": beta, "steps": DPO_STEPS, "train_s": round(wall, 2),
                   "state_bytes": memory, "trl_log": logs}


def evaluate(dpo_loss: Any, policy: Any, reference: Any, pairs: list[dict[str, str]],
             beta: float) -> dict[str, Any]:
    """Your dpo_loss on ``pairs``: mean loss, implicit-reward accuracy and margin; the policy's own
    likelihood ranking; the KL to the reference; and the chosen/rejected log-probabilities before
    (reference) and after (policy): likelihood displacement shows as a falling chosen log-prob."""
    pc, pr = pref.response_logps(policy, pairs)
    rc, rr = pref.response_logps(reference, pairs)
    losses, chosen_r, rejected_r = dpo_loss(pc, pr, rc, rr, beta)
    rewards = pref.preference_stats(chosen_r, rejected_r)
    return {
        "loss": float(losses.mean()),
        "reward_accuracy": rewards["accuracy"], "reward_margin": rewards["margin"],
        "likelihood_accuracy": pref.preference_stats(pc, pr)["accuracy"],
        "kl": pref.token_kl(policy, reference, pairs),
        "chosen_logp_ref": float(rc.mean()), "chosen_logp": float(pc.mean()),
        "rejected_logp_ref": float(rr.mean()), "rejected_logp": float(pr.mean()),
        "chosen_fell": float((pc < rc).float().mean()),
    }


def main(learner: ModuleType, argv: list[str] | None = None) -> int:
    """The whole run, with ``learner.make_dpo_config`` and the dpo_loss of dpo_loss.py."""
    from dpo_loss import dpo_loss  # the learner's file, next to train.py

    args = lc.parse_args(argv=argv)
    t0 = time.perf_counter()
    import torch
    from datasets import disable_progress_bar

    disable_progress_bar()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    profile = lc.profile()
    device = "cuda" if profile == "cuda" else "cpu"
    lc.seed_everything(args.seed)
    out: Path = args.out
    train_pairs, val_pairs = pref.load_pairs(args.data)
    total = SFT_STEPS + 2 * DPO_STEPS
    lc.log(f"profile={profile} pairs: {len(train_pairs)} train, {len(val_pairs)} validation")

    # ---- Part 1: SFT on the chosen responses ---------------------------------------------------
    model = lc.build_model(pref.PROFILES[profile], args.seed).to(device)
    t_sft = time.perf_counter()
    sft_losses = pref.sft(model, train_pairs, SFT_STEPS, SFT_BATCH, SFT_LR, args.seed,
                          lambda i, loss: lc.progress(i + 1, total, loss))
    sft_s = time.perf_counter() - t_sft
    model = model.cpu().eval()
    sft_dir = out / ".sft"  # inside OUTDIR: a killed run leaves nothing outside it
    model.save_pretrained(str(sft_dir))
    pref.save_weights(model, out / "sft.safetensors")
    pc, pr = pref.response_logps(model, val_pairs)
    sft_val = {"likelihood_accuracy": pref.preference_stats(pc, pr)["accuracy"],
               "chosen_logp": float(pc.mean()), "rejected_logp": float(pr.mean())}
    lc.log(f"SFT: loss {sft_losses[0]:.3f} -> {sft_losses[-1]:.3f}, validation likelihood "
           f"accuracy {sft_val['likelihood_accuracy']:.2f} ({time.perf_counter() - t0:.1f} s)")

    # ---- Part 2: DPO from the SFT checkpoint, two values of β ----------------------------------
    runs: dict[str, Any] = {}
    for name, beta, offset in (("dpo", BETA, SFT_STEPS), ("dpo_alt", BETA_ALT, SFT_STEPS + DPO_STEPS)):
        policy, summary = run_dpo(learner.make_dpo_config, sft_dir, train_pairs, beta, out,
                                  args.seed, offset, total)
        pref.save_weights(policy, out / name / "policy.safetensors")
        summary["val"] = evaluate(dpo_loss, policy, model, val_pairs, beta)
        runs[name] = summary
        v = summary["val"]
        lc.log(f"DPO β={beta}: validation reward accuracy {v['reward_accuracy']:.2f}, margin "
               f"{v['reward_margin']:.3f}, KL {v['kl']:.4f}, chosen log-prob "
               f"{v['chosen_logp_ref']:.2f} -> {v['chosen_logp']:.2f} "
               f"({time.perf_counter() - t0:.1f} s)")
    shutil.rmtree(sft_dir, ignore_errors=True)
    shutil.rmtree(out / "trainer", ignore_errors=True)

    # ---- Part 3: what β did ----------------------------------------------------------------------
    kl_main, kl_alt = runs["dpo"]["val"]["kl"], runs["dpo_alt"]["val"]["kl"]
    metrics = {
        "profile": profile, "seed": args.seed,
        "sft": {"steps": SFT_STEPS, "train_loss": sft_losses, "train_s": round(sft_s, 2),
                "val": sft_val},
        "dpo": runs["dpo"], "dpo_alt": runs["dpo_alt"],
        "beta_effect": {
            "betas": [BETA, BETA_ALT], "kl": [kl_main, kl_alt],
            "larger_kl_beta": BETA if kl_main > kl_alt else BETA_ALT,
        },
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    lc.write_json(out / "metrics.json", metrics)
    lc.done()
    return 0

