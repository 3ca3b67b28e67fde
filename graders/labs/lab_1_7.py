"""Checks of Lab-1.7 (DPO from an SFT baseline), on the check kit: every number is recomputed.

The grader rebuilds the seeded tiny model from lab.yaml ``params.profiles`` with its own
labcommon, loads the saved SFT model (the reference) and DPO policies from safetensors, and
computes on its own held-out pairs (graders/labs/data/lab-1.7/heldout.jsonl, never in a workspace)
the implicit reward r̂(y) = β·(log πθ(y|x) − log π_ref(y|x)) (Rafailov et al. 2023, "Direct
Preference Optimization", eq. 5), its Bradley-Terry (1952) ranking accuracy, the per-token
KL(πθ ‖ π_ref) and the chosen response's log-probability before and after DPO (likelihood
displacement: Pal et al. 2024, "Smaug"; Razin et al. 2024, "Unintentional Unalignment").
The hand-written loss is graded by the probe ``dpo-loss`` (graders/labs/probes/lab_1_7_dpo_loss.py)
with trl blocked, on log-probabilities drawn at grading time.
"""

from __future__ import annotations

from typing import Any

from graders.labs.kit import Context, Fail, Problem, check, fail, metrics, number
from graders.labs.preference_checks import (
    artifacts_readable,
    done,
    load_weights,
    logps,
    pairs,
    preference,
    probe_mismatches,
    values_match,
)


def _beta(ctx: Context, run: str) -> float:
    """The β the run reports for ``run`` (dpo / dpo_alt), bounded to a sane range."""
    m = metrics(ctx).get(run)
    return number(m.get("beta") if isinstance(m, dict) else None, f"{run}.beta", lo=1e-3, hi=100.0)


def _val(ctx: Context, run: str) -> dict[str, Any]:
    m = metrics(ctx).get(run)
    v = m.get("val") if isinstance(m, dict) else None
    if not isinstance(v, dict):
        raise fail("metrics.json has no {run}.val section", "metrics.json 缺少 {run}.val 區段",
                   run=run)
    return v


def _kl(ctx: Context, policy_rel: str, split: str) -> float:
    key = f"kl:{policy_rel}:{split}"
    if key not in ctx.cache:
        pref = preference(ctx)
        ctx.cache[key] = float(pref.token_kl(load_weights(ctx, policy_rel),
                                             load_weights(ctx, "sft.safetensors"),
                                             pairs(ctx, split)))
    out: float = ctx.cache[key]
    return out


def _rewards(ctx: Context, policy_rel: str, split: str, beta: float) -> dict[str, float]:
    """Implicit-reward accuracy and mean margin of ``policy_rel`` against the SFT reference."""
    pref = preference(ctx)
    pc, pr = logps(ctx, policy_rel, split)
    rc, rr = logps(ctx, "sft.safetensors", split)
    stats: dict[str, float] = pref.preference_stats(beta * (pc - rc), beta * (pr - rr))
    return stats


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any]:
    return artifacts_readable(ctx)


@check("dpo-loss-probe")
def dpo_loss_probe(ctx: Context) -> dict[str, Any]:
    """The learner's dpo_loss (probe, trl blocked) against −log σ(β[(pc − rc) − (pr − rr)])."""
    import torch

    from graders.labs.probes.lab_1_7_dpo_loss import draw

    ctx.probe("dpo-loss")
    out = ctx.probe_tensors("dpo-loss", "outputs.safetensors")
    assert ctx.probe_seed is not None
    inp = draw(ctx.probe_seed)
    beta, n = inp["beta"], inp["n"]
    z = beta * ((inp["pc"] - inp["rc"]) - (inp["pr"] - inp["rr"]))
    want = {
        "losses": -torch.nn.functional.logsigmoid(z),
        "chosen_rewards": beta * (inp["pc"] - inp["rc"]),
        "rejected_rewards": beta * (inp["pr"] - inp["rr"]),
        "grad_chosen": -beta * torch.sigmoid(-z),   # ∂L/∂pc: a descent step raises log π(y_w|x)
        "grad_rejected": beta * torch.sigmoid(-z),  # ∂L/∂pr: and lowers log π(y_l|x)
    }
    problems = probe_mismatches(out, want)
    if problems:
        gc, gr = out.get("grad_chosen"), out.get("grad_rejected")
        if (gc is not None and gr is not None and tuple(gc.shape) == (n,)
                and tuple(gr.shape) == (n,) and bool((gc > 0).any() or (gr < 0).any())):
            problems.insert(0, Problem(
                "wrong gradient sign: a descent step on your loss would lower log π(y_w|x) or "
                "raise log π(y_l|x) (∂L/∂pc must be < 0, ∂L/∂pr > 0)",
                "梯度方向錯誤：對你的損失做梯度下降會降低 log π(y_w|x) 或提高 log π(y_l|x)"
                "（∂L/∂pc 必須 < 0，∂L/∂pr 必須 > 0）"))
        raise Fail(*problems)
    return done("your dpo_loss equals −log σ(β[(pc − rc) − (pr − rr)]) and its gradient on {n} "
                "fresh pairs (β = {beta})",
                "你的 dpo_loss 在 {n} 組新的輸入上等於 −log σ(β[(pc − rc) − (pr − rr)]) 及其梯度"
                "（β = {beta}）", n=n, beta=beta, probe_seed=str(ctx.probe_seed))


