"""Scripted learners driven through the real ``Engine`` on an in-memory store, with a fake clock.

Two users:

* ``tutor validate`` (``retry_problems``): every concept must reach its mastery threshold after
  **two wrong first answers** followed by correct work under the engine's own rules (retry
  rounds and their spacing included). The engine, not a copy of its maths, is run: one
  single-concept course per distinct *shape* (number of questions on the concept, BKT
  parameters), so a 5,000-concept course costs a handful of short simulations.
* tests (``run_learner``): a learner who answers what ``next`` recommends, right or wrong as a
  policy says, skipping external prerequisites, jumping the clock to ``retry_at`` when told to
  reread a lesson, until a goal is met.

The simulated verdicts are plain records (status and score): the engine never grades.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.curriculum.models import BktParams, Course
    from tutor.curriculum.yamlsrc import Problem
    from tutor.engine.engine import Engine

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""The fake clock's start (a fixed moment: simulations are deterministic)."""
STEP = timedelta(minutes=2)
"""Fake time one answer takes."""
MAX_ANSWERS = 200
"""A single-concept simulation gives up after this many answers (the concept is then stuck)."""


@dataclass(frozen=True)
class SimVerdict:
    """The part of a grader verdict the engine reads."""

    status: str
    """``correct`` or ``incorrect``."""
    score: float
    """1.0 or 0.0."""
    note: str | None = None
    """Answer note (none)."""


RIGHT = SimVerdict("correct", 1.0)
WRONG = SimVerdict("incorrect", 0.0)


@dataclass
class SimResult:
    """How a scripted learner fared."""

    answers: int = 0
    """Answers recorded."""
    wrong: int = 0
    """Of which wrong."""
    first_tries: int = 0
    """Answers that were the learner's first attempt at the question."""
    reached: bool = False
    """Whether the goal was met."""
    last_kind: str = ""
    """Kind of the last recommendation (``done`` when the engine had nothing left)."""
    trace: list[tuple[str, str | None]] = field(default_factory=list)
    """(kind, id) of every recommendation followed."""


def run_learner(
    engine: Engine,
    learner: str,
    wrong: Callable[[str, bool], bool],
    goal: Callable[[Engine], bool],
    *,
    max_answers: int = 1000,
    start: datetime = START,
) -> SimResult:
    """Follow ``engine.next_item`` until ``goal(engine)`` holds.

    ``wrong(question_id, first)`` says whether the learner answers this question wrongly
    (``first``: the learner's first attempt at it). A recommended lab is recorded as passed;
    a placement is skipped; a lesson with ``retry_at`` moves the clock there (the learner
    rereads it meanwhile); a lesson without one, or ``done``, ends the run.
    """
    now = start
    engine.set_start_date(learner, start.date())
    res = SimResult()
    tried: set[str] = set()
    while not goal(engine):
        if res.answers >= max_answers:
            return res
        rec = engine.next_item(learner, now=now)
        res.trace.append((rec.kind, rec.id))
        res.last_kind = rec.kind
        if rec.kind in ("question", "review") and rec.id is not None:
            first = rec.id not in tried
            bad = wrong(rec.id, first)
            tried.add(rec.id)
            res.first_tries += first
            engine.record_attempt(learner, rec.id, "scripted", WRONG if bad else RIGHT, now=now)
            res.answers += 1
            res.wrong += bad
            now += STEP
        elif rec.kind == "lab" and rec.id is not None:
            engine.store.add_grade_report(engine.learner(learner).id, rec.id, 1.0, True, {})
        elif rec.kind == "placement" and rec.id is not None:
            engine.skip_external(learner, rec.id)
        elif rec.kind == "lesson" and rec.retry_at is not None:
            now = max(now, rec.retry_at)
        else:
            return res
    res.reached = True
    return res


def concept_reaches_mastery(course: Course, n_questions: int, params: BktParams) -> int | None:
    """Simulate one concept with ``n_questions`` questions and BKT ``params``: two wrong first
    answers, then correct work under the engine's rules. Returns the number of answers it took
    to master the concept, or None when it never gets there."""
    from tutor.engine.engine import Engine
    from tutor.store import Store

    concept = next(iter(course.concepts.values())).model_copy(
        update={"id": "sim", "requires": [], "recommends": [], "bkt": params, "level": 1}
    )
    template = next(iter(course.questions.values()))
    questions = {
        f"q{i}": template.model_copy(update={"id": f"q{i}", "concepts": ["sim"], "level": 1})
        for i in range(n_questions)
    }
    sim_course = course.model_copy(update={
        "concepts": {"sim": concept}, "questions": questions, "days": [], "labs": {},
        "meta": course.meta.model_copy(update={"externals": []}),
    })
    store = Store(":memory:")
    try:
        engine = Engine(sim_course, store, lang="en")
        misses = 2

        def wrong(_q: str, first: bool) -> bool:
            nonlocal misses
            if first and misses:
                misses -= 1
                return True
            return False

        res = run_learner(
            engine, "sim", wrong, lambda e: "sim" in e.state("sim").ever_mastered,
            max_answers=MAX_ANSWERS,
        )
        return res.answers if res.reached else None
    finally:
        store.close()


def retry_problems(course: Course, concept_pos: Callable[[str], tuple[str, int, int]]
                   ) -> list[Problem]:
    """An error per concept that cannot be mastered after two wrong first answers followed by
    correct work (``concept_pos(id)`` gives its file, line and column).

    Each distinct (number of questions, BKT parameters) shape is simulated once.
    """
    from tutor.curriculum.yamlsrc import Problem

    if not course.questions or not course.concepts:
        return []
    counts: dict[str, int] = {}
    for q in course.questions.values():
        for c in set(q.concepts):
            counts[c] = counts.get(c, 0) + 1
    verdicts: dict[tuple[int, tuple[float, ...]], int | None] = {}
    out: list[Problem] = []
    for cid in course.concepts:
        params = course.bkt_for(cid)
        n = counts.get(cid, 0)
        if n == 0:  # no question at all: another check reports it
            continue
        key = (n, (params.p_init, params.p_transit, params.p_slip, params.p_guess,
                   params.threshold))
        if key not in verdicts:
            verdicts[key] = concept_reaches_mastery(course, n, params)
        if verdicts[key] is None:
            file, line, col = concept_pos(cid)
            out.append(Problem(
                file, line, col,
                f"concept '{cid}' cannot reach its mastery threshold {params.threshold} after "
                f"two wrong first answers followed by correct work ({n} question(s), "
                f"{MAX_ANSWERS} answers simulated): add questions or raise its bkt p_transit",
            ))
    return out


def course_retry_problems(course: Course) -> list[Problem]:
    """``retry_problems`` with each concept's concepts.yaml position (for ``tutor validate``);
    the YAML is only re-read for positions when a concept fails."""
    from pathlib import Path

    from tutor.curriculum.yamlsrc import SourceDoc, load_yaml

    docs: dict[str, SourceDoc | None] = {}

    def pos(cid: str) -> tuple[str, int, int]:
        file, path = course.concepts[cid]._src or ("concepts.yaml", ())
        if file not in docs:
            docs[file] = load_yaml(Path(file), file)[0]
        doc = docs[file]
        line, col = doc.pos(path) if doc is not None else (1, 1)
        return file, line, col

    return retry_problems(course, pos)
