"""Checker of the 2-rank fixture lab (tests/fixtures/ranks_lab): every rank saw 1 + 2 + ... + N.

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
