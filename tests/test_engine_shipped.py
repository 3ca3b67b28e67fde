"""The scripted learner on the shipped course: every Level-1 question answered correctly
through `tutor answer` makes the Level-2 concepts ready and `tutor next` move on to Level 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.cli import main


@pytest.fixture
def course():  # type: ignore[no-untyped-def]
    from tutor.curriculum import CourseError, load_course

    try:
        return load_course(None)
    except CourseError as exc:  # the course is still being written
        pytest.skip(f"the shipped course does not load yet ({exc})")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    code = main([*argv, "--json", "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_scripted_learner_level_1_to_level_2(
    course, capsys: pytest.CaptureFixture[str], tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    db = str(tmp_path / "shipped.sqlite3")
    for ext in [e.id for e in course.meta.externals
                if e.relation == "prerequisite" and e.strength == "hard"]:
        _json(capsys, "placement", "--skip", ext, "--db", db)
    level1 = [q for q in course.questions.values()
              if q.level == 1 and any(c in course.concepts for c in q.concepts)]
    assert level1
    from graders.answers.selfassess import rubric_points
    from graders.answers.shuffle import relabelling

    for q in level1:
        if q.kind == "text":  # self-assessed: every rubric point covered
            points = ",".join(str(i) for i in range(1, len(rubric_points(q)) + 1))
            argv = ["answer", q.id, q.cases[0].answer, "--covered", points, "--db", db]
        else:
            case = next(c for c in q.cases if c.status == "correct")
            answer = case.answer
            if q.options:  # the letters as the default learner sees the options
                new = relabelling(q, "default")
                answer = ", ".join(new[t.strip()] for t in answer.replace(">", ",").split(",")
                                   if t.strip())
            argv = ["answer", q.id, answer, "--db", db]
            if case.seed is not None:
                argv += ["--seed", str(case.seed)]
        obj = _json(capsys, *argv)
        assert obj["status"] == "correct", (q.id, obj)
        assert obj["recorded"] is True
    progress = _json(capsys, "progress", "--db", db)
    l1 = [c for c, m in course.concepts.items() if m.level == 1]
    assert {c: progress["mastery"][c]["state"] for c in l1} == dict.fromkeys(l1, "mastered")
    # Level-2 concepts whose hard prerequisites are all Level-1 concepts or met externals
    entry = [c for c, m in course.concepts.items() if m.level == 2
             and all(r in l1 or r in course.externals for r in m.requires)]
    assert entry
    assert {c: progress["mastery"][c]["unlocked"] for c in entry} == dict.fromkeys(entry, True)
    nxt = _json(capsys, "next", "--db", db)
    assert nxt["kind"] in ("question", "lesson")
    assert course.concepts[nxt["concept"]].level == 2
    assert nxt["reason"]


def test_every_shipped_concept_can_be_mastered(course) -> None:  # type: ignore[no-untyped-def]
    """Every concept can be mastered by answering each of its questions right once (3 with the
    default parameters); after mistakes, retry rounds do the rest (tests/test_engine_retry.py)."""
    from tutor.engine.index import unmasterable_concepts

    thin = {c: f"{n} question(s), best P(known) {p:.3f}"
            for c, (n, p) in unmasterable_concepts(course).items()}
    assert thin == {}
