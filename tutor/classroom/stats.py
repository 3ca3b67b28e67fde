"""Classical item statistics from first attempts, and the class-level summaries of the report.

Per question, over each learner's FIRST attempt at it (later attempts are practice, not a
measurement):
- difficulty ``p``: the mean first-attempt score (0..1; higher = easier), as in classical test
  theory (Crocker & Algina 1986, ch. 14);
- discrimination: the corrected point-biserial correlation between being right on this item
  (score >= 1) and the learner's mean first-attempt score on every OTHER item (the item is left
  out of the total so it does not correlate with itself; learners answer different subsets, so the
  rest score is a mean, not a sum);
- distractor rates: the share of each first answer (normalised text, top 6);
- mean time: seconds, where the front end measured it.
Flags (with at least ``MIN_N`` first attempts): too easy (p >= 0.9), too hard (p <= 0.2),
non-discriminating (r_pb < 0.15). The thresholds are the usual rules of thumb (Ebel 1965 for
discrimination) and are parameters of ``item_stats``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import mean, median
from typing import Any

from tutor.classroom.data import Attempt, ClassData

MIN_N = 20
"""First attempts an item needs before it is flagged or given a discrimination index."""


@dataclass
class ItemStats:
    """One question's statistics."""

    item_id: str
    """Question id."""
    n: int
    """Learners with a first attempt."""
    p: float
    """Difficulty: mean first-attempt score."""
    r_pb: float | None
    """Corrected point-biserial discrimination (None: too few attempts or no variance)."""
    mean_time_s: float | None
    """Mean seconds on the first attempt (None: not measured)."""
    answers: list[tuple[str, float]] = field(default_factory=list)
    """Most frequent first answers with their share (distractor analysis)."""
    flags: list[str] = field(default_factory=list)
    """too_easy, too_hard, non_discriminating."""
    concepts: tuple[str, ...] = ()
    """Concepts the question assesses."""


def _norm(answer: str) -> str:
    return " ".join(answer.lower().split())[:60]


def first_attempts(data: ClassData) -> dict[str, dict[str, Attempt]]:
    """item id → learner → that learner's first attempt at it."""
    out: dict[str, dict[str, Attempt]] = defaultdict(dict)
    for learner in data.learners.values():
        for a in learner.attempts:
            out[a.item_id].setdefault(learner.name, a)
    return out


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def item_stats(data: ClassData, *, min_n: int = MIN_N, easy: float = 0.9, hard: float = 0.2,
               min_r: float = 0.15) -> list[ItemStats]:
    """Statistics of every item with a first attempt, sorted by item id."""
    firsts = first_attempts(data)
    # each learner's sum and count of first-attempt scores, to leave one item out in O(1)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for per_learner in firsts.values():
        for name, a in per_learner.items():
            totals[name][0] += a.score
            totals[name][1] += 1
    out: list[ItemStats] = []
    for item_id in sorted(firsts):
        per = firsts[item_id]
        scores = [a.score for a in per.values()]
        n = len(scores)
        xs: list[float] = []
        ys: list[float] = []
        for name, a in per.items():
            s, c = totals[name]
            if c > 1:
                xs.append(1.0 if a.score >= 1.0 else 0.0)
                ys.append((s - a.score) / (c - 1))
        r = _pearson(xs, ys) if len(xs) >= min_n else None
        times = [a.duration_s for a in per.values() if a.duration_s is not None]
        counts = Counter(_norm(a.answer) for a in per.values() if a.answer)
        answers = [(text, k / n) for text, k in counts.most_common(6)]
        p = sum(scores) / n
        flags: list[str] = []
        if n >= min_n:
            if p >= easy:
                flags.append("too_easy")
            if p <= hard:
                flags.append("too_hard")
            if r is not None and r < min_r:
                flags.append("non_discriminating")
        concepts = next(iter(per.values())).concepts
        out.append(ItemStats(item_id=item_id, n=n, p=round(p, 4),
                             r_pb=None if r is None else round(r, 4),
                             mean_time_s=round(mean(times), 1) if times else None,
                             answers=answers, flags=flags, concepts=concepts))
    return out


def concept_mastery(data: ClassData) -> dict[str, dict[str, Any]]:
    """Per concept: mean P(known) over the learners with a value, share mastered, count."""
    per: dict[str, list[float]] = defaultdict(list)
    mastered: Counter[str] = Counter()
    for learner in data.learners.values():
        for c, p in learner.mastery.items():
            per[c].append(p)
            if learner.mastery_state.get(c) in ("mastered", "needs_review"):
                mastered[c] += 1
    return {c: {"mean_p": round(mean(ps), 4), "mastered": mastered[c], "n": len(ps),
                "share_mastered": round(mastered[c] / len(ps), 4)} for c, ps in per.items()}


def lab_distribution(data: ClassData) -> dict[str, dict[str, Any]]:
    """Per lab: graded learners, passed, and per rubric bucket the fractions' mean, median and a
    10-bin histogram (0-10 %, …, 90-100 %)."""
    out: dict[str, dict[str, Any]] = {}
    by_lab: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for learner in data.learners.values():
        for lab, rec in learner.labs.items():
            by_lab[lab].append(rec)
    for lab in sorted(by_lab):
        recs = by_lab[lab]
        buckets: dict[str, list[float]] = defaultdict(list)
        for rec in recs:
            buckets["total"].append(rec["score"])
            for b, f in rec["buckets"].items():
                buckets[b].append(f)
        out[lab] = {"graded": len(recs), "passed": sum(r["passed"] for r in recs),
                    "buckets": {b: {"mean": round(mean(v), 4), "median": round(median(v), 4),
                                    "histogram": _hist(v)} for b, v in buckets.items()}}
    return out


def _hist(values: list[float], bins: int = 10) -> list[int]:
    h = [0] * bins
    for v in values:
        h[min(bins - 1, max(0, int(v * bins)))] += 1
    return h


def behind_plan(data: ClassData, *, days: int = 1) -> list[dict[str, Any]]:
    """Learners at least ``days`` behind the plan, most behind first."""
    rows = [{"learner": name, **lr.pacing} for name, lr in data.learners.items()
            if lr.pacing and not lr.pacing.get("finished") and lr.pacing["days_ahead"] <= -days]
    return sorted(rows, key=lambda r: (r["days_ahead"], r["learner"]))
