"""Checks of Lab-1.5 (FlashAttention: tiled attention with the online softmax).

The learner's ``flash_attention`` is run by the probe ``probes/lab_1_5_tiled.py`` inside the
sandbox, on inputs drawn from a seed chosen at grading time, with
``torch.nn.functional.scaled_dot_product_attention`` unavailable. Here, outside the sandbox, the
same inputs are regenerated from ``ctx.probe_seed`` (the probe's own ``draw_cases``) and the exact
reference is computed in float64; nothing the probe reports about sizes is trusted where it can be
recomputed (the storage bound, the naive attention's saved bytes).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.labs.kit import Context, Fail, Problem, assert_close, check, integer, number

PROBE = "tiled-attention"
"""Probe id in lab.yaml."""
PROBE_FILE = Path(__file__).parent / "probes" / "lab_1_5_tiled.py"
"""The probe script: also the single definition of the drawn inputs and the bench shape."""


def _probe_module() -> ModuleType:
    """The probe script imported as a module (only its definitions; it runs nothing on import)."""
    spec = importlib.util.spec_from_file_location("_lab_1_5_probe", PROBE_FILE)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PROBE_FILE}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cases(ctx: Context) -> dict[str, Any]:
    """The probe's inputs, regenerated from the grading seed (cached for the other checks)."""
    if "cases" not in ctx.cache:
        ctx.cache["cases"] = _probe_module().draw_cases(ctx.probe_seed)
    cases: dict[str, Any] = ctx.cache["cases"]
    return cases


