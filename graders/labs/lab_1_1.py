"""Checks of Lab-1.1 (LoRA and QLoRA), on the check kit: every number is recomputed.

The grader rebuilds the seeded base model from lab.yaml ``params.profiles`` with its own labcommon,
reads the adapters and merged weights as safetensors, applies W0 + (α/r)·B·A itself (Hu et al.
2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3) and evaluates the held-out loss.
The hand-written layer is graded by the probe ``hand-lora`` (graders/labs/probes/lab_1_1_lora.py):
the learner's LoRALinear runs inside the sandbox with ``peft`` blocked, on inputs drawn from a
grading-time seed, so copying peft's outputs earns nothing. NF4 sizes follow Dettmers et al. 2023,
"QLoRA", §3 (block size 64, one fp32 absmax per block; double quantisation: 8-bit absmax + an
fp32 scale per 256 blocks).
"""

from __future__ import annotations

from typing import Any

from graders.labs.kit import (
    Context,
    Fail,
    Problem,
    assert_close,
    check,
    cross_check,
    fail,
    heldout_loss,
    integer,
    labcommon,
    max_abs_diff,
    metrics,
    number,
    run_profile,
    seq_len,
    tiny_model,
    validation_ids,
)

_PREFIX = "base_model.model."


# -- shared state (built once per grading, kept in ctx.cache) ---------------------------------------


def _base(ctx: Context) -> tuple[Any, dict[str, Any], dict[str, tuple[int, int]]]:
    """(base model, its state dict W0, {adapted module: (d, k)})."""
    if "base" not in ctx.cache:
        import torch

        torch.set_num_threads(max(1, ctx.spec.cpu_threads))
        model = tiny_model(ctx, run_profile(ctx))
        w0 = {k: v.detach().clone() for k, v in model.state_dict().items()}
        targets = set(ctx.params["target_modules"])
        shapes = {n: (m.out_features, m.in_features) for n, m in model.named_modules()
                  if isinstance(m, torch.nn.Linear) and n.split(".")[-1] in targets}
        ctx.cache["base"] = (model, w0, shapes)
    out: tuple[Any, dict[str, Any], dict[str, tuple[int, int]]] = ctx.cache["base"]
    return out


def _rank_alpha(ctx: Context) -> tuple[int, float]:
    return int(ctx.params["r"]), float(ctx.params["alpha"])


def _adapter(ctx: Context, rel_dir: str) -> dict[str, dict[str, Any]]:
    """``{module: {"A": tensor, "B": tensor}}`` of a valid adapter; Fail with every problem."""
    key = f"adapter:{rel_dir}"
    if key in ctx.cache:
        cached = ctx.cache[key]
        if isinstance(cached, Fail):
            raise cached
        out: dict[str, dict[str, Any]] = cached
        return out
    try:
        ctx.cache[key] = _load_adapter(ctx, rel_dir)
    except Fail as exc:
        ctx.cache[key] = exc
        raise
    return _adapter(ctx, rel_dir)


