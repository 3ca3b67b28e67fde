"""Every shipped question's cases pass through the grader (the question tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graders.answers.schema import Question
from graders.answers.selftest import run_cases

QDIR = Path(__file__).resolve().parents[1] / "curriculum" / "core-training-techniques" / "questions"


def _questions() -> list[Question]:
    out: list[Question] = []
    for path in sorted(QDIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out.extend(Question.model_validate(raw) for raw in data.get("questions", []))
    return out


QUESTIONS = _questions()


def test_the_bank_is_not_empty_and_ids_are_unique() -> None:
    assert QUESTIONS
    ids = [q.id for q in QUESTIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_question_cases(question: Question) -> None:
    failures = run_cases(question)
    assert not failures, "\n".join(f.format() for f in failures)


def test_run_cases_reports_a_wrong_case() -> None:
    q = Question.model_validate({
        "id": "selftest-bad", "level": 1, "concepts": ["c"], "kind": "expression",
        "prompt": {"en": "p", "zh-TW": "p"}, "symbols": {"x": ["real"]}, "answer": "2x",
        "cases": [{"answer": "x+x", "status": "correct"}, {"answer": "3x", "status": "correct"},
                  {"answer": "x", "status": "incorrect", "note": "halved"}],
    })
    failures = run_cases(q)
    assert [f.index for f in failures] == [1, 2]
    assert "status=correct" in failures[0].expected and "incorrect" in failures[0].got
    assert "note=halved" in failures[1].expected


@pytest.mark.slow
def test_preview_agrees_with_grading_on_every_case() -> None:
    """What the preview shows is what gets graded; input it rejects is graded invalid."""
    from graders.answers.grading import grade_local, preview

    checked = 0
    for q in QUESTIONS:
        for case in q.cases:
            pv = preview(q, case.answer, seed=case.seed)
            v = grade_local(q, case.answer, seed=case.seed)
            if not pv.valid:
                assert v.status == "invalid", (q.id, case.answer)
            elif v.status != "invalid":
                # a unit answer's verdict adds the conversion: "98e9 bytes = 98 GB"
                assert v.interpreted_as == pv.interpreted_as or (
                    q.unit is not None
                    and v.interpreted_as.startswith(f"{pv.interpreted_as} = ")), (q.id, case.answer)
                checked += 1
    assert checked > 0
