"""Value checks and tensor helpers of the kit (torch is imported inside the functions).

``number``/``integer`` validate a value a submission reported (finite, bounded, not a bool, not a
list); ``assert_close``/``compare_state_dicts`` compare tensors with the max abs difference in the
message; ``tiny_model``/``heldout_loss``/``validation_ids`` rebuild the lab's seeded model with the
grader's own copy of labcommon; ``pair_logps`` sums response-token log-probabilities (DPO,
Rafailov et al. 2023, eq. 7 uses log π(y|x) = Σ_t log π(y_t | x, y_<t)).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.labs.kit.core import Context, Fail, fail


def number(value: Any, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float within [lo, hi]; Fail for bools, strings, lists, NaN, 10**400."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("{name}: a number is required, got {got}", "{name}：需要數字，實際為 {got}",
                   name=name, got=type(value).__name__)
    try:
        x = float(value)
    except OverflowError:
        raise fail("{name}: the number is too large", "{name}：數字太大", name=name) from None
    if not math.isfinite(x):
        raise fail("{name}: {got} is not a finite number", "{name}：{got} 不是有限數",
                   name=name, got=str(x))
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise fail("{name} = {got:g} is outside [{lo}, {hi}]", "{name} = {got:g} 超出 [{lo}, {hi}]",
                   name=name, got=x, lo=lo, hi=hi)
    return x


def integer(value: Any, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int within [lo, hi]; Fail for bools, floats, strings and huge integers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail("{name}: an integer is required, got {got}", "{name}：需要整數，實際為 {got}",
                   name=name, got=type(value).__name__)
    if value.bit_length() > 63:
        raise fail("{name}: the integer is too large", "{name}：整數太大", name=name)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise fail("{name} = {got} is outside [{lo}, {hi}]", "{name} = {got} 超出 [{lo}, {hi}]",
                   name=name, got=value, lo=lo, hi=hi)
    return value


def max_abs_diff(actual: Any, expected: Any) -> float:
    """max |actual - expected| (inf when non-finite); shapes must already agree."""
    if actual.numel() == 0:
        return 0.0
    d = float((actual.double() - expected.double()).abs().max())
    return d if math.isfinite(d) else float("inf")


def assert_close(actual: Any, expected: Any, atol: float, rtol: float = 0.0,
                 what: str = "tensor") -> float:
    """Fail unless ``actual`` has ``expected``'s shape and |a - e| <= atol + rtol·|e| everywhere;
    returns the max abs difference."""
    if tuple(actual.shape) != tuple(expected.shape):
        raise fail("{what}: shape {got}, expected {want}", "{what}：形狀 {got}，應為 {want}",
                   what=what, got=str(tuple(actual.shape)), want=str(tuple(expected.shape)))
    diff = max_abs_diff(actual, expected)
    if actual.numel():
        a, e = actual.double(), expected.double()
        ok = bool(((a - e).abs() <= atol + rtol * e.abs()).all()) and math.isfinite(diff)
    else:
        ok = True
    if not ok:
        raise fail("{what} differs by {diff:.2e} (tolerance {atol:g})",
                   "{what} 相差 {diff:.2e}（容差 {atol:g}）", what=what, diff=diff, atol=atol)
    return diff


def compare_state_dicts(actual: dict[str, Any], expected: dict[str, Any], atol: float,
                        what: str = "state dict") -> tuple[float, str]:
    """Fail on a missing key, a shape mismatch or a difference above ``atol``; returns
    (max abs difference, the key where it is). Extra keys in ``actual`` are ignored."""
    missing = sorted(set(expected) - set(actual))
    if missing:
        raise fail("{what} lacks {keys}", "{what} 缺少 {keys}", what=what, keys=missing[:4])
    worst, worst_key = 0.0, ""
    for key, want in expected.items():
        got = actual[key]
        if tuple(got.shape) != tuple(want.shape):
            raise fail("{key}: shape {got}, expected {want}", "{key}：形狀 {got}，應為 {want}",
                       key=key, got=str(tuple(got.shape)), want=str(tuple(want.shape)))
        d = max_abs_diff(got, want)
        if d > worst or not worst_key:
            worst, worst_key = d, key
    if not worst <= atol:
        raise fail("{key} differs by {diff:.2e} (tolerance {atol:g})",
                   "{key} 相差 {diff:.2e}（容差 {atol:g}）", key=worst_key, diff=worst, atol=atol)
    return worst, worst_key


def cross_check(claimed: Any, recomputed: float, tol: float, name: str) -> float:
    """Fail unless the number the submission reports (metrics.json) is within ``tol`` of the
    grader's recomputation; returns the claimed value."""
    got = number(claimed, name)
    if not math.isfinite(recomputed):
        raise fail("{name}: the grader could not recompute it", "{name}：評分器無法重算",
                   name=name)
    if not abs(got - recomputed) <= tol:
        raise fail("{name} {got:.4f} reported, {want:.4f} recomputed (tolerance {tol:g})",
                   "回報 {name} {got:.4f}，重算為 {want:.4f}（容差 {tol:g}）",
                   name=name, got=got, want=recomputed, tol=tol)
    return got


