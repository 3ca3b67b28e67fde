"""Free-text answers: a keyword match alone never counts for mastery; the learner self-assesses
against the model answer (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.answers.grading import grade_local
from graders.answers.schema import Question
from graders.answers.selfassess import parse_points, rubric_points, self_assess

NEGATED = [
    ("l1-peft-in-one-sentence",
     "PEFT does not freeze the weights; it trains all parameters, which costs a lot of memory"),
    ("l5-design-peft",
     "Adapt the attention and FFN layers with no rank budget, no baseline and no evaluation; "
     "memory does not matter."),
]


@pytest.fixture(scope="module")
def bank() -> dict[str, Question]:
    from tutor.curriculum import load_course

    return dict(load_course(None).questions)


@pytest.mark.parametrize(("qid", "answer"), NEGATED)
def test_negated_answers_are_not_correct(bank: dict[str, Question], qid: str, answer: str
                                         ) -> None:
    v = grade_local(bank[qid], answer)
    assert v.status == "undetermined" and v.note == "self-assess"
    assert "1." in v.feedback  # the numbered rubric points to tick


def test_no_text_answer_is_correct_by_keywords(bank: dict[str, Question]) -> None:
    for q in bank.values():
        if q.kind != "text":
            continue
        for case in q.cases:
            assert grade_local(q, case.answer).status != "correct", (q.id, case.answer)


def test_self_assessment_decides(bank: dict[str, Question]) -> None:
    q = bank["l1-peft-in-one-sentence"]  # weights 1, 1, 0.5; pass 0.6
    assert len(rubric_points(q, "en")) == 3 and len(rubric_points(q, "zh-TW")) == 3
    assert self_assess(q, [1, 2]).status == "correct"
    v = self_assess(q, [3])
    assert v.status == "partial" and v.score == pytest.approx(0.2) and v.note == "self-assessed"
    assert "1." in v.feedback and "2." in v.feedback  # the points not covered
    assert self_assess(q, []).status == "incorrect"
    assert self_assess(q, [4]).status == "invalid"
    from graders.answers.schema import Hint

    hinted = q.model_copy(update={"hints": [Hint.model_validate(
        {"text": {"en": "h", "zh-TW": "h"}, "cost": 0.2})]})
    assert self_assess(hinted, [1, 2], hints_used=1).score == pytest.approx(0.8)
    assert parse_points("1, 3", 3) == [1, 3] and parse_points("0", 3) == []
    assert parse_points("4", 3) is None and parse_points("a", 3) is None


def _answer(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> dict:  # type: ignore[type-arg]
    from tutor.cli import main

    code = main(["answer", *argv, "--db", str(db), "--json", "--lang", "en"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def test_tutor_answer_records_keywords_uncounted_then_the_self_assessment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    db = tmp_path / "p.sqlite3"
    qid, negated = NEGATED[0]
    obj = _answer(capsys, db, qid, negated)
    assert obj["status"] == "undetermined" and obj["recorded"]
    assert obj["mastery"]["peft-intuition"]["before"] == obj["mastery"]["peft-intuition"]["after"]
    assert len(obj["rubric_points"]) == 3 and obj["model_answer"]
    honest = _answer(capsys, db, qid, negated, "--covered", "0")
    assert honest["status"] == "incorrect"
    m = honest["mastery"]["peft-intuition"]
    assert m["after"] != m["before"]  # the self-assessment is the observation that counts
    bad = _answer(capsys, db, qid, negated, "--covered", "9")
    assert bad["status"] == "invalid" and not bad["recorded"]


def test_tutor_check_takes_the_self_assessment_too(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.cli import main

    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    qid, negated = NEGATED[1]
    for covered, status in ((None, "undetermined"), ("1", "partial"), ("1,2,3", "correct"),
                            ("5", "invalid")):
        extra = ["--covered", covered] if covered else []
        assert main(["check", qid, negated, *extra, "--json", "--lang", "en"]) == 0
        assert json.loads(capsys.readouterr().out)["status"] == status, covered
