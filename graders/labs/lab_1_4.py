"""Checks of Lab-1.4 (gradient accumulation, gradient checkpointing, mixed precision, memory).

The learner's optim_basics.py is called by the probe ``probes/lab_1_4_optim.py`` inside the
sandbox on a tiny Llama and token batches drawn from a seed chosen at grading time. Here, outside
the sandbox, the same inputs are regenerated from ``ctx.probe_seed`` (the probe's ``draw_cases``)
and the grader's own implementations (the probe's ``ref_*`` functions) give the reference
gradients, losses and the memory profile the learner's memory.json must match.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.labs.kit import Context, Fail, Problem, assert_close, check, integer, number

PROBE = "optim-basics"
"""Probe id in lab.yaml."""
PROBE_FILE = Path(__file__).parent / "probes" / "lab_1_4_optim.py"
"""The probe script: also the grader's reference implementations."""
CONFIGS = ("fp32", "bf16-autocast", "accumulation", "checkpointing")
"""Rows of the memory profile."""
TERMS = ("params", "grads", "optimizer", "activations", "total")
"""Columns of the memory profile (bytes)."""


def _ref() -> ModuleType:
    """The probe script imported as a module (definitions only)."""
    spec = importlib.util.spec_from_file_location("_lab_1_4_probe", PROBE_FILE)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PROBE_FILE}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cases(ctx: Context) -> dict[str, Any]:
    if "cases" not in ctx.cache:
        if ctx.probe_seed is None:
            raise RuntimeError("no probe seed: the probe was not run")
        ctx.cache["cases"] = _ref().draw_cases(ctx.probe_seed)
    cases: dict[str, Any] = ctx.cache["cases"]
    return cases


def _full_grads(ctx: Context) -> dict[str, Any]:
    """Gradients of the whole batch's loss on the drawn model (the grader's own)."""
    if "full_grads" not in ctx.cache:
        ref, cases = _ref(), _cases(ctx)
        model = ref.build_model(cases["model_seed"])
        ref.ref_loss(model, cases["ids"]).backward()
        ctx.cache["full_grads"] = {n: p.grad.detach().float() for n, p in model.named_parameters()
                                   if p.grad is not None}
    grads: dict[str, Any] = ctx.cache["full_grads"]
    return grads


def _section(ctx: Context, name: str) -> dict[str, Any]:
    sec = ctx.probe(PROBE).get(name)
    if not isinstance(sec, dict):
        raise Fail(Problem("the probe recorded no '{name}' result", "探針沒有 '{name}' 的結果",
                           name=name))
    if "error" in sec:
        raise Fail(Problem("your {name} code raised on the grader's inputs: {error}",
                           "你的 {name} 程式在評分器的輸入上出錯：{error}", name=name,
                           error=str(sec["error"])))
    return sec


def _compare_grads(ctx: Context, prefix: str, what: str) -> float:
    tensors = ctx.probe_tensors(PROBE, "tensors.safetensors")
    ref = _full_grads(ctx)
    atol = number(ctx.params.get("grad_atol", 1e-5), "grad_atol", lo=0.0)
    rtol = number(ctx.params.get("grad_rtol", 1e-4), "grad_rtol", lo=0.0)
    worst = 0.0
    for name, g in ref.items():
        got = tensors.get(f"{prefix}.{name}")
        if got is None:
            raise Fail(Problem("{what}: no gradient for {name}", "{what}：{name} 沒有梯度",
                               what=what, name=name))
        worst = max(worst, assert_close(got, g, atol=atol, rtol=rtol, what=f"{what}: {name}"))
    return worst


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any] | None:
    """metrics.json and memory.json exist and are JSON objects."""
    for rel in ("metrics.json", "memory.json"):
        if not isinstance(ctx.json(rel), dict):
            raise Fail(Problem("{rel} is not a JSON object", "{rel} 不是 JSON 物件", rel=rel))
    return None