def common_module(ctx: Context, name: str) -> ModuleType:
    """The grader's own copy of ``exercises/_common/<name>`` (never the submission's), loaded
    once per grading."""
    key = name.removesuffix(".py")
    cached = ctx.cache.get(key)
    if isinstance(cached, ModuleType):
        return cached
    from graders.labs.spec import common_dir

    candidates = [common_dir(ctx.lab_dir)] if ctx.lab_dir else []
    root = Path(__file__).resolve().parents[3]
    candidates += [root / "exercises" / "_common", root / "tutor" / "_data" / "exercises" / "_common"]
    for cand in candidates:
        path = cand / name
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"_grader_{key}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(f"_grader_{key}", module)
            spec.loader.exec_module(module)
            ctx.cache[key] = module
            return module
    raise RuntimeError(f"the grader's {name} was not found")


def labcommon(ctx: Context) -> ModuleType:
    """The grader's own copy of exercises/_common/labcommon.py (never the submission's)."""
    return common_module(ctx, "labcommon.py")


def metrics(ctx: Context) -> dict[str, Any]:
    """metrics.json as a dict, read once per grading ({} when missing or not an object: the
    checks that need a value then fail on it)."""
    if "metrics" not in ctx.cache:
        try:
            m = ctx.json("metrics.json")
        except Fail:
            m = {}
        ctx.cache["metrics"] = m if isinstance(m, dict) else {}
    out: dict[str, Any] = ctx.cache["metrics"]
    return out


def run_profile(ctx: Context) -> str:
    """The profile metrics.json reports (``cpu`` unless lab.yaml has the one it names)."""
    return profile_of(ctx, metrics(ctx).get("profile"))


def profile_of(ctx: Context, claimed: Any) -> str:
    """The profile the run says it used when lab.yaml has it, else ``cpu`` (never crashes on a
    list, a number or a missing value)."""
    profiles = ctx.params.get("profiles") or {}
    return claimed if isinstance(claimed, str) and claimed in profiles else "cpu"


def tiny_model(ctx: Context, profile: str = "cpu") -> Any:
    """A fresh seeded tiny model of ``params.profiles[profile]`` and the run's seed."""
    config = (ctx.params.get("profiles") or {}).get(profile)
    if not isinstance(config, dict):
        raise RuntimeError(f"lab.yaml params.profiles has no {profile!r} profile")
    return labcommon(ctx).build_model(config, ctx.seed)


def seq_len(ctx: Context, profile: str = "cpu") -> int:
    """``params.seq_len`` (an int, or a mapping per profile)."""
    value = ctx.params.get("seq_len", 64)
    return int(value.get(profile, 64) if isinstance(value, dict) else value)


def heldout_loss(model: Any, ctx: Context, seq_len: int) -> float:
    """The model's mean loss on the grader's held-out text (labcommon.eval_loss)."""
    if ctx.heldout is None:
        raise RuntimeError("the grader has no held-out file for this lab")
    lc = labcommon(ctx)
    ids = lc.encode(Path(ctx.heldout).read_text(encoding="utf-8"))
    return float(lc.eval_loss(model, ids, seq_len))


def validation_ids(ctx: Context) -> list[int]:
    """The validation split of the training corpus, as labcommon.load_corpus defines it."""
    if ctx.data_dir is None:
        raise RuntimeError("the grader has no training data for this lab")
    every = ctx.params.get("val_every", 10)
    ids: list[int] = labcommon(ctx).load_corpus(ctx.data_dir, val_every=int(every))[1]
    return ids


def pair_logps(model: Any, prompt_ids: list[int], response_ids: list[int]) -> float:
    """Σ_t log π(response_t | prompt, response_<t) under ``model`` (no gradients)."""
    import torch

    ids = torch.tensor([list(prompt_ids) + list(response_ids)], dtype=torch.long)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    logp = torch.log_softmax(logits[0, :-1], dim=-1)
    targets = ids[0, 1:]
    start = len(prompt_ids) - 1
    picked = logp[start:].gather(1, targets[start:].unsqueeze(1)).squeeze(1)
    return float(picked.sum())