def _load_adapter(ctx: Context, rel_dir: str) -> dict[str, dict[str, Any]]:
    r, alpha = _rank_alpha(ctx)
    _, _, shapes = _base(ctx)
    cfg = ctx.json(f"{rel_dir}/adapter_config.json")
    tensors = ctx.tensors(f"{rel_dir}/adapter_model.safetensors", float32=True)
    problems: list[Problem] = []
    cfg = cfg if isinstance(cfg, dict) else {}
    if not (isinstance(cfg.get("r"), int) and cfg["r"] == r):
        problems.append(Problem("adapter_config r = {got}, the lab requires {r}",
                                "adapter_config 的 r = {got}，本實驗要求 {r}", got=repr(cfg.get("r"))[:40], r=r))
    a = cfg.get("lora_alpha")
    if isinstance(a, bool) or not isinstance(a, int | float) or float(a) != alpha:
        problems.append(Problem("adapter_config lora_alpha = {got}, required {alpha:g}",
                                "adapter_config 的 lora_alpha = {got}，要求 {alpha:g}",
                                got=repr(a)[:40], alpha=alpha))
    for flag in ("use_rslora", "use_dora"):
        if cfg.get(flag):
            problems.append(Problem("adapter_config sets {flag}; the lab uses plain LoRA",
                                    "adapter_config 設定了 {flag}；本實驗使用標準 LoRA", flag=flag))
    pairs: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for key, value in tensors.items():
        name = key.removeprefix(_PREFIX)
        for part in ("A", "B"):
            if name.endswith(f".lora_{part}.weight"):
                pairs.setdefault(name.removesuffix(f".lora_{part}.weight"), {})[part] = value
                break
        else:
            unknown.append(key)
    if unknown:
        problems.append(Problem("unexpected tensors: {names}", "非預期的張量：{names}",
                                names=sorted(unknown)[:5]))
    missing, extra = sorted(set(shapes) - set(pairs)), sorted(set(pairs) - set(shapes))
    if missing:
        problems.append(Problem("modules not adapted: {names}", "未被適配的模組：{names}",
                                names=missing[:6]))
    if extra:
        problems.append(Problem("adapted modules that are not targets: {names}",
                                "被適配但不是目標的模組：{names}", names=extra[:6]))
    for name in sorted(set(pairs) & set(shapes)):
        d, k = shapes[name]
        pa, pb = pairs[name].get("A"), pairs[name].get("B")
        if pa is None or pb is None:
            problems.append(Problem("{name}: lora_A or lora_B missing", "{name}：缺少 lora_A 或 lora_B",
                                    name=name))
        elif tuple(pa.shape) != (r, k) or tuple(pb.shape) != (d, r):
            problems.append(Problem("{name}: A {a}, B {b}; expected A ({r}, {k}), B ({d}, {r})",
                                    "{name}：A {a}、B {b}；應為 A ({r}, {k})、B ({d}, {r})",
                                    name=name, a=str(tuple(pa.shape)), b=str(tuple(pb.shape)),
                                    r=r, k=k, d=d))
        elif not (bool(pa.isfinite().all()) and bool(pb.isfinite().all())):
            problems.append(Problem("{name}: non-finite values", "{name}：含非有限值", name=name))
    if problems:
        raise Fail(*problems)
    return pairs


def _expected_count(ctx: Context) -> int:
    r, _ = _rank_alpha(ctx)
    return sum(r * (d + k) for d, k in _base(ctx)[2].values())


def _zero_b(pairs: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(n for n, p in pairs.items() if float(p["B"].abs().max()) <= 1e-8)


def _merged_reference(ctx: Context) -> dict[str, Any]:
    """W0 + (α/r)·B·A for every adapted matrix, W0 elsewhere (Fail without a valid adapter)."""
    if "merged_ref" not in ctx.cache:
        pairs = _adapter(ctx, "adapter")
        r, alpha = _rank_alpha(ctx)
        _, w0, shapes = _base(ctx)
        ref = dict(w0)
        for name in shapes:
            ref[f"{name}.weight"] = w0[f"{name}.weight"] + (alpha / r) * (pairs[name]["B"] @ pairs[name]["A"])
        ctx.cache["merged_ref"] = ref
    out: dict[str, Any] = ctx.cache["merged_ref"]
    return out


def _adapted_model(ctx: Context) -> Any:
    if "adapted" not in ctx.cache:
        model = tiny_model(ctx, run_profile(ctx))
        model.load_state_dict(_merged_reference(ctx))
        ctx.cache["adapted"] = model
    return ctx.cache["adapted"]


def _done(en: str, zh: str, **details: Any) -> dict[str, Any]:
    return {"message": {"en": en.format(**details), "zh-TW": zh.format(**details)}, **details}


# -- the checks -------------------------------------------------------------------------------------


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any]:
    problems: list[Problem] = []
    for rel in ctx.spec.artifacts:
        try:
            if rel.endswith(".json"):
                ctx.json(rel, max_bytes=ctx.max_bytes)
            elif rel.endswith(".safetensors"):
                ctx.tensors(rel)
            else:
                ctx.path(rel)
        except Fail as exc:
            problems += exc.problems
    if problems:
        raise Fail(*problems)
    return _done("all {n} artifacts present and readable", "{n} 個產出檔齊全且可讀取",
                 n=len(ctx.spec.artifacts))