@check("sft-baseline")
def sft_baseline(ctx: Context) -> dict[str, Any]:
    base_c, _ = logps(ctx, None, "heldout")
    sft_c, _ = logps(ctx, "sft.safetensors", "heldout")
    before, after = float(base_c.mean()), float(sft_c.mean())
    need = float(ctx.params.get("sft_gain", 2.0))
    if not after - before >= need:
        raise fail("held-out mean log π(y_w|x): {before:.2f} untrained, {after:.2f} after SFT "
                   "(gain {gain:.2f}, required {need:g})",
                   "保留資料平均 log π(y_w|x)：未訓練 {before:.2f}，SFT 後 {after:.2f}"
                   "（提升 {gain:.2f}，要求 {need:g}）",
                   before=before, after=after, gain=after - before, need=need)
    return done("held-out mean log π(y_w|x): {before:.2f} untrained -> {after:.2f} after SFT",
                "保留資料平均 log π(y_w|x)：未訓練 {before:.2f} -> SFT 後 {after:.2f}",
                before=before, after=after)


@check("dpo-beats-sft")
def dpo_beats_sft(ctx: Context) -> dict[str, Any]:
    pref = preference(ctx)
    beta = _beta(ctx, "dpo")
    sc, sr = logps(ctx, "sft.safetensors", "heldout")
    baseline = float(pref.preference_stats(sc, sr)["accuracy"])
    dpo = _rewards(ctx, "dpo/policy.safetensors", "heldout", beta)
    gain = float(ctx.params.get("accuracy_gain", 0.05))
    fields = {"acc": dpo["accuracy"], "margin": dpo["margin"], "sft": baseline, "gain": gain,
              "n": len(pairs(ctx, "heldout"))}
    if not (dpo["accuracy"] >= baseline + gain and dpo["margin"] > 0):
        raise fail("held-out implicit-reward accuracy {acc:.3f} (mean margin {margin:.3f}) against "
                   "the SFT ranking {sft:.3f}: needs at least +{gain:g} and a positive margin",
                   "保留資料隱式獎勵準確率 {acc:.3f}（平均差距 {margin:.3f}），SFT 排序為 {sft:.3f}："
                   "至少需高出 {gain:g} 且差距為正", **fields)
    return done("held-out implicit-reward accuracy {acc:.3f} (mean margin {margin:.3f}) vs the SFT "
                "ranking {sft:.3f}, {n} pairs",
                "保留資料隱式獎勵準確率 {acc:.3f}（平均差距 {margin:.3f}），SFT 排序 {sft:.3f}，"
                "共 {n} 組", **fields)


@check("metrics-consistent")
def metrics_consistent(ctx: Context) -> dict[str, Any]:
    import torch

    pref = preference(ctx)
    beta = _beta(ctx, "dpo")
    v = _val(ctx, "dpo")
    pc, pr = logps(ctx, "dpo/policy.safetensors", "val")
    rc, rr = logps(ctx, "sft.safetensors", "val")
    z = beta * ((pc - rc) - (pr - rr))
    rewards = _rewards(ctx, "dpo/policy.safetensors", "val", beta)
    sft_val = metrics(ctx).get("sft", {})
    sft_val = sft_val.get("val", {}) if isinstance(sft_val, dict) else {}
    acc_tol = float(ctx.params.get("accuracy_tolerance", 0.04))
    claims = [
        ("dpo.val.loss", v.get("loss"), float(-torch.nn.functional.logsigmoid(z).mean()), None),
        ("dpo.val.reward_accuracy", v.get("reward_accuracy"), rewards["accuracy"], acc_tol),
        ("dpo.val.reward_margin", v.get("reward_margin"), rewards["margin"], None),
        ("sft.val.likelihood_accuracy",
         sft_val.get("likelihood_accuracy") if isinstance(sft_val, dict) else None,
         float(pref.preference_stats(rc, rr)["accuracy"]), acc_tol),
    ]
    values_match(ctx, claims)
    return done("validation loss, implicit-reward accuracy and margin, SFT ranking accuracy agree "
                "with the recomputation",
                "驗證損失、隱式獎勵準確率與差距、SFT 排序準確率都與重算相符")