def _reference(q: Any, k: Any, v: Any, causal: bool) -> Any:
    """softmax(QKᵀ/√d [+ causal mask]) V in float64: the exact attention the tiles must reproduce."""
    import torch

    q, k, v = q.double(), k.double(), v.double()
    s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = s.shape[-2], s.shape[-1]
        s = s.masked_fill(torch.ones(n_q, n_k, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def _result(ctx: Context) -> dict[str, Any]:
    res = ctx.probe(PROBE)
    if "error" in res:
        raise Fail(Problem("your flash_attention.py could not be run by the grader: {error}",
                           "評分器無法執行你的 flash_attention.py：{error}", error=str(res["error"])))
    return res


def _section(res: dict[str, Any], name: str) -> dict[str, Any]:
    sec = res.get(name)
    if not isinstance(sec, dict):
        raise Fail(Problem("the probe recorded no '{name}' result", "探針沒有 '{name}' 的結果",
                           name=name))
    if "error" in sec:
        raise Fail(Problem("flash_attention raised on the grader's inputs ({name}): {error}",
                           "flash_attention 在評分器的輸入上出錯（{name}）：{error}",
                           name=name, error=str(sec["error"])))
    return sec


def _forward(ctx: Context, name: str) -> dict[str, Any]:
    res = _result(ctx)
    sec = _section(res, name)
    case = _cases(ctx)[name]
    tensors = ctx.probe_tensors(PROBE, "outputs.safetensors")
    out = tensors.get(f"{name}.out")
    if out is None:
        raise Fail(Problem("the probe saved no output for '{name}'", "探針沒有儲存 '{name}' 的輸出",
                           name=name))
    expected = _reference(case["q"], case["k"], case["v"], case["causal"]).float()
    atol = number(ctx.params.get("atol", 1e-4), "atol", lo=0.0)
    assert_close(out, expected, atol=atol, rtol=0.0,
                 what=f"flash_attention ({'causal' if case['causal'] else 'no mask'}, N={case['n']})")
    err = float((out.double() - expected.double()).abs().max())
    return {"n": case["n"], "block_size": _cases(ctx)["block_size"], "max_abs_err": err,
            "largest_storage_bytes": sec.get("largest_storage")}


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any] | None:
    """memory.json exists and parses."""
    mem = ctx.json("memory.json")
    if not isinstance(mem, dict):
        raise Fail(Problem("memory.json is not a JSON object", "memory.json 不是 JSON 物件"))
    return {"keys": sorted(str(k) for k in mem)[:20]}


@check("forward-plain")
def forward_plain(ctx: Context) -> dict[str, Any] | None:
    """Without a mask, at a length the block size does not divide."""
    return _forward(ctx, "plain")


@check("forward-causal")
def forward_causal(ctx: Context) -> dict[str, Any] | None:
    """With the causal mask, at a length the block size does not divide."""
    return _forward(ctx, "causal")


@check("no-shortcut")
def no_shortcut(ctx: Context) -> dict[str, Any] | None:
    """No fused attention kernel; no N × N storage; saved bytes linear in N."""
    res = _result(ctx)
    bad = res.get("forbidden_ops")
    if not isinstance(bad, list):
        raise Fail(Problem("the probe recorded no operator list", "探針沒有記錄運算子清單"))
    if bad:
        raise Fail(Problem("flash_attention called a fused attention kernel ({ops}): write the tiles "
                           "yourself", "flash_attention 呼叫了融合注意力核心（{ops}）：請自己寫分塊",
                           ops=", ".join(str(b) for b in bad[:3])))
    cases = _cases(ctx)
    big = _section(res, "big")
    n = integer(big.get("n"), "big.n", lo=1)
    if n != cases["big_n"]:
        raise Fail(Problem("the probe's long run used N={n}, not the drawn {want}",
                           "探針的長序列使用 N={n}，不是抽到的 {want}", n=n, want=cases["big_n"]))
    largest = integer(big.get("largest_storage"), "big.largest_storage", lo=0)
    factor = int(ctx.params.get("storage_factor", 2))
    bound = factor * cases["batch"] * cases["heads"] * n * max(cases["head_dim"],
                                                                  cases["block_size"]) * 8
    if largest > bound:
        raise Fail(Problem(
            "at N={n} your function created a {largest}-byte tensor; tiles need at most {bound} "
            "(the N × N scores would be {nxn} bytes in fp16): the full score matrix was built",
            "在 N={n} 時你的函式建立了 {largest} 位元組的張量；分塊最多只需 {bound}"
            "（N × N 分數在 fp16 下為 {nxn} 位元組）：完整的分數矩陣被建立了",
            n=n, largest=largest, bound=bound, nxn=cases["batch"] * cases["heads"] * n * n * 2))
    lin = _section(res, "linear")
    saved = lin.get("saved")
    if not isinstance(saved, list) or len(saved) != 2:
        raise Fail(Problem("the probe recorded no saved-bytes pair", "探針沒有記錄儲存位元組"))
    s1 = integer(saved[0], "linear.saved[0]", lo=1)
    s2 = integer(saved[1], "linear.saved[1]", lo=0)
    ratio = s2 / s1
    max_ratio = number(ctx.params.get("linear_ratio_max", 2.3), "linear_ratio_max", lo=1.0)
    if ratio > max_ratio:
        raise Fail(Problem(
            "doubling N multiplied the bytes saved for backward by {ratio:.2f} (linear: 2; N × N "
            "saved: ~4): the backward pass keeps something quadratic",
            "N 加倍時為反向傳播保存的位元組變成 {ratio:.2f} 倍（線性：2；保存 N × N：約 4）："
            "反向傳播保存了平方級的東西", ratio=ratio))
    return {"largest_storage_bytes": largest, "bound_bytes": bound, "saved_ratio_2n": ratio}


@check("backward")
def backward(ctx: Context) -> dict[str, Any] | None:
    """Stretch goal: gradients of the tiled backward equal autograd through the reference."""
    import torch

    res = _result(ctx)
    for name in ("plain", "causal"):  # the learner's error first, before looking for outputs
        sec = _section(res, name)
        if "backward_error" in sec:
            raise Fail(Problem("the backward pass failed ({name}): {error}",
                               "反向傳播失敗（{name}）：{error}", name=name,
                               error=str(sec["backward_error"])))
    tensors = ctx.probe_tensors(PROBE, "outputs.safetensors")
    atol = number(ctx.params.get("grad_atol", 1e-3), "grad_atol", lo=0.0)
    worst = 0.0
    for name in ("plain", "causal"):
        case = _cases(ctx)[name]
        q, k, v = (case[x].double().requires_grad_(True) for x in "qkv")
        ref = _reference(q, k, v, case["causal"])
        grads = torch.autograd.grad(ref, (q, k, v), case["grad"].double())
        for x, g in zip("qkv", grads, strict=True):
            got = tensors.get(f"{name}.d{x}")
            if got is None:
                raise Fail(Problem("no gradient d{x} for '{name}'", "'{name}' 沒有梯度 d{x}",
                                   x=x, name=name))
            assert_close(got, g.float(), atol=atol, rtol=0.0, what=f"d{x} ({name})")
            worst = max(worst, float((got.double() - g).abs().max()))
    return {"max_abs_err": worst}


@check("memory-table")
def memory_table(ctx: Context) -> dict[str, Any] | None:
    """memory.json's saved bytes are true (re-measured) and scale as O(N) tiled, O(N²) naive."""
    import torch

    mem = ctx.json("memory.json")
    table = mem.get("saved_bytes") if isinstance(mem, dict) else None
    if not isinstance(table, dict):
        raise Fail(Problem("memory.json has no saved_bytes table", "memory.json 沒有 saved_bytes 表"))
    mod = _probe_module()
    lengths = list(mod.BENCH_LENGTHS)
    b, h, d = mod.BENCH_SHAPE

    def row(name: str) -> list[int]:
        vals = table.get(name)
        if not isinstance(vals, list) or len(vals) != len(lengths):
            raise Fail(Problem("saved_bytes.{name} must list {k} byte counts (N = {lengths})",
                               "saved_bytes.{name} 必須列出 {k} 個位元組數（N = {lengths}）",
                               name=name, k=len(lengths), lengths=lengths))
        return [integer(x, f"saved_bytes.{name}", lo=0) for x in vals]

    naive, tiled = row("naive"), row("tiled")
    # the grader's own measurement of naive attention (deterministic for a given torch)
    ref_naive = []
    for n in lengths:
        q, k, v = (torch.zeros(b, h, n, d, requires_grad=True) for _ in range(3))
        ref_naive.append(mod._saved_bytes(lambda q, k, v: _reference_f32(q, k, v), q, k, v))
    res = _result(ctx)
    bench = _section(res, "bench")
    measured = bench.get("tiled")
    if not isinstance(measured, list) or len(measured) != len(lengths):
        raise Fail(Problem("the probe could not measure your tiled attention's memory",
                           "探針無法量測你的分塊注意力記憶體"))
    ref_tiled = [integer(x, "bench.tiled", lo=0) for x in measured]
    if naive != ref_naive or tiled != ref_tiled:
        raise Fail(Problem(
            "memory.json says naive {naive} / tiled {tiled} bytes; the grader measured naive "
            "{ref_naive} / tiled {ref_tiled}",
            "memory.json 寫 naive {naive} / tiled {tiled} 位元組；評分器量到 naive {ref_naive} / "
            "tiled {ref_tiled}", naive=naive, tiled=tiled, ref_naive=ref_naive, ref_tiled=ref_tiled))
    naive_ratio = naive[-1] / max(naive[-2], 1)
    tiled_ratio = tiled[-1] / max(tiled[-2], 1)
    if tiled_ratio > number(ctx.params.get("linear_ratio_max", 2.3), "linear_ratio_max"):
        raise Fail(Problem("tiled saved bytes grow {r:.2f}× when N doubles: not linear",
                           "N 加倍時分塊保存的位元組成長 {r:.2f} 倍：不是線性", r=tiled_ratio))
    return {"lengths": lengths, "naive": naive, "tiled": tiled,
            "naive_ratio": naive_ratio, "tiled_ratio": tiled_ratio}


def _reference_f32(q: Any, k: Any, v: Any) -> Any:
    """The lab's given naive attention (float32, no mask): what the table's naive row measures."""
    import torch

    s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    return torch.softmax(s, dim=-1) @ v
