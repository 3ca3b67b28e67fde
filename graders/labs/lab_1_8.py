"""Checks of Lab-1.8 (ORPO, one stage, next to SFT + DPO), on the check kit: every number is
recomputed.

ORPO (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model")
ranks responses by their length-normalised likelihood P(y|x) = exp((1/|y|) Σ_t log πθ(y_t|…)):
its odds ratio odds(y_w)/odds(y_l), odds = P/(1 − P), exceeds 1 exactly when P(y_w|x) > P(y_l|x).
The grader rebuilds the seeded tiny model from lab.yaml ``params.profiles``, loads the saved ORPO
model, SFT model and DPO policy from safetensors and recomputes that ranking accuracy on its own
held-out pairs (graders/labs/data/lab-1.7/heldout.jsonl) and on the validation pairs; the memory of
the model states follows from the parameter count Ψ: AdamW in fp32 holds 4 (weights) + 4
(gradients) + 8 (two moments) = 16 bytes per parameter, and DPO's frozen reference another 4Ψ
(Rajbhandari et al. 2020, "ZeRO", §3 for the accounting). The hand-written loss is graded by the
probe ``orpo-loss`` (graders/labs/probes/lab_1_8_orpo_loss.py) with trl blocked.
"""

from __future__ import annotations

from typing import Any

from graders.labs.kit import Context, Fail, Problem, check, fail, integer, metrics, number
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

ADAMW_FP32_BYTES = 16
"""Bytes per trained parameter: fp32 weight 4 + gradient 4 + AdamW's two moments 8."""
REFERENCE_FP32_BYTES = 4
"""Bytes per parameter of a frozen fp32 reference model (DPO; ORPO has none)."""


def _accuracy(ctx: Context, rel: str | None, split: str) -> float:
    """Fraction of pairs the model ranks right by its length-normalised likelihood."""
    c, r = logps(ctx, rel, split, average=True)
    acc: float = preference(ctx).preference_stats(c, r)["accuracy"]
    return acc


def _section(ctx: Context, *path: str) -> dict[str, Any]:
    obj: Any = metrics(ctx)
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(obj, dict):
        raise fail("metrics.json has no {path} section", "metrics.json 缺少 {path} 區段",
                   path=".".join(path))
    return obj


def _lambda(ctx: Context) -> float:
    return number(_section(ctx, "orpo").get("lambda"), "orpo.lambda", lo=1e-4, hi=100.0)


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any]:
    return artifacts_readable(ctx)


@check("orpo-loss-probe")
def orpo_loss_probe(ctx: Context) -> dict[str, Any]:
    """The learner's orpo_loss (probe, trl blocked) against L_SFT + λ·mean(−log σ(log OR))."""
    import torch

    from graders.labs.probes.lab_1_8_orpo_loss import draw

    ctx.probe("orpo-loss")
    out = ctx.probe_tensors("orpo-loss", "outputs.safetensors")
    assert ctx.probe_seed is not None
    inp = draw(ctx.probe_seed)
    n, lam = inp["n"], inp["lam"]
    c = inp["chosen"].clone().requires_grad_(True)
    r = inp["rejected"].clone().requires_grad_(True)
    nll = inp["nll"].clone().requires_grad_(True)

    def log_odds(x: Any) -> Any:
        return x - torch.log(-torch.expm1(x))  # log P − log(1 − P), exact in float64 here

    ratio = log_odds(c) - log_odds(r)
    loss = nll + lam * (-torch.nn.functional.logsigmoid(ratio)).mean()
    loss.backward()
    assert c.grad is not None and r.grad is not None and nll.grad is not None
    want = {"loss": loss.detach().reshape(1), "log_odds_ratio": ratio.detach(),
            "grad_chosen": c.grad, "grad_rejected": r.grad, "grad_nll": nll.grad.reshape(1)}
    problems = probe_mismatches(out, want)
    if problems:
        gc = out.get("grad_chosen")
        if gc is not None and tuple(gc.shape) == (n,) and bool((gc > 0).any()):
            problems.insert(0, Problem(
                "wrong sign: a descent step on your loss would lower the chosen response's "
                "likelihood (∂L/∂log P(y_w|x) must be < 0)",
                "方向錯誤：對你的損失做梯度下降會降低被選回應的似然（∂L/∂log P(y_w|x) 必須 < 0）"))
        raise Fail(*problems)
    return done("your orpo_loss equals L_SFT + λ·mean(−log σ(log OR)) and its gradient on {n} "
                "fresh pairs (λ = {lam})",
                "你的 orpo_loss 在 {n} 組新的輸入上等於 L_SFT + λ·mean(−log σ(log OR)) 及其梯度"
                "（λ = {lam}）", n=n, lam=lam, probe_seed=str(ctx.probe_seed))


