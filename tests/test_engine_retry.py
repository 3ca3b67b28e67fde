"""Mastery stays reachable after mistakes: retry rounds with a spacing rule (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.engine_course.engine_helpers import CORRECT, INCORRECT, T0, make_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_an_immediate_repeat_does_not_farm_mastery(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.record_attempt("a", "q-basics-1", "b", INCORRECT, now=T0)
    p0 = e.state("a").p("basics")
    for minutes in (0, 1, 30, 59):  # each repeat restarts the hour
        res = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0 + timedelta(minutes=minutes))
        assert not res.counted
    assert e.state("a").p("basics") == p0
    res = e.record_attempt("a", "q-basics-1", "a", CORRECT,
                           now=T0 + timedelta(minutes=59, hours=1))
    assert res.counted and e.state("a").p("basics") > p0


def test_a_retry_no_longer_counts_once_mastered(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    for i in (1, 2, 3):
        e.record_attempt("a", f"q-basics-{i}", "a", CORRECT, now=T0)
    assert "basics" in e.state("a").ever_mastered
    p = e.state("a").p("basics")
    res = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0 + timedelta(hours=3))
    assert not res.counted and e.state("a").p("basics") == p


def test_rebuild_agrees_with_incremental_retries(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    steps = [("q-basics-1", INCORRECT, 0), ("q-basics-2", INCORRECT, 1), ("q-basics-3", CORRECT, 2),
             ("q-basics-1", CORRECT, 3), ("q-basics-1", CORRECT, 70), ("q-basics-2", CORRECT, 71)]
    for q, v, minutes in steps:
        e.record_attempt("a", q, "x", v, now=T0 + timedelta(minutes=minutes))
    fresh = make_engine(tmp_path)
    assert fresh.state("a").p("basics") == pytest.approx(e.state("a").p("basics"))
    assert fresh.state("a").observations["basics"] == e.state("a").observations["basics"] == 5


def test_next_never_repeats_a_lesson_without_a_way_forward(tmp_path: Path) -> None:
    from tutor.engine.simulate import run_learner

    e = make_engine(tmp_path)
    res = run_learner(e, "a", lambda _q, first: first,  # every first answer is wrong
                      lambda eng: "basics" in eng.state("a").ever_mastered, max_answers=60)
    assert res.reached
    lessons = [i for i, (kind, _) in enumerate(res.trace) if kind == "lesson"]
    assert lessons  # the learner was sent back to the lesson ...
    for i in lessons:  # ... and each time the next step was a question (the retry round)
        assert res.trace[i + 1][0] == "question"


def test_scripted_learner_with_25_percent_first_try_errors_unlocks_lab_1_1() -> None:
    """Issue 13: through the engine on the shipped course, every 4th new question wrong at the
    first try; lora and qlora mastered (Lab-1.1 unlocked) within 220 answers."""
    from tutor.curriculum import load_course
    from tutor.engine import Engine
    from tutor.engine.simulate import run_learner
    from tutor.store import Store

    course = load_course(None)
    assert course.labs["lab-1.1"].concepts == ["lora", "qlora"]
    for phase in range(4):  # which of every four new questions is the wrong one
        store = Store(":memory:")
        e = Engine(course, store, lang="en")
        n = 0

        def wrong(_q: str, first: bool, phase: int = phase) -> bool:
            nonlocal n
            if not first:
                return False
            n += 1
            return (n + phase) % 4 == 0

        res = run_learner(e, "learner", wrong,
                          lambda eng: eng.lab_status("learner")["lab-1.1"].unlocked,
                          max_answers=220)
        store.close()
        assert res.reached, (phase, res.answers, res.trace[-5:])
        assert res.wrong == res.first_tries // 4 or res.wrong == res.first_tries // 4 + 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_questions=st.integers(1, 6), mistakes=st.lists(st.booleans(), max_size=25))
def test_continued_correct_work_always_reaches_mastery(n_questions: int, mistakes: list[bool]
                                                       ) -> None:
    """For any sequence of right/wrong answers, correct work afterwards masters the concept."""
    from tutor.curriculum import load_course
    from tutor.engine.simulate import concept_reaches_mastery, run_learner

    course = load_course(None)
    params = course.bkt_for(next(iter(course.concepts)))
    assert concept_reaches_mastery(course, n_questions, params) is not None
    # the same single-concept course, driven by an arbitrary prefix of mistakes
    from tutor.engine import Engine
    from tutor.store import Store

    concept = next(iter(course.concepts.values())).model_copy(
        update={"id": "sim", "requires": [], "recommends": [], "level": 1})
    template = next(iter(course.questions.values()))
    qs = {f"q{i}": template.model_copy(update={"id": f"q{i}", "concepts": ["sim"]})
          for i in range(n_questions)}
    sim = course.model_copy(update={
        "concepts": {"sim": concept}, "questions": qs, "days": [], "labs": {},
        "meta": course.meta.model_copy(update={"externals": []})})
    store = Store(":memory:")
    script = iter(mistakes)
    res = run_learner(Engine(sim, store, lang="en"), "x", lambda _q, _f: next(script, False),
                      lambda eng: "sim" in eng.state("x").ever_mastered,
                      max_answers=len(mistakes) + 60)
    store.close()
    assert res.reached, (n_questions, mistakes, res.trace[-6:])


def test_retry_problems_flags_a_concept_that_cannot_recover(tmp_path: Path) -> None:
    from tutor.engine.simulate import retry_problems

    e = make_engine(tmp_path)
    assert retry_problems(e.course, lambda c: ("concepts.yaml", 1, 1)) == []
    course = e.course.model_copy(deep=True)
    # a guess as likely as knowing and no learning: no amount of correct work is evidence
    stuck = course.concepts["memory"].model_copy(update={"bkt": course.meta.bkt.model_copy(
        update={"p_transit": 0.0, "p_guess": 0.5, "p_slip": 0.5})})
    course.concepts["memory"] = stuck
    (problem,) = retry_problems(course, lambda c: ("concepts.yaml", 42, 5))
    assert (problem.file, problem.line, problem.col) == ("concepts.yaml", 42, 5)
    assert "'memory'" in problem.message and "two wrong first answers" in problem.message


def test_tutor_validate_fails_at_the_concept_that_cannot_recover(tmp_path: Path) -> None:
    import shutil

    from fixtures.engine_course.engine_helpers import HERE

    from tutor.cli import main

    shutil.copytree(HERE, tmp_path / "fx")
    concepts = tmp_path / "fx" / "tiny-course" / "concepts.yaml"
    lines = concepts.read_text(encoding="utf-8").splitlines()
    (n,) = [i for i, ln in enumerate(lines) if "{id: memory," in ln]
    lines[n] = lines[n].replace(
        "recommends: [ext-soft]}",
        "recommends: [ext-soft], bkt: {p_transit: 0.0, p_guess: 0.5, p_slip: 0.5}}")
    concepts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["validate", "--quick", str(concepts.parent)])
    assert rc == 1
    (line,) = [ln for ln in out.getvalue().splitlines() if "two wrong first answers" in ln]
    assert f"concepts.yaml:{n + 1}:" in line and "'memory'" in line


def test_first_due_is_the_head_of_due_reviews(tmp_path: Path) -> None:
    """`next` picks its review in one pass; it must be the head of the full ordering."""
    import random

    from fixtures.engine_course.engine_helpers import PARTIAL

    e = make_engine(tmp_path)
    rng = random.Random(3)
    qids = [q for q in e.course.questions if not q.startswith("place-")]
    for k in range(150):
        v = rng.choice([CORRECT, CORRECT, CORRECT, INCORRECT, PARTIAL])
        e.record_attempt("a", rng.choice(qids), "a", v, now=T0 + timedelta(hours=5 * k))
        if k % 10 == 0:
            state = e.state("a")
            for days in (0, 3, 30, 300):
                now = T0 + timedelta(hours=5 * k, days=days)
                full = [d.concept for d in e._due(state, now)][:1]
                assert [d.concept for d in e._first_due(state, now)] == full
    assert e.state("a").cards
