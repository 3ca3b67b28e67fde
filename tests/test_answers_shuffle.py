"""Per-learner option order (issue 13): position gives nothing away, and grading reads the
letters in the order the learner saw."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from graders.answers.grading import grade_local
from graders.answers.schema import Question
from graders.answers.shuffle import for_learner, learner_options, option_order, relabelling


@pytest.fixture(scope="module")
def bank() -> dict[str, Question]:
    from tutor.curriculum import load_course

    return dict(load_course(None).questions)


def _choice(bank: dict[str, Question]) -> list[Question]:
    return [q for q in bank.values() if q.kind == "choice" and len(q.options) > 1]


@pytest.mark.parametrize("learner", ["alice", "default"])
def test_no_position_holds_more_than_40_percent_of_the_right_options(
        bank: dict[str, Question], learner: str) -> None:
    positions: Counter[int] = Counter()
    authored: Counter[int] = Counter()
    qs = _choice(bank)
    for q in qs:
        (key,) = [o.id for o in q.options if o.correct] or [str(q.answer)]
        positions[option_order(q, learner).index(key)] += 1
        authored[[o.id for o in q.options].index(key)] += 1
    assert max(positions.values()) <= 0.4 * len(qs), positions
    # the measure can fail: an order that puts the key first (the bank's authored order did so
    # for 53 of 58 questions before the rewrite) breaks the bound
    key_first: Counter[int] = Counter(0 for _ in qs)
    assert max(key_first.values()) > 0.4 * len(qs)
    assert max(authored.values()) <= 0.4 * len(qs), authored  # the YAML order gives nothing away


def test_learners_see_different_orders(bank: dict[str, Question]) -> None:
    qs = [q for q in bank.values() if q.kind in ("choice", "multi", "ordering")]
    differ = sum(option_order(q, "alice") != option_order(q, "bob") for q in qs)
    assert differ > 0.6 * len(qs)
    q = qs[0]  # stable: the same learner always sees the same order
    assert option_order(q, "alice") == option_order(q, "alice")


def test_every_case_grades_the_same_through_each_learners_labels(
        bank: dict[str, Question]) -> None:
    """Each option question's authored cases, typed with the letters alice sees, get the same
    verdict (status, score, note) from alice's copy of the question."""
    n = 0
    for q in bank.values():
        if q.kind not in ("choice", "multi", "ordering"):
            continue
        mine = for_learner(q, "alice")
        new = relabelling(q, "alice")
        for case in q.cases:
            if case.status == "invalid":
                continue
            want = grade_local(q, case.answer)
            tokens = [new.get(t.strip(), t.strip()) for t in case.answer.replace(">", ",")
                      .split(",") if t.strip()]
            got = grade_local(mine, ", ".join(tokens))
            assert (got.status, got.score) == (want.status, want.score), (q.id, case.answer)
            n += 1
    assert n > 80


def test_ordering_items_are_shuffled_and_graded_in_the_learners_labels(
        bank: dict[str, Question]) -> None:
    q = next(q for q in bank.values() if q.kind == "ordering")
    mine = for_learner(q, "alice")
    assert [o.id for o in mine.options] == sorted(o.id for o in q.options)
    right = [relabelling(q, "alice")[x.strip()] for x in str(q.answer).split(",")]
    assert grade_local(mine, ", ".join(right)).status == "correct"


def _tutor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    from tutor.cli import main

    code = main([*argv, "--lang", "en"])
    out = capsys.readouterr().out
    return code, out


def test_cli_questions_and_check_use_the_learners_order(
        bank: dict[str, Question], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    q = next(q for q in _choice(bank)
             if option_order(q, "alice") != option_order(q, "bob")
             and relabelling(q, "alice")[next(o.id for o in q.options if o.correct)]
             != next(o.id for o in q.options if o.correct))
    key = next(o for o in q.options if o.correct)
    orders = {}
    for learner in ("alice", "bob"):
        code, out = _tutor(capsys, "questions", q.id, "--learner", learner, "--json")
        assert code == 0
        (row,) = json.loads(out)
        assert [o["text"] for o in row["options"]] == [
            o.text.get("en") for o in for_learner(q, learner).options]
        assert all(set(o) == {"label", "text"} for o in row["options"])
        orders[learner] = [o["text"] for o in row["options"]]
        label = next(o["label"] for o in row["options"] if o["text"] == key.text.get("en"))
        code, out = _tutor(capsys, "check", q.id, label, "--learner", learner, "--json")
        assert json.loads(out)["status"] == "correct"
    assert orders["alice"] != orders["bob"]
    # without --learner, `tutor check` reads the author's letters (as the YAML cases are written)
    code, out = _tutor(capsys, "check", q.id, key.id, "--json")
    assert json.loads(out)["status"] == "correct"
    code, out = _tutor(capsys, "check", q.id, key.id, "--learner", "alice", "--json")
    assert json.loads(out)["status"] == "incorrect"


def test_learner_options_leave_other_kinds_alone(bank: dict[str, Question]) -> None:
    q = next(q for q in bank.values() if q.kind == "numeric")
    assert for_learner(q, "alice") is q and learner_options(q, "alice", "en") == []
