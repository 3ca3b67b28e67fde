"""Rubric aggregation (40/30/20/10 from course.yaml) and report writers."""

from graders.rubric.formula import BUCKETS, BucketScore
from graders.rubric.report import (
    CheckLine,
    Report,
    RunInfo,
    aggregate,
    concept_evidence,
    load_weights,
    mastery_evidence,
)
from graders.rubric.writers import FORMATS, render

__all__ = [
    "BUCKETS",
    "FORMATS",
    "BucketScore",
    "CheckLine",
    "Report",
    "RunInfo",
    "aggregate",
    "concept_evidence",
    "load_weights",
    "mastery_evidence",
    "render",
]
