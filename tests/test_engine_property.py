"""Property: the incrementally maintained state always equals a rebuild from the logs, whatever
the sequence of answers, hints, placements, skips and resets (hypothesis)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from fixtures.engine_course.engine_helpers import (
    CORRECT,
    INCORRECT,
    PARTIAL,
    T0,
    UNDETERMINED,
    make_engine,
    tiny_course,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

COURSE = tiny_course()
QUESTIONS = sorted(COURSE.questions)
VERDICTS = [CORRECT, CORRECT, CORRECT, INCORRECT, PARTIAL, UNDETERMINED]
RESET_TARGETS = [None, "basics", "peft-idea", "q-basics-1", "q-peft-idea-2", "ext-math"]

answer = st.tuples(st.just("answer"), st.sampled_from(QUESTIONS), st.sampled_from(VERDICTS),
                   st.integers(0, 1), st.integers(0, 4 * 24 * 60))
skip = st.tuples(st.just("skip"))
placement = st.tuples(st.just("placement"), st.integers(0, 2))
reset = st.tuples(st.just("reset"), st.sampled_from(RESET_TARGETS))
ops = st.lists(st.one_of(answer, answer, answer, answer, skip, placement, reset), max_size=60)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops)
def test_incremental_state_equals_rebuild(seq: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        e = make_engine(Path(d))
        minutes = 0
        for op in seq:
            if op[0] == "answer":
                _, q, verdict, hints, gap = op
                minutes += int(gap)  # type: ignore[call-overload]
                e.record_attempt("a", q, "x", verdict, hints_used=hints,
                                 now=T0 + timedelta(minutes=minutes))
            elif op[0] == "skip":
                e.skip_external("a", "ext-math")
            elif op[0] == "placement":
                e.record_placement("a", "ext-math", correct=int(op[1]), total=2)  # type: ignore[call-overload]
            else:
                e.reset("a", op[1])  # type: ignore[arg-type]
        now = T0 + timedelta(minutes=minutes + 1)
        live = e.mastery("a", now=now)
        live_ready = e.ready_concepts("a", include_mastered=True)
        live_next = e.next_item("a", now=now, today=now.date())
        fresh = make_engine(Path(d))
        assert fresh.mastery("a", now=now) == live
        assert fresh.ready_concepts("a", include_mastered=True) == live_ready
        assert fresh.next_item("a", now=now, today=now.date()) == live_next
        assert e.store.integrity_check() == "ok"