@check("lora-param-count")
def lora_param_count(ctx: Context) -> dict[str, Any]:
    pairs = _adapter(ctx, "adapter")
    count = sum(int(t.numel()) for p in pairs.values() for t in p.values())
    want = _expected_count(ctx)
    if count != want:
        raise fail("{count} trainable parameters, Σ r(d+k) = {want}",
                   "{count} 個可訓練參數，Σ r(d+k) = {want}", count=count, want=want)
    return _done("{count} trainable parameters = Σ r(d+k) over {n} matrices",
                 "{count} 個可訓練參數 = Σ r(d+k)（{n} 個矩陣）", count=count, n=len(pairs))


@check("lora-b-trained")
def lora_b_trained(ctx: Context) -> dict[str, Any]:
    zeros = _zero_b(_adapter(ctx, "adapter"))
    if zeros:
        raise fail("B is still zero in {n} module(s): {names}; the update never trained",
                   "{n} 個模組的 B 仍為零：{names}；更新從未被訓練", n=len(zeros), names=zeros[:4])
    return _done("every B matrix is non-zero", "每個 B 矩陣都不為零")


@check("heldout-improves")
def heldout_improves(ctx: Context) -> dict[str, Any]:
    base, _, _ = _base(ctx)
    adapted = _adapted_model(ctx)
    n = seq_len(ctx, run_profile(ctx))
    before, after = heldout_loss(base, ctx, n), heldout_loss(adapted, ctx, n)
    margin = float(ctx.params.get("heldout_margin", 0.5))
    gain = before - after
    if not gain >= margin:
        raise fail("held-out loss {before:.3f} -> {after:.3f} (gain {gain:.3f}, required {margin:g})",
                   "保留資料損失 {before:.3f} -> {after:.3f}（下降 {gain:.3f}，要求 {margin:g}）",
                   before=before, after=after, gain=gain, margin=margin)
    return _done("held-out loss {before:.3f} -> {after:.3f} (gain {gain:.3f}, required {margin:g})",
                 "保留資料損失 {before:.3f} -> {after:.3f}（下降 {gain:.3f}，要求 {margin:g}）",
                 before=before, after=after, gain=gain, margin=margin)


@check("merged-weights")
def merged_weights(ctx: Context) -> dict[str, Any]:
    merged = ctx.tensors("merged.safetensors", float32=True)
    ref = _merged_reference(ctx)
    _, w0, shapes = _base(ctx)
    atol = float(ctx.params.get("weight_atol", 1e-4))
    worst = 0.0
    for key, want in ref.items():
        if key not in merged:
            raise fail("merged.safetensors lacks {key}", "merged.safetensors 缺少 {key}", key=key)
        worst = max(worst, assert_close(merged[key], want, atol, what=key))
    moved = max(max_abs_diff(merged[f"{n}.weight"], w0[f"{n}.weight"]) for n in shapes)
    if not moved > atol:
        raise fail("merged weights are just W0 (max change {moved:.2e})",
                   "合併權重仍是 W0（最大改變 {moved:.2e}）", moved=moved)
    return _done("merged weights = W0 + (α/r)·BA (max |diff| {diff:.2e})",
                 "合併權重 = W0 + (α/r)·BA（最大差 {diff:.2e}）", diff=worst, max_change=moved)


