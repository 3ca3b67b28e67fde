"""Checker of the 2-rank fixture lab (tests/fixtures/ranks_lab): every rank saw 1 + 2 + ... + N,
and the learner's total() works on 2 ranks in a probe with dist.all_reduce blocked.

Shipped with the grader (a checker is a module of graders.labs) so that `tutor grade` and the lab
pipeline can be tested end to end on many ranks without the ML stack's heavy labs.
"""

from __future__ import annotations

from typing import Any

from graders.labs.kit import Context, check, fail, integer, number


@check("ranks-agree")
def ranks_agree(ctx: Context) -> dict[str, Any]:
    world = ctx.spec.ranks
    want = world * (world + 1) / 2
    for r, rank_dir in enumerate(ctx.ranks()):
        res = ctx.json(f"{rank_dir.name}/result.json")
        if not isinstance(res, dict):
            raise fail("rank {r}: result.json is not an object", "rank {r}：result.json 不是物件", r=r)
        if integer(res.get("rank"), f"rank{r}.rank") != r or integer(
                res.get("world"), f"rank{r}.world") != world:
            raise fail("rank {r}: wrong rank or world size", "rank {r}：rank 或 world size 錯誤", r=r)
        got = number(res.get("sum"), f"rank{r}.sum")
        if got != want:
            raise fail("rank {r} got sum {got:g}, expected {want:g}",
                       "rank {r} 得到總和 {got:g}，應為 {want:g}", r=r, got=got, want=want)
    return {"ranks": world, "sum": want}


@check("total-by-hand")
def total_by_hand(ctx: Context) -> dict[str, Any]:
    """The learner's total() from the probe (dist.all_reduce blocked) against the drawn sum."""
    from graders.labs.probes.selftest_ranks_total import draw

    res = ctx.probe("total")
    world = integer(res.get("world"), "world", lo=1, hi=8)
    totals = res.get("totals")
    if not isinstance(totals, list) or len(totals) != world:
        raise fail("the probe reported no total per rank", "探針沒有回報每個 rank 的總和")
    assert ctx.probe_seed is not None
    want = sum(draw(ctx.probe_seed, world))
    for r, got in enumerate(totals):
        if got is None or number(got, f"rank {r} total") != want:
            raise fail("rank {r}: total() gave {got}, expected {want:g}",
                       "rank {r}：total() 回傳 {got}，應為 {want:g}", r=r, got=got, want=want)
    return {"world": world, "sum": want}
