"""What the checkers of Lab-1.7 (DPO) and Lab-1.8 (ORPO) share, on the check kit.

- ``preference(ctx)``: the grader's own copy of exercises/_common/preference.py (never the
  submission's), loaded like the kit loads labcommon;
- ``pairs(ctx, split)``: ``heldout`` (the grader's file) or ``val`` (every 10th training pair);
- ``load_weights(ctx, rel)``: a saved model as the seeded tiny model of the run's profile, its
  tensors validated (names, shapes, finiteness) before ``load_state_dict``;
- ``logps(ctx, rel, split)``: summed (or averaged) response log-probabilities, cached per grading;
- ``values_match(ctx, claims)``: metrics.json claims against recomputed values (one Fail with
  every mismatch).
Nothing here imports torch at module level (tests/test_imports.py).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from graders.labs.kit import (
    Context,
    Fail,
    Problem,
    common_module,
    fail,
    number,
    run_profile,
    tiny_model,
)


def done(en: str, zh: str, **details: Any) -> dict[str, Any]:
    """A passing check's details with its bilingual message."""
    return {"message": {"en": en.format(**details), "zh-TW": zh.format(**details)}, **details}


def preference(ctx: Context) -> ModuleType:
    """The grader's own exercises/_common/preference.py."""
    return common_module(ctx, "preference.py")


def pairs(ctx: Context, split: str) -> list[dict[str, str]]:
    """The grader's held-out pairs (``heldout``) or the validation pairs of the training data
    (``val``: every 10th pair, as preference.load_pairs splits them)."""
    key = f"pairs:{split}"
    if key not in ctx.cache:
        pref = preference(ctx)
        if split == "heldout":
            if ctx.heldout is None:
                raise RuntimeError("the grader has no held-out pairs for this lab")
            path = Path(ctx.heldout)
            ctx.cache[key] = pref.load_pairs(path.parent, path.name, val_every=10**9)[0]
        else:
            if ctx.data_dir is None:
                raise RuntimeError("the grader has no training pairs for this lab")
            ctx.cache[key] = pref.load_pairs(ctx.data_dir)[1]
    out: list[dict[str, str]] = ctx.cache[key]
    return out


def load_weights(ctx: Context, rel: str | None) -> Any:
    """The seeded tiny model with the weights of ``rel`` (None: the untrained model). Fail when a
    tensor is missing, extra, of another shape or not finite."""
    key = f"model:{rel}"
    if key in ctx.cache:
        return ctx.cache[key]
    import torch

    torch.set_num_threads(max(1, ctx.spec.cpu_threads))
    model = tiny_model(ctx, run_profile(ctx))
    if rel is not None:
        got = ctx.tensors(rel, float32=True)
        want = model.state_dict()
        problems: list[Problem] = []
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        if missing or extra:
            problems.append(Problem("{rel}: {m} tensor(s) missing ({names}), {e} unexpected",
                                    "{rel}：缺少 {m} 個張量（{names}），多出 {e} 個",
                                    rel=rel, m=len(missing), names=missing[:3], e=len(extra)))
        for name, ref in want.items():
            t = got.get(name)
            if t is None:
                continue
            if tuple(t.shape) != tuple(ref.shape):
                problems.append(Problem("{rel}: {name} has shape {got}, the model needs {want}",
                                        "{rel}：{name} 的形狀為 {got}，模型需要 {want}",
                                        rel=rel, name=name, got=list(t.shape),
                                        want=list(ref.shape)))
            elif not bool(torch.isfinite(t).all()):
                problems.append(Problem("{rel}: {name} has non-finite values",
                                        "{rel}：{name} 含非有限值", rel=rel, name=name))
        if problems:
            raise Fail(*problems[:5])
        model.load_state_dict({k: got[k] for k in want}, strict=True)
    model.eval()
    ctx.cache[key] = model
    return model


def logps(ctx: Context, rel: str | None, split: str, average: bool = False) -> tuple[Any, Any]:
    """(chosen, rejected) log π(y|x) of the model ``rel`` on ``split`` (summed over the response's
    bytes; ``average``: per byte, ORPO's length-normalised likelihood)."""
    key = f"logps:{rel}:{split}:{average}"
    if key not in ctx.cache:
        ctx.cache[key] = preference(ctx).response_logps(load_weights(ctx, rel), pairs(ctx, split),
                                                        average=average)
    out: tuple[Any, Any] = ctx.cache[key]
    return out


def artifacts_readable(ctx: Context) -> dict[str, Any]:
    """Every artifact of lab.yaml present and readable: JSON parsed, weights loaded into the tiny
    model (names, shapes, finite values), one Fail with every problem."""
    problems: list[Problem] = []
    for rel in ctx.spec.artifacts:
        try:
            if rel.endswith(".json"):
                ctx.json(rel, max_bytes=ctx.max_bytes)
            elif rel.endswith(".safetensors"):
                load_weights(ctx, rel)
            else:
                ctx.path(rel)
        except Fail as exc:
            problems += exc.problems
    if problems:
        raise Fail(*problems)
    return done("all {n} artifacts present and readable", "{n} 個產出檔齊全且可讀取",
                n=len(ctx.spec.artifacts))


def probe_mismatches(got: dict[str, Any], want: dict[str, Any]) -> list[Problem]:
    """A probe's output tensors against the grader's float64 reference, key by key: the shape, finite
    values, and at most 1e-6 relative (to the reference's largest magnitude, plus 1e-6) apart."""
    import torch

    problems: list[Problem] = []
    for key, ref in want.items():
        t = got.get(key)
        if t is None or tuple(t.shape) != tuple(ref.shape):
            problems.append(Problem("{key}: expected shape {want}, got {shape}",
                                    "{key}：形狀應為 {want}，得到 {shape}", key=key,
                                    want=list(ref.shape),
                                    shape=None if t is None else list(t.shape)))
            continue
        t = t.double()
        if not bool(torch.isfinite(t).all()):
            problems.append(Problem("{key} has non-finite values", "{key} 含非有限值", key=key))
            continue
        err = float((t - ref).abs().max())
        if err > 1e-6 * (1.0 + float(ref.abs().max())):
            problems.append(Problem("{key} differs from the reference by {err:.3g}",
                                    "{key} 與參考值相差 {err:.3g}", key=key, err=err))
    return problems


def values_match(ctx: Context, claims: list[tuple[str, Any, float, float | None]]) -> None:
    """Each ``(name, claimed, recomputed, tol)``: the claim must be a finite number within ``tol``
    (None: params.value_tolerance, relative plus the same absolute) of the recomputation."""
    rel = float(ctx.params.get("value_tolerance", 0.02))
    problems: list[Problem] = []
    for name, claimed, want, tol in claims:
        try:
            got = number(claimed, name)
        except Fail as exc:
            problems += exc.problems
            continue
        allowed = tol if tol is not None else rel * (1.0 + abs(want))
        if not abs(got - want) <= allowed:
            problems.append(Problem("{name}: {got:.4f} reported, {want:.4f} recomputed "
                                    "(tolerance {tol:.3g})",
                                    "{name}：回報 {got:.4f}，重算為 {want:.4f}（容差 {tol:.3g}）",
                                    name=name, got=got, want=want, tol=allowed))
    if problems:
        raise Fail(*problems)


__all__ = ["Fail", "artifacts_readable", "done", "probe_mismatches", "fail", "load_weights", "logps", "pairs", "preference",
           "values_match"]
