"""Report writers against golden files, rubric aggregation, quiz evidence, and `tutor grade`."""

from __future__ import annotations

import json
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graders.rubric import (
    CheckLine,
    Report,
    RunInfo,
    aggregate,
    concept_evidence,
    load_weights,
    render,
)

GOLDEN = Path(__file__).parent / "golden"
COURSE = Path(__file__).resolve().parents[1] / "curriculum" / "core-training-techniques"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
"""UPDATE_GOLDEN=1 pytest tests/test_grading_reports.py rewrites the golden files."""


def sample_report() -> Report:
    """A fixed report with hostile text in it (markup, pipes, control characters)."""
    checks = [
        CheckLine("artifacts", "Artifacts present", "implementation", 2, 2, "pass", "all 8 found"),
        CheckLine("heldout", "Held-out loss improves", "implementation", 0, 5, "fail",
                  "held-out loss 4.1 > base 3.9 - 1.0 | <script>alert(1)</script> `x`\x00\x1b[31m"),
        CheckLine("merged", "Merged weights", "implementation", 0, 4, "error",
                  "grader error: RuntimeError"),
        CheckLine("analysis-why-b-zero", "Why is B zero?", "analysis", 0, 5, "not_graded",
                  "free-form answer: graded by a person"),
        CheckLine("analysis-l3", "l3-lora-efficiency-proof", "analysis", 10, 10, "pass",
                  "correct: r/k + r/d"),
        CheckLine("design-challenge", "Fit 13B on 24 GB", "innovation", 7, 10, "fail",
                  "estimated 8.52 GB per GPU: fits; your own estimate is missing"),
    ]
    total, buckets = aggregate(checks, {"concepts": 40, "implementation": 30, "analysis": 20,
                                        "innovation": 10}, {"concepts": "no learner database given"})
    return Report(
        lab_id="lab-1.1", submission="student-<01>&", status="graded", total=total,
        buckets=buckets, checks=checks,
        run=RunInfo(returncode=0, wall_s=0.0, max_rss_kb=204800, isolation="namespaces+uid",
                    notes=["hidden /x: ok"], stdout_tail='{"event": "done"}\n'),
        messages=["the run failed with exit code 1: ValueError: <bad>"], seed=7,
        execution_time=0.0, grader_version="0.1.0")


@pytest.mark.parametrize(("fmt", "name"), [
    ("json", "report.json"), ("gradescope", "report.gradescope.json"),
    ("junit", "report.junit.xml"), ("md", "report.md")])
def test_writer_matches_golden(fmt: str, name: str) -> None:
    text = render(sample_report(), fmt)
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_aggregation_renormalises_over_evidence() -> None:
    r = sample_report()
    # implementation 2/11 of 30, analysis 10/10 of 20, innovation 7/10 of 10; concepts excluded
    expected = (30 * 2 / 11 + 20 * 1 + 10 * 0.7) / 60 * 100
    assert r.total == pytest.approx(round(expected, 2))
    assert r.bucket("concepts").evidence is False
    assert r.bucket("analysis").max_points == 10  # the not-graded question is left out


def test_formats_are_well_formed() -> None:
    r = sample_report()
    gs = json.loads(render(r, "gradescope"))
    assert gs["score"] == r.total
    assert {t["status"] for t in gs["tests"]} == {"passed", "failed"}
    assert all(t["tags"] and t["visibility"] == "visible" for t in gs["tests"])
    root = ET.fromstring(render(r, "junit").encode())
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("errors") == "1"
    assert suite.get("skipped") == "1"
    md = render(r, "md")
    assert "<script>" not in md and "\\|" in md
    assert json.loads(render(r, "json"))["buckets"][1]["fraction"] == pytest.approx(2 / 11)


def test_weights_from_course_yaml() -> None:
    w = load_weights(COURSE / "course.yaml")
    assert w == {"concepts": 40, "implementation": 30, "analysis": 20, "innovation": 10}
    with pytest.raises(ValueError):
        load_weights(COURSE / "missing.yaml")


def _db(path: Path, schema: bool = True) -> None:
    con = sqlite3.connect(path)
    if schema:
        con.execute("CREATE TABLE learners (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("CREATE TABLE attempts (id INTEGER PRIMARY KEY, learner_id INTEGER, "
                    "concepts TEXT, score REAL)")
        con.execute("INSERT INTO learners VALUES (1, 'ada')")
        for i, (c, s) in enumerate([("lora", 1.0), ("lora", 0.5), ("qlora", 1.0),
                                    ("lora", "x"), ("bad", 1.0)]):
            con.execute("INSERT INTO attempts VALUES (?, 1, ?, ?)",
                        (i + 1, json.dumps([c]) if c != "bad" else "{not json", s))
    else:
        con.execute("CREATE TABLE other (x)")
    con.commit()
    con.close()


def test_concept_evidence_read_only(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite3"
    _db(db)
    before = db.read_bytes()
    lines, why = concept_evidence(db, ["lora", "qlora", "dpo"], "ada", max_points=30)
    assert why is None
    by = {c.id: c for c in lines}
    assert by["quiz-lora"].points == pytest.approx(10 * 0.75)
    assert by["quiz-qlora"].status == "pass"
    assert by["quiz-dpo"].points == 0
    assert db.read_bytes() == before
    assert concept_evidence(db, ["lora"], "nobody")[1]
    other = tmp_path / "o.sqlite3"
    _db(other, schema=False)
    assert "schema" in (concept_evidence(other, ["lora"], None)[1] or "")
    assert concept_evidence(tmp_path / "none.sqlite3", ["lora"], None)[1]


def test_json_survives_odd_details() -> None:
    r = sample_report()
    r.checks[0].details = {"loss": float("nan"), "inf": float("inf"), "obj": object(), 3: (1, 2)}
    d = json.loads(render(r, "json"))
    assert d["checks"][0]["details"]["loss"] == "nan"
    assert d["checks"][0]["details"]["3"] == [1, 2]


def test_markdown_in_zh_tw() -> None:
    r = sample_report()
    r.lang = "zh-TW"
    text = render(r, "md")
    path = GOLDEN / "report.zh-TW.md"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert "總分" in text


def test_design_title_is_the_prompts_first_sentence() -> None:
    from graders.grade import _first_sentence

    assert _first_sentence("Fine-tune a 13B model on one 24 GB GPU. Choose the method.") == \
        "Fine-tune a 13B model on one 24 GB GPU."
    assert _first_sentence("在單張 24 GB GPU 上微調 13B 參數的模型。選擇方法") == \
        "在單張 24 GB GPU 上微調 13B 參數的模型。"
    assert _first_sentence("Keep 1.5 GB free. Then") == "Keep 1.5 GB free."
    long = _first_sentence("word " * 40)
    assert len(long) <= 81 and long.endswith("…")
