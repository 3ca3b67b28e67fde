"""The one rubric formula (docs/grading.md "The rubric formula").

Every front end computes a score with these functions: `tutor grade` (one submission:
``weighted_total`` through graders.rubric.aggregate), `tutor progress` and the app's Report (a
learner across the course: ``learner_rubric``). The rule:

1. a bucket's fraction = points earned / points available over its evidence;
2. a bucket without evidence is left out, and the total is renormalised over the buckets with
   evidence: total = 100 · Σ w_b·f_b / Σ w_b (b with evidence);
3. for a learner: concepts = mean P(known) over the course's concepts (the engine's estimate),
   evidence once any answer was recorded (the prior alone is no evidence); implementation / analysis / innovation = the checks of each lab's best grade
   report (highest score, the latest on a tie) pooled by bucket; labs never checked add nothing
   (no evidence, not zeros) and ``labs_graded`` / ``labs_total`` say how much of the course that
   covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The buckets and their score live here, not in report.py, because report.py totals with
# `weighted_total`: one module owns the formula and what it reads (no import cycle).
BUCKETS: tuple[str, ...] = ("concepts", "implementation", "analysis", "innovation")


@dataclass
class BucketScore:
    """Score of one rubric bucket."""

    id: str
    """Bucket id."""
    weight: float
    """Weight in percent."""
    points: float
    """Points earned in the bucket."""
    max_points: float
    """Points available in the bucket."""
    evidence: bool
    """False = nothing to grade it on; left out of the total."""
    note: str = ""
    """Where the evidence came from, or why there is none."""

    @property
    def fraction(self) -> float:
        """Score in 0..1 (0 without evidence)."""
        return self.points / self.max_points if self.evidence and self.max_points > 0 else 0.0


def weighted_total(buckets: Sequence[BucketScore]) -> float:
    """Rule 2: 100 · Σ w·f / Σ w over the buckets with evidence (0 when none has any)."""
    denom = sum(b.weight for b in buckets if b.evidence)
    if not denom:
        return 0.0
    return round(sum(b.weight * b.fraction for b in buckets if b.evidence) / denom * 100, 2)


@dataclass(frozen=True)
class LabReport:
    """One stored grade report of a lab: its score and its check lines."""

    lab_id: str
    """The lab."""
    score: float
    """0..1, as stored."""
    checks: tuple[Mapping[str, Any], ...]
    """``{bucket, points, max_points, ...}`` per check."""
    order: int = 0
    """Recording order (a later report wins a tie)."""


def best_reports(reports: Iterable[LabReport]) -> dict[str, LabReport]:
    """Per lab, the report with the highest score (the latest on a tie)."""
    best: dict[str, LabReport] = {}
    for r in reports:
        cur = best.get(r.lab_id)
        if cur is None or (r.score, r.order) >= (cur.score, cur.order):
            best[r.lab_id] = r
    return best


@dataclass(frozen=True)
class LearnerRubric:
    """A learner's rubric across the course."""

    total: float
    """0..100 over the buckets with evidence (rule 2)."""
    buckets: tuple[BucketScore, ...]
    """Every bucket of the course's rubric, in rubric order."""
    labs_graded: int
    """Labs of the course with a grade report."""
    labs_total: int
    """Labs of the course."""
    concept_mean: float | None = None
    """Mean P(known), also before it counts as evidence (shown, not scored)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{<bucket id>: {weight, evidence, score 0..1 | None, points | None},
        "total": ..., "labs_graded": ..., "labs_total": ...}``."""
        out: dict[str, Any] = {
            b.id: {"weight": b.weight, "evidence": b.evidence,
                   "score": round(b.fraction, 4) if b.evidence else None,
                   "points": round(b.fraction * b.weight, 2) if b.evidence else None}
            for b in self.buckets}
        if "concepts" in out and self.concept_mean is not None:
            out["concepts"]["score"] = round(self.concept_mean, 4)  # shown; counted with evidence
        out.update({"total": self.total, "labs_graded": self.labs_graded,
                    "labs_total": self.labs_total})
        return out


def _number(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def learner_rubric(weights: Mapping[str, float], *, concept_fraction: float | None,
                   reports: Iterable[LabReport], course_labs: Iterable[str],
                   concept_mean: float | None = None) -> LearnerRubric:
    """Rule 3 for one learner; ``concept_fraction`` None = no concept evidence (no answer yet);
    ``concept_mean`` is the mean P(known) to show either way."""
    labs = list(course_labs)
    best = {k: v for k, v in best_reports(reports).items() if k in labs}
    buckets: list[BucketScore] = []
    for bid in BUCKETS:
        if bid not in weights:
            continue
        if bid == "concepts":
            f = concept_fraction
            buckets.append(BucketScore(id=bid, weight=float(weights[bid]),
                                       points=round(f or 0.0, 6), max_points=1.0,
                                       evidence=f is not None))
            continue
        lines = [c for r in best.values() for c in r.checks if c.get("bucket") == bid
                 and c.get("status") != "not_graded"]
        got = sum(_number(c.get("points")) for c in lines)
        avail = sum(_number(c.get("max_points")) for c in lines)
        buckets.append(BucketScore(id=bid, weight=float(weights[bid]), points=round(got, 6),
                                   max_points=round(avail, 6), evidence=avail > 0))
    return LearnerRubric(total=weighted_total(buckets), buckets=tuple(buckets),
                         labs_graded=len(best), labs_total=len(labs),
                         concept_mean=concept_fraction if concept_mean is None else concept_mean)
