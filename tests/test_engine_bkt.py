"""BKT updates (hand-computed) and mastery state transitions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.engine_course.engine_helpers import (
    CORRECT,
    INCORRECT,
    INVALID,
    PARTIAL,
    T0,
    UNDETERMINED,
    make_engine,
)

from tutor.curriculum.models import BktParams
from tutor.engine.bkt import bkt_update

DEFAULT = BktParams()


def test_bkt_correct_from_prior_hand_computed() -> None:
    # posterior = .1*.9 / (.1*.9 + .9*.1) = .5 ; + (1-.5)*.1 = .55
    assert bkt_update(0.1, True, DEFAULT) == pytest.approx(0.55)


def test_bkt_incorrect_from_prior_hand_computed() -> None:
    # posterior = .1*.1 / (.1*.1 + .9*.9) = .01/.82 ; + (1 - .01/.82)*.1
    post = 0.01 / 0.82
    assert bkt_update(0.1, False, DEFAULT) == pytest.approx(post + (1 - post) * 0.1)


def test_bkt_three_correct_master_with_defaults() -> None:
    p = 0.1
    seq = []
    for _ in range(3):
        p = bkt_update(p, True, DEFAULT)
        seq.append(p)
    # .55 -> .495/.54 = .916667 + .008333 = .925 -> .8325/.84 = .991071 + .000893 = .991964
    assert seq == pytest.approx([0.55, 0.925, 0.9919643], abs=1e-6)
    assert seq[1] < DEFAULT.threshold <= seq[2]


def test_bkt_uses_custom_params() -> None:
    params = BktParams(p_init=0.3, p_transit=0.2, p_slip=0.05, p_guess=0.25, threshold=0.9)
    # .3*.95 / (.285 + .7*.25) = .285/.46 ; + (1-that)*.2
    post = 0.285 / 0.46
    assert bkt_update(0.3, True, params) == pytest.approx(post + (1 - post) * 0.2)


def test_states_not_started_learning_mastered(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    assert e.mastery("a", now=T0)["basics"].state == "not_started"
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0)
    assert r.recorded and r.counted
    assert r.mastery_before == {"basics": pytest.approx(0.1)}
    assert r.mastery_after == {"basics": pytest.approx(0.55)}
    assert r.state == {"basics": "learning"}
    e.record_attempt("a", "q-basics-2", "a", CORRECT, now=T0)
    r = e.record_attempt("a", "q-basics-3", "a", CORRECT, now=T0)
    assert r.state == {"basics": "mastered"}
    assert r.newly_mastered == ["basics"]
    m = e.mastery("a", now=T0)["basics"]
    assert m.p_known == pytest.approx(0.9919643, abs=1e-6)
    assert m.attempts == 3
    assert m.due is not None and m.due > T0


def test_only_first_attempt_at_an_item_updates_bkt(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.record_attempt("a", "q-basics-1", "b", INCORRECT, now=T0)
    p1 = e.mastery("a")["basics"].p_known
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0 + timedelta(minutes=1))
    assert r.recorded and not r.counted
    assert e.mastery("a")["basics"].p_known == pytest.approx(p1)
    assert e.mastery("a")["basics"].attempts == 1


def test_hint_before_answering_counts_as_incorrect(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, hints_used=1, now=T0)
    assert r.mastery_after["basics"] == pytest.approx(bkt_update(0.1, False, DEFAULT))


def test_partial_counts_as_incorrect(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    r = e.record_attempt("a", "q-basics-1", "x", PARTIAL, now=T0)
    assert r.mastery_after["basics"] == pytest.approx(bkt_update(0.1, False, DEFAULT))


def test_invalid_is_not_recorded_and_costs_nothing(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    r = e.record_attempt("a", "q-basics-1", "???", INVALID, now=T0)
    assert not r.recorded and r.attempt_id is None
    assert e.store.count_attempts() == 0
    # the item is still fresh: the next answer is the first attempt
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0)
    assert r.counted and r.mastery_after["basics"] == pytest.approx(0.55)


def test_undetermined_is_logged_but_not_counted(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    r = e.record_attempt("a", "q-basics-1", "a", UNDETERMINED, now=T0)
    assert r.recorded and not r.counted
    assert e.store.count_attempts() == 1
    assert e.mastery("a")["basics"].state == "not_started"
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0)
    assert r.counted


def test_unknown_question_raises(tmp_path: Path) -> None:
    from tutor.engine import EngineError

    e = make_engine(tmp_path)
    with pytest.raises(EngineError, match="unknown question"):
        e.record_attempt("a", "nope", "a", CORRECT)


def test_learners_are_independent(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.record_attempt("ann", "q-basics-1", "a", CORRECT, now=T0)
    assert e.mastery("bob")["basics"].state == "not_started"
    assert e.mastery("ann")["basics"].state == "learning"
    assert {r.name for r in e.store.learners()} == {"ann", "bob"}


def test_per_concept_bkt_params_are_used(tmp_path: Path) -> None:
    from tutor.engine import Engine
    from tutor.store import Store

    e0 = make_engine(tmp_path)
    course = e0.course.model_copy(deep=True)
    course.concepts["basics"] = course.concepts["basics"].model_copy(
        update={"bkt": BktParams(p_init=0.5, p_transit=0.0)}
    )
    e = Engine(course, Store(tmp_path / "other.sqlite3"), lang="en")
    r = e.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0)
    params = BktParams(p_init=0.5, p_transit=0.0, p_slip=0.1, p_guess=0.1)
    assert r.mastery_after["basics"] == pytest.approx(bkt_update(0.5, True, params))

