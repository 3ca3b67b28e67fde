"""A learner's rubric from the engine and the store, through graders.rubric.formula.

`tutor progress` and the app's Report both call ``learner_rubric_for``, so they print the same
numbers as each other and as graders.rubric's formula on the same database.
"""

from __future__ import annotations

from typing import Any

from graders.rubric.formula import LabReport, LearnerRubric, learner_rubric


def learner_rubric_for(engine: Any, learner: str) -> LearnerRubric:
    """The learner's rubric: concepts from the engine's mastery (mean P(known), evidence once any
    answer was recorded), labs from the store's grade reports (best per lab)."""
    course = engine.course
    weights = {b.id: float(b.weight) for b in course.meta.rubric.buckets}
    mastery = engine.mastery(learner)
    mean = sum(m.p_known for m in mastery.values()) / len(mastery) if mastery else None
    fraction = mean if any(m.attempts for m in mastery.values()) else None
    rows = engine.store.grade_reports(engine.learner(learner).id)
    reports = [LabReport(lab_id=r.lab_id, score=float(r.score),
                         checks=tuple(c for c in (r.payload or {}).get("checks", [])
                                      if isinstance(c, dict)), order=i)
               for i, r in enumerate(rows)]
    return learner_rubric(weights, concept_fraction=fraction, reports=reports,
                          course_labs=list(course.labs), concept_mean=mean)