@check("orpo-beats-base")
def orpo_beats_base(ctx: Context) -> dict[str, Any]:
    """ORPO against the untrained model on the held-out pairs. The untrained model's accuracy is a
    coin with a bias of its own (0.37 to 0.66 for seeds 0-3: a random model prefers some digits
    and words), so the gain is measured on the mean log odds ratio, the quantity the accuracy
    thresholds at 0, and the accuracy must be above chance."""
    import torch

    def mean_log_or(rel: str | None) -> float:
        c, r = logps(ctx, rel, "heldout", average=True)
        return float(((c - torch.log(-torch.expm1(c))) - (r - torch.log(-torch.expm1(r)))).mean())

    base_acc = _accuracy(ctx, None, "heldout")
    orpo_acc = _accuracy(ctx, "orpo/model.safetensors", "heldout")
    base_or, orpo_or = mean_log_or(None), mean_log_or("orpo/model.safetensors")
    gain = float(ctx.params.get("log_odds_gain", 0.5))
    floor = float(ctx.params.get("min_accuracy", 0.53))
    fields = {"acc": orpo_acc, "base": base_acc, "lor": orpo_or, "blor": base_or, "gain": gain,
              "floor": floor, "n": len(pairs(ctx, "heldout"))}
    if not (orpo_or - base_or >= gain and orpo_acc >= floor):
        raise fail("held out: mean log odds ratio {blor:.3f} untrained -> {lor:.3f} ORPO (needs "
                   "+{gain:g}); accuracy {acc:.3f} (needs {floor:g}; untrained {base:.3f})",
                   "保留資料：平均 log 勝算比 未訓練 {blor:.3f} -> ORPO {lor:.3f}（需提升 {gain:g}）；"
                   "準確率 {acc:.3f}（需達 {floor:g}；未訓練 {base:.3f}）", **fields)
    return done("held out ({n} pairs): mean log odds ratio {blor:.3f} untrained -> {lor:.3f} ORPO; "
                "accuracy {base:.3f} -> {acc:.3f}",
                "保留資料（{n} 組）：平均 log 勝算比 未訓練 {blor:.3f} -> ORPO {lor:.3f}；"
                "準確率 {base:.3f} -> {acc:.3f}", **fields)


@check("metrics-consistent")
def metrics_consistent(ctx: Context) -> dict[str, Any]:
    import torch

    lam = _lambda(ctx)
    val = _section(ctx, "orpo", "val")
    c, r = logps(ctx, "orpo/model.safetensors", "val", average=True)
    ratio = (c - torch.log(-torch.expm1(c))) - (r - torch.log(-torch.expm1(r)))
    loss = -c.mean() + lam * (-torch.nn.functional.logsigmoid(ratio)).mean()
    acc_tol = float(ctx.params.get("accuracy_tolerance", 0.04))
    values_match(ctx, [
        ("orpo.val.loss", val.get("loss"), float(loss), None),
        ("orpo.val.log_odds_ratio", val.get("log_odds_ratio"), float(ratio.mean()), None),
        ("orpo.val.accuracy", val.get("accuracy"), _accuracy(ctx, "orpo/model.safetensors", "val"),
         acc_tol),
        ("base_val_accuracy", metrics(ctx).get("base_val_accuracy"), _accuracy(ctx, None, "val"),
         acc_tol),
    ])
    return done("validation loss, log odds ratio and accuracies agree with the recomputation",
                "驗證損失、log 勝算比與準確率都與重算相符")