@check("accumulation")
def accumulation(ctx: Context) -> dict[str, Any] | None:
    """k micro-batches give the whole batch's gradient; the model never saw more than len/k."""
    sec = _section(ctx, "accumulation")
    cases = _cases(ctx)
    k, batch = cases["k"], len(cases["ids"])
    sizes = sec.get("batch_sizes")
    if not isinstance(sizes, list) or not sizes:
        raise Fail(Problem("the model never ran during accumulate_gradients",
                           "accumulate_gradients 期間模型從未執行"))
    largest = max(integer(s, "batch size", lo=0) for s in sizes)
    if largest > batch // k:
        raise Fail(Problem("with k={k} the model saw a batch of {largest} sequences at once "
                           "(at most {want}): that is not accumulation",
                           "k={k} 時模型一次看到 {largest} 條序列（最多應為 {want}）：這不是梯度累積",
                           k=k, largest=largest, want=batch // k))
    err = _compare_grads(ctx, "accum", "accumulated gradient")
    return {"k": k, "micro_batch": largest, "max_abs_diff": err}


@check("checkpointing")
def checkpointing(ctx: Context) -> dict[str, Any] | None:
    """√L segments: the gradients stay equal; each segment costs exactly one boundary activation."""
    sec = _section(ctx, "checkpointing")
    cases = _cases(ctx)
    ref = _ref()
    segs = sec.get("segments")
    saved = sec.get("saved")
    if not isinstance(segs, list) or not isinstance(saved, list) or len(segs) != 3 or len(saved) != 3:
        raise Fail(Problem("the probe recorded no saved-bytes series", "探針沒有記錄保存位元組序列"))
    saved_i = [integer(x, "saved bytes", lo=0) for x in saved]
    hidden = ref.CONFIG["hidden_size"]
    boundary = len(cases["ids"]) * cases["seq"] * hidden * 4  # one fp32 segment input
    model = ref.build_model(cases["model_seed"])
    plain = ref.saved_bytes(lambda: ref.ref_loss(model, cases["ids"]))
    predicted = [saved_i[0] + (s - 1) * boundary for s in segs]
    if saved_i != predicted:
        raise Fail(Problem(
            "saved bytes at {segs} segments were {saved}; each extra segment should keep exactly "
            "one segment input of b·s·h·4 = {boundary} bytes ({predicted}): run each segment "
            "through torch.utils.checkpoint.checkpoint",
            "{segs} 個分段時保存的位元組為 {saved}；每多一個分段應只多保存一個 b·s·h·4 = {boundary} "
            "位元組的分段輸入（{predicted}）：請以 torch.utils.checkpoint.checkpoint 執行每個分段",
            segs=segs, saved=saved_i, boundary=boundary,
            predicted=predicted))
    if saved_i[1] * 2 > plain:
        raise Fail(Problem("√L checkpointing kept {got} bytes against {plain} without it: no cut",
                           "√L 檢查點保存了 {got} 位元組，不用時為 {plain}：沒有減少",
                           got=saved_i[1], plain=plain))
    err = _compare_grads(ctx, "ckpt", "checkpointed gradient")
    return {"saved_bytes": dict(zip((str(s) for s in segs), saved_i, strict=True)),
            "saved_bytes_plain": plain, "max_abs_diff": err}


@check("mixed-precision")
def mixed_precision(ctx: Context) -> dict[str, Any] | None:
    """Autocast really on, fp32 master weights, losses within tolerance of fp32 training."""
    sec = _section(ctx, "mixed")
    cases = _cases(ctx)
    dtypes = sec.get("param_dtypes")
    if dtypes != ["torch.float32"]:
        raise Fail(Problem("after train_mixed the parameters are {dtypes}: the master weights must "
                           "stay float32", "train_mixed 之後參數為 {dtypes}：主權重必須維持 float32",
                           dtypes=str(dtypes)[:100]))
    if integer(sec.get("bf16_ops"), "bf16_ops", lo=0) == 0:
        raise Fail(Problem("no operation ran in bf16: autocast was not used",
                           "沒有任何運算以 bf16 執行：沒有使用 autocast"))
    losses = sec.get("losses")
    ref = _ref().ref_train_fp32(cases["model_seed"], cases["mixed"])
    if not isinstance(losses, list) or len(losses) != len(ref):
        raise Fail(Problem("train_mixed returned {got} losses for {n} batches",
                           "train_mixed 對 {n} 個批次回傳了 {got} 個損失",
                           got=len(losses) if isinstance(losses, list) else 0, n=len(ref)))
    tol = number(ctx.params.get("mixed_loss_tolerance", 0.1), "mixed_loss_tolerance", lo=0.0)
    got = [number(x, "loss") for x in losses]
    worst = max(abs(a - b) for a, b in zip(got, ref, strict=True))
    if worst > tol:
        raise Fail(Problem("mixed-precision losses {got} differ from fp32 training {ref} by {err:.3f} "
                           "(allowed {tol})", "混合精度損失 {got} 與 fp32 訓練 {ref} 相差 {err:.3f}"
                           "（容許 {tol}）", got=[round(x, 4) for x in got],
                           ref=[round(x, 4) for x in ref], err=worst, tol=tol))
    return {"losses_mixed": got, "losses_fp32": ref, "max_abs_diff": worst}


@check("memory-table")
def memory_table(ctx: Context) -> dict[str, Any] | None:
    """memory.json's four rows equal the grader's own profile of the same steps."""
    import torch

    mem = ctx.json("memory.json")
    configs = mem.get("configs") if isinstance(mem, dict) else None
    if not isinstance(configs, dict):
        raise Fail(Problem("memory.json has no 'configs' table", "memory.json 沒有 'configs' 表"))
    p = ctx.params
    batch = integer(p.get("batch", 16), "batch", lo=1)
    seq = integer(p.get("seq_len", 64), "seq_len", lo=2)
    accum_k = integer(p.get("accum_k", 4), "accum_k", lo=1)
    segments = integer(p.get("segments", 2), "segments", lo=1)
    rtol = number(p.get("table_rtol", 0.02), "table_rtol", lo=0.0)
    ref = _ref()
    ids = torch.zeros(batch, seq, dtype=torch.long)  # byte counts do not depend on the values
    out: dict[str, Any] = {}
    for name in CONFIGS:
        row = configs.get(name)
        if not isinstance(row, dict):
            raise Fail(Problem("memory.json has no row '{name}'", "memory.json 沒有 '{name}' 列",
                               name=name))
        want = ref.ref_profile(name, ids, accum_k, segments, seed=0)
        for term in TERMS:
            got = integer(row.get(term), f"{name}.{term}", lo=0)
            if abs(got - want[term]) > rtol * want[term]:
                raise Fail(Problem("memory.json {name}.{term} = {got} bytes; the grader measured "
                                   "{want}", "memory.json {name}.{term} = {got} 位元組；評分器量到 "
                                   "{want}", name=name, term=term, got=got, want=want[term]))
        out[name] = want
    if not (out["checkpointing"]["activations"] < out["accumulation"]["activations"]
            < out["fp32"]["activations"]):
        raise RuntimeError("reference profile out of order")  # the grader's own numbers
    return {"profile": out}
