"""`tutor class report` and `tutor class fit-bkt`: a synthetic class from known BKT parameters,
a real export from the engine, and hostile export files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from fixtures.engine_course.engine_helpers import COURSE_DIR

from tutor.classroom.bkt_fit import fit_class, fit_concept, to_yaml
from tutor.classroom.data import ClassData, ClassDataError, add_jsonl, load_class
from tutor.classroom.report import build_report, render, text_heatmap
from tutor.classroom.simulate import TrueBkt, simulate_class
from tutor.cli import main
from tutor.curriculum.models import BktParams


def _class(exports: list[str]) -> ClassData:
    data = ClassData()
    for i, text in enumerate(exports):
        add_jsonl(data, text, f"export{i}.jsonl")
    return data


@pytest.mark.parametrize("true", [TrueBkt(), TrueBkt(0.3, 0.2, 0.05, 0.15)])
def test_fit_recovers_generating_parameters(true: TrueBkt) -> None:
    data = _class(simulate_class(200, ["a", "b", "c"], 8, params=true, seed=3, planted=None))
    fits = fit_class(data)
    assert [f.concept for f in fits] == ["a", "b", "c"]
    for f in fits:
        assert f.skipped is None and f.learners == 200 and f.observations == 1600
        # stated tolerance (docs/classroom.md): 0.08 absolute for 200 learners × 8 observations
        assert f.p_init == pytest.approx(true.p_init, abs=0.08)
        assert f.p_transit == pytest.approx(true.p_transit, abs=0.08)
        assert f.p_slip == pytest.approx(true.p_slip, abs=0.08)
        assert f.p_guess == pytest.approx(true.p_guess, abs=0.08)


def test_fit_keeps_slip_and_guess_out_of_the_degenerate_region() -> None:
    # answers that get WORSE with practice: an unbounded fit would call "known" the wrong state
    seqs = [[1, 1, 0, 0, 0, 0]] * 50 + [[1, 0, 0, 0]] * 50
    _, _, slip, guess, _ = fit_concept(seqs)
    assert slip <= 0.3 and guess <= 0.3


def test_fit_refuses_too_little_data_and_says_why() -> None:
    data = _class(simulate_class(12, ["a"], 4, seed=1, planted=None))
    (f,) = fit_class(data)
    assert f.p_init is None and f.skipped is not None
    assert "12 learners, 48 observations" in f.skipped


def test_bkt_yaml_is_pasteable_into_concepts_yaml() -> None:
    data = _class(simulate_class(60, ["a", "b"], 5, seed=2, planted=None))
    data.learners["extra"] = data.learners.pop("learner0000")
    fits = fit_class(data, min_learners=30, min_observations=100)
    text = to_yaml(fits, threshold=0.9)
    parsed = yaml.safe_load(text)
    for concept in ("a", "b"):
        params = BktParams.model_validate(parsed[concept]["bkt"])
        assert params.threshold == 0.9 and 0 <= params.p_slip <= 0.3


def test_report_flags_the_planted_item_and_only_it() -> None:
    concepts = [f"c{i}" for i in range(16)]
    data = _class(simulate_class(200, concepts, 5, seed=5, ability_spread=0.7))
    rep = build_report(data)
    flagged = {f["item_id"]: f["flags"] for f in rep["flagged"]}
    assert "non_discriminating" in flagged["noise-item"]
    assert [i for i, f in flagged.items() if "non_discriminating" in f] == ["noise-item"]
    items = {i["item_id"]: i for i in rep["items"]}
    assert items["c3-q2"]["n"] == 200 and items["c3-q2"]["r_pb"] > 0.15
    assert 0.4 < items["noise-item"]["p"] < 0.6
    # distractor analysis: first answers with their share
    assert sum(share for _, share in items["noise-item"]["answers"]) == pytest.approx(1.0)
    assert rep["labs"]["lab-1.1"]["graded"] == 200
    assert set(rep["labs"]["lab-1.1"]["buckets"]) == {"total", "concepts", "implementation",
                                                       "analysis", "innovation"}
    assert all(r["days_ahead"] <= -1 for r in rep["behind_plan"]) and rep["behind_plan"]


def test_html_report_is_one_self_contained_file() -> None:
    data = _class(simulate_class(30, ["a", "b"], 3, seed=1))
    html = render(build_report(data), "html")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=|href=", html, re.I)
    # the only URL is the SVG namespace, which is a name, not something fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}


EVIL = ('<script>alert(1)</script>| **Total: 100** ![x](http://evil/x.png) \\u202e\\u009b')
HOSTILE = [
    '{"type": "attempt", "id": 1, "learner": "' + EVIL + '", "item_id": "q1", "concepts": ["a"], '
    '"answer": "<img src=x onerror=alert(1)>", "status": "correct", "score": 1.0}',
    '{"type": "mastery", "learner": "' + EVIL + '", "concept": "a", "p_known": 0.5}',
    '{"type": "attempt", "id": 2, "learner": "bob", "item_id": "q1", "concepts": ["a"], '
    '"status": "correct", "score": 1e400}',                   # not finite / out of range
    '{"type": "attempt", "id": "3", "learner": "bob", "item_id": "q1", "concepts": "a", '
    '"status": "correct", "score": 1}',                       # wrong types
    "[" * 5000 + "]" * 5000,                                  # deep nesting
    "not json at all",
    '{"type": "mastery", "learner": "bob", "concept": "a", "p_known": "NaN"}',
    '{"type": "attempt", "id": 4, "learner": "bob", "item_id": "q1", "concepts": ["a"], '
    '"status": "correct", "score": 1.0, "answer": "' + "x" * 300_000 + '"}',  # over-long line
]


def test_hostile_export_lines_are_skipped_and_names_escaped(tmp_path: Path) -> None:
    f = tmp_path / "hostile.jsonl"
    f.write_text("\n".join(HOSTILE) + "\n", encoding="utf-8")
    data = load_class([f])
    assert data.skipped_lines == 6
    assert sum(len(lr.attempts) for lr in data.learners.values()) == 1
    assert data.learners["bob"].mastery == {}
    rep = build_report(data)
    html = render(rep, "html")
    assert "<script>" not in html and "<img" not in html and "\u202e" not in html
    assert "&lt;script&gt;" in html
    md = render(rep, "md")
    assert "**Total" not in md and "![x]" not in md and "\u009b" not in md
    json.loads(render(rep, "json"))


def test_same_name_in_two_files_is_two_learners(tmp_path: Path) -> None:
    a, b = simulate_class(2, ["a"], 2, seed=1, planted=None)
    (tmp_path / "1.jsonl").write_text(a, encoding="utf-8")
    (tmp_path / "2.jsonl").write_text(a.replace("learner0000", "x") + b.replace(
        "learner0001", "learner0000"), encoding="utf-8")
    data = load_class([tmp_path])
    assert sorted(data.learners) == ["learner0000", "learner0000#2", "x"]


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "empty.jsonl"
    f.write_text("garbage\n", encoding="utf-8")
    with pytest.raises(ClassDataError, match="no learner could be read"):
        load_class([f])


def test_terminal_heat_map_has_a_row_per_concept() -> None:
    rep = build_report(_class(simulate_class(100, ["a", "b", "c"], 4, seed=1)))
    lines = text_heatmap(rep, width=20).splitlines()
    assert len(lines) == 4 and all(len(line.split("│")[1]) == 20 for line in lines[1:])


# -- through the command line, from real engine exports ---------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--curriculum", str(COURSE_DIR), "--lang", "en"])
    out, err = capsys.readouterr()
    return code, out, err


def test_class_report_from_real_exports(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    db = tmp_path / "class.sqlite3"
    for learner, answer in (("alice", "a"), ("bob", "b")):
        code, _, err = _cli(capsys, "answer", "q-basics-1", answer, "--learner", learner,
                            "--db", str(db))
        assert code == 0, err
        code, _, err = _cli(capsys, "export", "--format", "jsonl", "--learner", learner,
                            "--db", str(db), "--out", str(tmp_path / f"{learner}.jsonl"))
        assert code == 0, err
    code, out, err = _cli(capsys, "class", "report", str(tmp_path / "alice.jsonl"),
                          str(tmp_path / "bob.jsonl"), "--format", "json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["learners"] == 2 and rep["mastery"]["basics"]["n"] == 2
    assert rep["mastery"]["basics"]["mean_p"] > 0.1
    (item,) = [i for i in rep["items"] if i["item_id"] == "q-basics-1"]
    assert item["n"] == 2 and item["p"] == 0.5
    # the instructor's own database gives the same class
    code, out, err = _cli(capsys, "class", "report", str(db), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["mastery"]["basics"] == rep["mastery"]["basics"]
    code, out, err = _cli(capsys, "class", "report", str(tmp_path / "alice.jsonl"))
    assert code == 0 and "basics" in out


def test_fit_bkt_command_writes_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for i, text in enumerate(simulate_class(40, ["basics"], 5, seed=4, planted=None)):
        (tmp_path / f"l{i}.jsonl").write_text(text, encoding="utf-8")
    out_file = tmp_path / "bkt.yaml"
    code, out, err = _cli(capsys, "class", "fit-bkt", str(tmp_path), "--out", str(out_file),
                          "--min-observations", "100")
    assert code == 0, err
    assert "1 concepts fitted, 0 skipped" in out
    assert set(yaml.safe_load(out_file.read_text(encoding="utf-8"))["basics"]["bkt"]) == {
        "p_init", "p_transit", "p_slip", "p_guess", "threshold"}


def test_class_report_without_files_exits_1(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    code, _, err = _cli(capsys, "class", "report", str(tmp_path / "nope.jsonl"))
    assert code == 1 and "no learner could be read" in err


def test_lab_checks_become_bucket_fractions_in_the_export(tmp_path: Path) -> None:
    from tutor.curriculum.loader import load_course
    from tutor.engine import Engine
    from tutor.engine.export import export_text
    from tutor.store import Store

    store = Store(tmp_path / "db.sqlite3")
    engine = Engine(load_course(COURSE_DIR), store)
    lid = engine.learner("carol").id
    store.add_grade_report(lid, "lab-1.1", 0.6, False, {"source": "cli", "checks": [
        {"id": "a", "bucket": "implementation", "points": 3.0, "max_points": 4.0},
        {"id": "b", "bucket": "implementation", "points": 0.0, "max_points": 2.0},
        {"id": "c", "bucket": "analysis", "points": 4.0, "max_points": 4.0}]})
    data = _class([export_text(engine, "carol", "jsonl")])
    store.close()
    rep = build_report(data)
    buckets = rep["labs"]["lab-1.1"]["buckets"]
    assert buckets["implementation"]["mean"] == 0.5 and buckets["analysis"]["mean"] == 1.0
    assert buckets["total"]["mean"] == 0.6 and rep["labs"]["lab-1.1"]["passed"] == 0