@check("compare-table")
def compare_table(ctx: Context) -> dict[str, Any]:
    """The DPO vs ORPO table: accuracy from the weights, memory from Ψ, times plausible."""
    model = load_weights(ctx, None)
    psi = sum(int(p.numel()) for p in model.parameters())
    table = _section(ctx, "compare")
    wall_total = number(metrics(ctx).get("wall_s"), "wall_s", lo=0.0, hi=1e6)
    acc_tol = float(ctx.params.get("accuracy_tolerance", 0.04))
    rows = {
        "orpo": {"weights": "orpo/model.safetensors", "state": ADAMW_FP32_BYTES * psi, "ref": 0},
        "sft_dpo": {"weights": "dpo/policy.safetensors",
                    "state": (ADAMW_FP32_BYTES + REFERENCE_FP32_BYTES) * psi,
                    "ref": REFERENCE_FP32_BYTES * psi},
    }
    problems: list[Problem] = []
    claims: list[tuple[str, Any, float, float | None]] = []
    details: dict[str, Any] = {"params": psi}
    wall_sum = 0.0
    for name, want in rows.items():
        row = table.get(name)
        if not isinstance(row, dict):
            problems.append(Problem("compare.{name} is missing", "缺少 compare.{name}", name=name))
            continue
        claims.append((f"compare.{name}.val_accuracy", row.get("val_accuracy"),
                       _accuracy(ctx, str(want["weights"]), "val"), acc_tol))
        for key, value in (("state_bytes", want["state"]), ("reference_bytes", want["ref"])):
            try:
                got = integer(row.get(key), f"compare.{name}.{key}", lo=0, hi=10**12)
            except Fail as exc:
                problems += exc.problems
                continue
            if got != value:
                problems.append(Problem(
                    "compare.{name}.{key} = {got}; Ψ = {psi} parameters give {want} bytes",
                    "compare.{name}.{key} = {got}；Ψ = {psi} 個參數應為 {want} 位元組",
                    name=name, key=key, got=got, psi=psi, want=value))
        try:
            wall = number(row.get("wall_s"), f"compare.{name}.wall_s", lo=0.0, hi=1e6)
        except Fail as exc:
            problems += exc.problems
        else:
            if not wall > 0:
                problems.append(Problem("compare.{name}.wall_s must be measured (> 0)",
                                        "compare.{name}.wall_s 必須是量測值（> 0）", name=name))
            wall_sum += wall
            details[f"{name}_wall_s"] = wall
        details[f"{name}_heldout_accuracy"] = _accuracy(ctx, str(want["weights"]), "heldout")
    if wall_sum > wall_total + 1.0:
        problems.append(Problem("the two methods took {s:.1f} s together, longer than the whole "
                                "run ({t:.1f} s): the times were not measured in this run",
                                "兩種方法合計 {s:.1f} 秒，比整個執行（{t:.1f} 秒）還長："
                                "時間不是在這次執行中量測的", s=wall_sum, t=wall_total))
    try:
        values_match(ctx, claims)
    except Fail as exc:
        problems += exc.problems
    if problems:
        raise Fail(*problems)
    return done("table confirmed: model states {o} B (ORPO, 16Ψ) vs {d} B (SFT+DPO, 20Ψ with the "
                "reference); held-out accuracy ORPO {oa:.3f}, DPO policy {da:.3f}",
                "表格屬實：模型狀態 {o} B（ORPO，16Ψ）對 {d} B（SFT+DPO，含參考模型 20Ψ）；"
                "保留資料準確率 ORPO {oa:.3f}、DPO 策略 {da:.3f}",
                o=rows["orpo"]["state"], d=rows["sft_dpo"]["state"],
                oa=details["orpo_heldout_accuracy"], da=details["sft_dpo_heldout_accuracy"],
                **{k: v for k, v in details.items() if k.endswith("wall_s") or k == "params"})
