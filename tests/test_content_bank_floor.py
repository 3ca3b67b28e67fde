"""Every concept of the shipped course has at least 5 questions (issue 13).

With the default BKT parameters (0.1/0.1/0.1/0.1, threshold 0.95) three correct first answers
reach mastery only if none was wrong; a concept needs fresh questions after a mistake, so the
shipped bank keeps a floor of 5 per concept (the engine's own mastery rules are tested by the
engine's tests; this keeps the content side of the promise).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

COURSE = Path(__file__).resolve().parents[1] / "curriculum" / "core-training-techniques"
FLOOR = 5


def questions_per_concept(concept_ids: list[str], question_concepts: list[list[str]]) -> Counter[str]:
    """How many questions exercise each concept (a question may exercise several)."""
    counts: Counter[str] = Counter({c: 0 for c in concept_ids})
    for concepts in question_concepts:
        counts.update(c for c in concepts if c in counts)
    return counts


def _shipped() -> tuple[list[str], list[list[str]]]:
    concepts = yaml.safe_load((COURSE / "concepts.yaml").read_text(encoding="utf-8"))["concepts"]
    qs: list[list[str]] = []
    for path in sorted((COURSE / "questions").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        qs.extend(list(q["concepts"]) for q in data.get("questions", []))
    return [c["id"] for c in concepts], qs


def test_every_shipped_concept_has_the_floor() -> None:
    counts = questions_per_concept(*_shipped())
    short = {c: n for c, n in counts.items() if n < FLOOR}
    assert not short, f"concepts with fewer than {FLOOR} questions: {short}"


def test_the_count_can_fail() -> None:
    counts = questions_per_concept(["a", "b"], [["a"], ["a", "b"], ["x"]])
    assert counts == Counter({"a": 2, "b": 1})
    assert [c for c, n in counts.items() if n < FLOOR] == ["a", "b"]
