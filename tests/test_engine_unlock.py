"""Unlocking: hard prerequisites, external prerequisites (placement / skip), the level gate,
labs, practice mode and soft-prerequisite warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.engine_course.engine_helpers import CORRECT, T0, make_engine, master

from tutor.engine import EngineError


def test_external_prerequisite_locks_until_skip(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    assert e.ready_concepts("a") == []
    (reason,) = e.lock_reasons("a", "basics")
    assert reason.kind == "external" and reason.ids == ("ext-math",)
    assert "ext-math" in e.describe_lock([reason])
    e.skip_external("a", "ext-math")
    assert e.ready_concepts("a") == ["basics"]
    assert e.state("a").externals_met == {"ext-math": "skip"}


def test_placement_pass_and_fail(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    assert e.placement_questions("ext-math") == ["place-math-1", "place-math-2"]
    assert e.record_placement("a", "ext-math", correct=0, total=2) is False
    assert "basics" not in e.ready_concepts("a")
    assert e.record_placement("a", "ext-math", correct=2, total=2) is True
    assert "basics" in e.ready_concepts("a")
    # a later failed placement takes it back (the latest result counts)
    e.record_placement("a", "ext-math", correct=0, total=2)
    assert "basics" not in e.ready_concepts("a")


def test_unknown_or_soft_external_is_refused(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    with pytest.raises(EngineError):
        e.skip_external("a", "nope")
    with pytest.raises(EngineError):  # soft externals are never required
        e.skip_external("a", "ext-soft")


def test_hard_concept_prerequisites(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    assert not e.is_unlocked("a", "peft-idea")
    (reason,) = e.lock_reasons("a", "peft-idea")
    assert reason.kind == "prerequisite" and reason.ids == ("basics",)
    master(e, "a", "basics")
    assert e.ready_concepts("a") == ["peft-idea", "align-idea", "memory"]


def test_level_gate_requires_whole_previous_level_of_topic(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    for c in ("basics", "peft-idea", "adapters"):
        master(e, "a", c)
    # adapter-math (L3 peft) requires only adapters, but L2 peft also has bitfit
    assert not e.is_unlocked("a", "adapter-math")
    (reason,) = e.lock_reasons("a", "adapter-math")
    assert reason.kind == "level" and reason.ids == ("bitfit",)
    assert reason.level == 2 and reason.topic == "peft"
    r = None
    for i in (1, 2, 3):
        r = e.record_attempt("a", f"q-bitfit-{i}", "a", CORRECT, now=T0)
    assert r is not None and "adapter-math" in r.newly_unlocked
    assert e.is_unlocked("a", "adapter-math")


def test_level_gate_skips_empty_levels_of_a_topic(tmp_path: Path) -> None:
    # selection is L3 foundations; foundations has no L2 concept, so L1 (basics) is the gate
    e = make_engine(tmp_path)
    idx = e.index
    assert idx.gate["selection"] == ("foundations", 1)
    assert idx.gate["basics"] is None and idx.gate["memory"] is None
    e.skip_external("a", "ext-math")
    master(e, "a", "basics")
    master(e, "a", "memory")
    assert e.is_unlocked("a", "selection")


def test_lab_unlocks_when_its_concepts_are_mastered(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    status = e.lab_status("a")["lab-1.1"]
    assert status.unlocked is False and "adapters" in status.reason
    master(e, "a", "basics")
    master(e, "a", "peft-idea")
    r = None
    for i in (1, 2, 3):
        r = e.record_attempt("a", f"q-adapters-{i}", "a", CORRECT, now=T0)
    assert r is not None and r.newly_unlocked_labs == ["lab-1.1"]
    unlocked, _reason, passed = e.lab_status("a")["lab-1.1"]
    assert unlocked and not passed
    e.store.add_grade_report(e.learner("a").id, "lab-1.1", 0.9, True, {"checks": []})
    assert e.lab_status("a")["lab-1.1"].passed


def test_practice_mode_records_locked_concepts_with_a_warning(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    r = e.record_attempt("a", "q-adapters-1", "a", CORRECT, now=T0)
    assert r.recorded and r.practice_mode
    assert any("practice mode" in w and "adapters" in w for w in r.warnings)
    assert r.mastery_after["adapters"] == pytest.approx(0.55)


def test_soft_prerequisites_only_warn(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    master(e, "a", "basics")
    assert e.is_unlocked("a", "memory")
    (w,) = e.soft_warnings("a", "memory")
    assert "ext-soft" in w
    r = e.record_attempt("a", "q-memory-1", "a", CORRECT, now=T0)
    assert not r.practice_mode and any("ext-soft" in x for x in r.warnings)


def test_mastered_stays_unlocked_after_a_failed_review(tmp_path: Path) -> None:
    from fixtures.engine_course.engine_helpers import INCORRECT

    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    master(e, "a", "basics")
    e.record_attempt("a", "q-basics-1", "b", INCORRECT, now=T0)
    assert e.mastery("a")["basics"].state == "needs_review"
    assert e.is_unlocked("a", "peft-idea")


def test_incremental_readiness_matches_a_full_recompute(tmp_path: Path) -> None:
    import random
    from datetime import timedelta

    from fixtures.engine_course.engine_helpers import INCORRECT

    rng = random.Random(7)
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    qids = [q for q in e.course.questions if not q.startswith("place-")]
    for k in range(120):
        q = rng.choice(qids)
        verdict = CORRECT if rng.random() < 0.8 else INCORRECT
        e.record_attempt("a", q, "a", verdict, now=T0 + timedelta(minutes=k))
        if k % 10 == 0:
            fresh = make_engine(tmp_path)
            assert e.ready_concepts("a", include_mastered=True) == fresh.ready_concepts(
                "a", include_mastered=True)
    assert len(e.ready_concepts("a", include_mastered=True)) > 3


def test_unmasterable_concepts_are_reported(tmp_path: Path) -> None:
    from tutor.engine.index import unmasterable_concepts

    e = make_engine(tmp_path)
    assert unmasterable_concepts(e.course) == {}
    course = e.course.model_copy(deep=True)
    del course.questions["q-memory-3"]
    (n, p), = [unmasterable_concepts(course)["memory"]]
    assert n == 2 and p == pytest.approx(0.925)