@check("kl-to-reference")
def kl_to_reference(ctx: Context) -> dict[str, Any]:
    v = _val(ctx, "dpo")
    kl_val = _kl(ctx, "dpo/policy.safetensors", "val")
    values_match(ctx, [("dpo.val.kl", v.get("kl"), kl_val, None)])
    kl_held = _kl(ctx, "dpo/policy.safetensors", "heldout")
    if not kl_held > 1e-4:
        raise fail("the DPO policy has not moved from its reference (held-out KL {kl:.2e})",
                   "DPO 策略沒有離開參考模型（保留資料 KL {kl:.2e}）", kl=kl_held)
    return done("per-token KL(πθ ‖ π_ref): {val:.4f} on validation pairs, {held:.4f} held out",
                "逐 token KL(πθ ‖ π_ref)：驗證 {val:.4f}，保留資料 {held:.4f}",
                val=kl_val, held=kl_held)


@check("beta-effect")
def beta_effect(ctx: Context) -> dict[str, Any]:
    b_main, b_alt = _beta(ctx, "dpo"), _beta(ctx, "dpo_alt")
    if abs(b_main - b_alt) < 1e-6:
        raise fail("both DPO runs report β = {b}: the second run needs another β",
                   "兩次 DPO 都回報 β = {b}：第二次需要不同的 β", b=b_main)
    kl_main = _kl(ctx, "dpo/policy.safetensors", "heldout")
    kl_alt = _kl(ctx, "dpo_alt/policy.safetensors", "heldout")
    small_kl, large_kl = (kl_main, kl_alt) if b_main < b_alt else (kl_alt, kl_main)
    fields = {"b1": b_main, "k1": kl_main, "b2": b_alt, "k2": kl_alt}
    effect = metrics(ctx).get("beta_effect")
    claimed = effect.get("larger_kl_beta") if isinstance(effect, dict) else None
    truth = b_main if kl_main > kl_alt else b_alt
    problems: list[Problem] = []
    if not small_kl > large_kl:
        problems.append(Problem(
            "held-out KL to the reference: β = {b1:g} → {k1:.4f}, β = {b2:g} → {k2:.4f}; the "
            "smaller β should move further (β weighs the KL term of the objective)",
            "保留資料上與參考模型的 KL：β = {b1:g} → {k1:.4f}，β = {b2:g} → {k2:.4f}；"
            "β 較小者應移動得更遠（β 是目標中 KL 項的權重）", **fields))
    try:
        said = number(claimed, "beta_effect.larger_kl_beta")
    except Fail as exc:
        problems += exc.problems
    else:
        if abs(said - truth) > 1e-6:
            problems.append(Problem("you report β = {c:g} as the one with the larger KL; the "
                                    "recomputation says β = {t:g}",
                                    "你回報 KL 較大的是 β = {c:g}；重算結果為 β = {t:g}",
                                    c=said, t=truth))
    if problems:
        raise Fail(*problems)
    return done("held-out KL: β = {b1:g} → {k1:.4f}, β = {b2:g} → {k2:.4f} (smaller β, larger KL)",
                "保留資料 KL：β = {b1:g} → {k1:.4f}，β = {b2:g} → {k2:.4f}（β 越小，KL 越大）",
                **fields)


@check("likelihood-displacement")
def likelihood_displacement(ctx: Context) -> dict[str, Any]:
    v = _val(ctx, "dpo")
    pc, pr = logps(ctx, "dpo/policy.safetensors", "val")
    rc, rr = logps(ctx, "sft.safetensors", "val")
    values_match(ctx, [
        ("dpo.val.chosen_logp_ref", v.get("chosen_logp_ref"), float(rc.mean()), None),
        ("dpo.val.chosen_logp", v.get("chosen_logp"), float(pc.mean()), None),
        ("dpo.val.rejected_logp_ref", v.get("rejected_logp_ref"), float(rr.mean()), None),
        ("dpo.val.rejected_logp", v.get("rejected_logp"), float(pr.mean()), None),
    ])
    hc, hr = logps(ctx, "dpo/policy.safetensors", "heldout")
    hrc, hrr = logps(ctx, "sft.safetensors", "heldout")
    fields = {"c0": float(hrc.mean()), "c1": float(hc.mean()), "r0": float(hrr.mean()),
              "r1": float(hr.mean()), "fell": float((hc < hrc).float().mean()),
              "m0": float((hrc - hrr).mean()), "m1": float((hc - hr).mean())}
    return done("held out: log π(y_w|x) {c0:.2f} → {c1:.2f} (fell for {fell:.0%} of pairs), "
                "log π(y_l|x) {r0:.2f} → {r1:.2f}, margin {m0:.2f} → {m1:.2f}",
                "保留資料：log π(y_w|x) {c0:.2f} → {c1:.2f}（{fell:.0%} 的偏好對下降），"
                "log π(y_l|x) {r0:.2f} → {r1:.2f}，差距 {m0:.2f} → {m1:.2f}", **fields)
