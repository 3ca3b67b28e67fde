"""The rubric's concepts bucket from the adaptive engine's mastery (BKT), not raw scores."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from graders.grade import grade_submission
from graders.rubric import mastery_evidence

LAB = Path(__file__).parent / "fixtures" / "grading_lab"


def test_mastered_concepts_earn_their_share_others_their_p_known() -> None:
    lines = mastery_evidence({"a": {"p_known": 0.97, "state": "mastered"},
                              "b": {"p_known": 0.4, "state": "learning"}},
                             ["a", "b", "c"], max_points=9.0)
    assert [(c.id, c.points, c.max_points, c.status) for c in lines] == [
        ("quiz-a", 3.0, 3.0, "pass"), ("quiz-b", 1.2, 3.0, "fail"), ("quiz-c", 0.0, 3.0, "fail")]
    assert "0.40" in lines[1].message


@pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux /proc")
def test_grade_uses_engine_mastery_for_concepts(private_tmp_dir: Path) -> None:
    name = "grading_fixture_checker"  # shared with test_grading_hostile (dataclasses need it)
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, LAB / "checker.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    report = grade_submission(LAB / "solution", LAB, checks_fn=mod.run_checks,
                              concept_mastery={"training-memory": {"p_known": 0.5,
                                                                   "state": "learning"}})
    concepts = report.bucket("concepts")
    assert concepts.evidence is True
    assert concepts.fraction == pytest.approx(0.5)
    full = grade_submission(LAB / "solution", LAB, checks_fn=mod.run_checks,
                            concept_mastery={"training-memory": {"p_known": 0.99,
                                                                 "state": "mastered"}})
    assert full.bucket("concepts").fraction == 1.0
    assert report.total < full.total


@pytest.fixture
def private_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def test_cli_reads_mastery_through_the_engine(tmp_path: Path) -> None:
    import argparse

    from tutor.cli.grading import _engine_mastery
    from tutor.store import Store

    course = Path(__file__).parent / "fixtures" / "courses" / "mini" / "mini-course"
    args = argparse.Namespace(curriculum=str(course), learner="ann")
    assert _engine_mastery(args, str(tmp_path / "none.sqlite3")) is None
    db = tmp_path / "p.sqlite3"
    Store(db).close()
    got = _engine_mastery(args, str(db))
    assert got is not None and set(got) == {"peft-intuition", "lora", "qlora"}
    assert got["lora"] == {"p_known": pytest.approx(0.1), "state": "not_started"}