@check("hand-lora-matches-peft")
def hand_lora(ctx: Context) -> dict[str, Any]:
    """The learner's LoRALinear (probe, peft blocked) against W0·x + (α/r)·B·A·x."""
    from graders.labs.probes.lab_1_1_lora import draw

    res = ctx.probe("hand-lora")
    out = ctx.probe_tensors("hand-lora", "outputs.safetensors", float32=True)
    assert ctx.probe_seed is not None
    inp = draw(ctx.probe_seed)
    d, k, r, alpha = inp["d"], inp["k"], inp["r"], inp["alpha"]
    for key in ("y", "merged", "init_A", "init_B"):
        if key not in out:
            raise fail("the probe's outputs lack {key}", "探針輸出缺少 {key}", key=key)
    atol = float(ctx.params.get("weight_atol", 1e-4))
    update = (alpha / r) * (inp["x"] @ inp["A"].T) @ inp["B"].T
    y_want = inp["x"] @ inp["w0"].T + update
    scale = 1.0 + float(y_want.abs().max())
    problems: list[Problem] = []
    for what, got, want in (("forward", out["y"], y_want),
                            ("merged_weight", out["merged"], inp["w0"] + (alpha / r) * inp["B"] @ inp["A"])):
        try:
            assert_close(got, want, atol * scale, what=f"{what} (W0·x + (α/r)·B·A·x)")
        except Fail as exc:
            problems += exc.problems
    ia, ib = out["init_A"], out["init_B"]
    if tuple(ia.shape) != (r, k) or tuple(ib.shape) != (d, r):
        problems.append(Problem("initial A {a} / B {b}: expected ({r}, {k}) / ({d}, {r})",
                                "初始 A {a} / B {b}：應為 ({r}, {k}) / ({d}, {r})",
                                a=str(tuple(ia.shape)), b=str(tuple(ib.shape)), r=r, k=k, d=d))
    else:
        if float(ib.abs().max()) != 0.0:
            problems.append(Problem("your layer does not start with B = 0, so it does not start "
                                    "as the frozen layer",
                                    "你的層初始時 B 不為 0，因此一開始就不等於凍結的層"))
        if not float(ia.abs().max()) > 0.0:
            problems.append(Problem("your layer starts with A = 0: no gradient would reach A or B",
                                    "你的層初始時 A = 0：梯度永遠到不了 A 或 B"))
    try:
        count = integer(res.get("param_count"), "lora_param_count(d, k, r)")
    except Fail as exc:
        problems += exc.problems
    else:
        if count != r * (d + k):
            problems.append(Problem("lora_param_count({d}, {k}, {r}) gave {got}, r(d+k) = {want}",
                                    "lora_param_count({d}, {k}, {r}) 回傳 {got}，r(d+k) = {want}",
                                    d=d, k=k, r=r, got=count, want=r * (d + k)))
    if problems:
        raise Fail(*problems)
    return _done("your layer equals W0·x + (α/r)·B·A·x on fresh inputs (d={d}, k={k}, r={r})",
                 "你的層在新的輸入上等於 W0·x + (α/r)·B·A·x（d={d}、k={k}、r={r}）",
                 d=d, k=k, r=r, probe_seed=str(ctx.probe_seed))


@check("qlora-adapter")
def qlora_adapter(ctx: Context) -> dict[str, Any]:
    pairs = _adapter(ctx, "qlora/adapter")
    zeros = _zero_b(pairs)
    if zeros:
        raise fail("B is still zero in {n} module(s)", "{n} 個模組的 B 仍為零", n=len(zeros))
    count, want = sum(int(t.numel()) for p in pairs.values() for t in p.values()), _expected_count(ctx)
    if count != want:
        raise fail("{count} parameters, expected {want}", "{count} 個參數，應為 {want}",
                   count=count, want=want)
    return _done("QLoRA adapter: {want} parameters, every B trained",
                 "QLoRA adapter：{want} 個參數，每個 B 都已訓練", want=want)


@check("metrics-consistent")
def metrics_consistent(ctx: Context) -> dict[str, Any]:
    m = metrics(ctx)
    lora = m.get("lora")
    if not isinstance(lora, dict):
        raise fail("metrics.json missing or without a 'lora' section",
                   "metrics.json 不存在或沒有 'lora' 區段")
    problems: list[Problem] = []
    if m.get("seed") != ctx.seed or isinstance(m.get("seed"), bool):
        problems.append(Problem("seed {got} reported, the run used {seed}",
                                "回報的 seed 為 {got}，實際執行使用 {seed}",
                                got=repr(m.get("seed"))[:40], seed=ctx.seed))
    want = _expected_count(ctx)
    try:
        pairs = _adapter(ctx, "adapter")
        count = sum(int(t.numel()) for p in pairs.values() for t in p.values())
        if integer(lora.get("trainable_params"), "trainable_params") != count or count != want:
            problems.append(Problem("trainable_params {got} reported, {count} in the adapter, {want} by r(d+k)",
                                    "回報 trainable_params {got}，adapter 中有 {count}，依 r(d+k) 應為 {want}",
                                    got=lora.get("trainable_params"), count=count, want=want))
        n = seq_len(ctx, run_profile(ctx))
        val = validation_ids(ctx)
        tol = float(ctx.params.get("loss_tolerance", 0.02))
        lc = labcommon(ctx)
        base_val = float(lc.eval_loss(_base(ctx)[0], val, n))
        cross_check(lora.get("val_loss_base"), base_val, tol, "val_loss_base")
        cross_check(lora.get("val_loss_final"), float(lc.eval_loss(_adapted_model(ctx), val, n)),
                    tol, "val_loss_final")
    except Fail as exc:
        problems += exc.problems
    if problems:
        raise Fail(Problem("metrics.json does not match the artifacts (flagged)",
                           "metrics.json 與產出檔不符（已標記）"), *problems)
    return _done("metrics.json agrees with the recomputed numbers", "metrics.json 與重算結果一致")


def _nf4_bytes(model: Any) -> dict[str, dict[str, int]]:
    """Per linear layer that transformers quantizes (all but lm_head): fp32 bytes, and NF4 bytes
    without (``plain``) and with (``double``) double quantisation, block size 64."""
    import torch

    out: dict[str, dict[str, int]] = {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Linear) and name != "lm_head":
            n = m.out_features * m.in_features
            blocks = -(-n // 64)
            out[name] = {"fp32_bytes": n * 4, "plain": -(-n // 2) + blocks * 4,
                         "double": -(-n // 2) + blocks + -(-blocks // 256) * 4}
    return out


@check("qlora-memory")
def qlora_memory(ctx: Context) -> dict[str, Any]:
    mem = ctx.json("qlora/memory.json")
    if not isinstance(mem, dict) or not isinstance(mem.get("layers"), dict):
        raise fail("qlora/memory.json needs a 'layers' mapping", "qlora/memory.json 需要 'layers' 對照表")
    want = _nf4_bytes(_base(ctx)[0])
    got: dict[str, Any] = mem["layers"]
    problems: list[Problem] = []
    if set(got) != set(want):
        problems.append(Problem("layers differ from the quantized linears: missing {miss}, extra {extra}",
                                "層與被量化的線性層不符：缺少 {miss}，多出 {extra}",
                                miss=sorted(set(want) - set(got))[:4], extra=sorted(set(got) - set(want))[:4]))

    def bad_for(variant: str) -> list[str]:
        return [n for n, v in want.items() if n in got and (
            not isinstance(got[n], dict) or got[n].get("fp32_bytes") != v["fp32_bytes"]
            or got[n].get("nf4_bytes") != v[variant])]

    variant = min(("plain", "double"), key=lambda var: len(bad_for(var)))
    if bad_for(variant):
        problems.append(Problem("bytes differ from the recomputation in {names}",
                                "以下各層的位元組數與重算結果不符：{names}", names=bad_for(variant)[:4]))
    fp32 = sum(v["fp32_bytes"] for v in want.values())
    nf4 = sum(v[variant] for v in want.values())
    if mem.get("fp32_bytes") != fp32 or mem.get("nf4_bytes") != nf4:
        problems.append(Problem("totals {got} reported, {nf4} / {fp32} recomputed",
                                "回報總計 {got}，重算為 {nf4} / {fp32}",
                                got=f"{mem.get('nf4_bytes')!r} / {mem.get('fp32_bytes')!r}"[:80],
                                nf4=nf4, fp32=fp32))
    if problems:
        raise Fail(*problems)
    ratio = number(fp32 / nf4, "ratio")
    return _done("NF4 {nf4} B vs fp32 {fp32} B: {ratio:.2f}x smaller",
                 "NF4 {nf4} 位元組 vs fp32 {fp32} 位元組：小 {ratio:.2f} 倍",
                 nf4=nf4, fp32=fp32, ratio=ratio, variant=variant)
