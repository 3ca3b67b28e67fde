"""One pipeline and one rubric formula: `tutor lab check` records through the engine and
`tutor progress` shows the lab passed; `tutor progress`, the app's Report and graders.rubric
give the same numbers on the same database; `tutor dev check` catches course/lab.yaml/params
disagreement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from graders.rubric import BucketScore, CheckLine, aggregate
from graders.rubric.formula import LabReport, learner_rubric, weighted_total
from tutor.cli import main

ROOT = Path(__file__).resolve().parents[1]
LAB11 = ROOT / "exercises" / "lab-1.1-peft-lora"


def _checks(passed: int) -> list[dict[str, object]]:
    """Lab-1.1-like check lines: ``passed`` of the implementation checks pass, analysis fails."""
    out: list[dict[str, object]] = []
    for i in range(4):
        ok = i < passed
        out.append({"id": f"c{i}", "bucket": "implementation", "points": 5.0 if ok else 0.0,
                    "max_points": 5.0, "status": "pass" if ok else "fail", "message": "-"})
    out.append({"id": "mem", "bucket": "analysis", "points": 0.0, "max_points": 4.0,
                "status": "fail", "message": "-"})
    return out


def test_weighted_total_is_the_rule() -> None:
    b = [BucketScore("concepts", 40, 0.5, 1, True), BucketScore("implementation", 30, 3, 3, True),
         BucketScore("analysis", 20, 0, 0, False), BucketScore("innovation", 10, 0, 0, False)]
    assert weighted_total(b) == pytest.approx(100 * (40 * 0.5 + 30 * 1.0) / 70, abs=0.01)
    assert weighted_total([BucketScore("analysis", 20, 0, 0, False)]) == 0.0
    lines = [CheckLine("a", "a", "implementation", 3, 3, "pass")]
    total, _ = aggregate(lines, {"concepts": 40, "implementation": 30})
    assert total == 100.0  # concepts has no evidence: left out, renormalised


def test_learner_rubric_best_report_and_unrun_labs() -> None:
    reports = [LabReport("lab-1.1", 0.5, tuple(_checks(2)), 0),
               LabReport("lab-1.1", 1.0, tuple(_checks(4)), 1),
               LabReport("lab-1.1", 0.25, tuple(_checks(1)), 2),  # a later, worse run
               LabReport("lab-9.9", 1.0, tuple(_checks(4)), 3)]  # not a course lab
    r = learner_rubric({"concepts": 40, "implementation": 30, "analysis": 20, "innovation": 10},
                       concept_fraction=0.5, reports=reports, course_labs=["lab-1.1", "lab-1.2"])
    by = {b.id: b for b in r.buckets}
    assert by["implementation"].fraction == 1.0  # one perfect lab: 100 %, not 50 % of two labs
    assert by["analysis"].fraction == 0.0 and by["analysis"].evidence
    assert not by["innovation"].evidence
    assert (r.labs_graded, r.labs_total) == (1, 2)
    assert r.total == pytest.approx(100 * (40 * 0.5 + 30 * 1 + 20 * 0) / 90, abs=0.01)
    assert r.to_dict()["innovation"]["score"] is None


def test_three_front_ends_agree_on_one_database(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The same learner DB read by `tutor progress`, the app's Report and graders.rubric."""
    from tutor.app.services import Services
    from tutor.curriculum import load_course
    from tutor.engine import Engine
    from tutor.store import Store

    db = tmp_path / "p.db"
    course = load_course()
    engine = Engine(course, Store(db))
    engine.record_lab_result("ann", "lab-1.1", _checks(3), passed=False, score=15 / 24)
    engine.record_lab_result("ann", "lab-1.1", _checks(4), passed=False, score=20 / 24)
    with pytest.raises(Exception, match="lab-7.7"):
        engine.record_lab_result("ann", "lab-7.7", _checks(4), passed=True, score=1.0)

    assert main(["progress", "--json", "--learner", "ann", "--db", str(db)]) == 0
    cli = json.loads(capsys.readouterr().out)["rubric"]
    svc = Services(course=course, store=Store(db), engine=Engine(course, Store(db)),
                   learner="ann")
    app_total = svc.report_total()
    app_buckets = {b.bucket_id: b.fraction for b in svc.report("en")}

    rows = Store(db).grade_reports(Engine(course, Store(db)).learner("ann").id)
    ref = learner_rubric({b.id: b.weight for b in course.meta.rubric.buckets},
                         concept_fraction=None,  # ann answered nothing: no evidence
                         reports=[LabReport(r.lab_id, r.score, tuple(r.payload["checks"]), i)
                                  for i, r in enumerate(rows)],
                         course_labs=list(course.labs))
    assert cli["total"] == app_total == ref.total
    for b in ref.buckets:
        assert cli[b.id]["evidence"] == b.evidence
        if b.id != "concepts":  # the concepts score is shown (the prior) but not counted
            assert cli[b.id]["score"] == (round(b.fraction, 4) if b.evidence else None)
        assert app_buckets[b.id] == (pytest.approx(b.fraction) if b.evidence else None)
    assert cli["concepts"]["evidence"] is False and cli["concepts"]["score"] > 0
    assert cli["implementation"]["score"] == 1.0 and cli["labs_graded"] == 1

    paths = svc.export_report("en", tmp_path / "export")  # through graders.rubric's writers
    exported = json.loads(paths[0].read_text(encoding="utf-8"))
    assert exported["total"] == ref.total
    assert "**Total" in paths[1].read_text(encoding="utf-8") or "Total" in paths[1].read_text(
        encoding="utf-8")


def test_dev_check_course_and_params_agreement(tmp_path: Path) -> None:
    from tutor.curriculum import load_course
    from tutor.labs.devcheck import dev_check

    ex = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", ex, ignore=shutil.ignore_patterns("__pycache__"))
    labs = dict(load_course().labs)
    reps = dev_check(ex, static=True, course_labs=labs)
    assert [r.problems for r in reps] == [[]], reps
    lab_yaml = ex / "lab-1.1-peft-lora" / "lab.yaml"
    raw = yaml.safe_load(lab_yaml.read_text(encoding="utf-8"))
    raw["gpu"] = "required"
    raw["requires"]["gpu"] = "required"
    raw["concepts"] = ["lora"]
    raw["params"]["r"] = 4  # train.py says LORA_R = 8
    raw["params"]["seq_len"] = {"cpu": 32, "cuda": 128}  # peft_run.py says 64
    lab_yaml.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    text = "\n".join(dev_check(ex, static=True, course_labs=labs)[0].problems)
    assert "gpu = optional" in text and "concepts" in text
    assert "LORA_R = 8 but lab.yaml params.r = 4" in text
    assert "SEQ_LEN" in text and "params.seq_len" in text
    # the course names a kit that does not exist
    labs["lab-1.2"] = labs["lab-1.2"].model_copy(update={"exercise": "lab-1.2-missing"})
    reps = dev_check(ex, static=True, course_labs=labs)
    assert any("lab-1.2-missing" in p for r in reps for p in r.problems)


@pytest.mark.serial
@pytest.mark.slow
def test_lab_check_records_and_progress_shows_passed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("peft")
    db = tmp_path / "tutor.db"
    monkeypatch.setenv("TUTOR_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("TUTOR_DB", str(db))
    assert main(["lab", "start", "lab-1.1"]) == 0
    for f in ("train.py", "lora_layer.py"):  # the learner finished the TODOs
        shutil.copyfile(LAB11 / "solution" / f, tmp_path / "ws" / "lab-1.1" / f)
    capsys.readouterr()
    assert main(["lab", "check", "lab-1.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["passed"] == out["summary"]["total"] == 9
    assert main(["progress", "--json"]) == 0
    prog = json.loads(capsys.readouterr().out)
    assert prog["labs"]["lab-1.1"]["passed"] is True
    assert prog["rubric"]["implementation"]["score"] == 1.0


def test_dev_new_scaffolds_a_lab_that_dev_check_handles(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`tutor dev new` writes a lab whose starter fails its check and whose solution passes it
    (the scaffold's checker has to live in graders/labs: it is removed afterwards)."""
    import subprocess
    import sys

    import graders.labs
    from tutor.labs.devcheck import dev_check
    from tutor.labs.scaffold import ScaffoldError, new_lab

    ex = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises" / "_common", ex / "_common")
    labs_pkg = Path(graders.labs.__file__).resolve().parent
    made = None
    try:
        (tmp_path / "tests").mkdir()
        made = new_lab("lab-9.87", "sum-demo", exercises=ex, graders_labs=labs_pkg,
                       tests=tmp_path / "tests")
        with pytest.raises(ScaffoldError, match="already exists"):
            new_lab("lab-9.87", "sum-demo", exercises=ex, graders_labs=labs_pkg,
                    tests=tmp_path / "tests")
        with pytest.raises(ScaffoldError, match="lab-1.2"):
            new_lab("lab-x", "a", exercises=ex, graders_labs=labs_pkg, tests=None)
        assert sorted(p.name for p in made.lab_dir.iterdir()) == [
            "README.md", "README.zh-TW.md", "lab.yaml", "solution", "starter"]
        rep = dev_check(ex, only=["lab-9.87"])[0]
        assert rep.problems == [], rep
        assert any("0/1" in n for n in rep.notes) and any("1/1" in n for n in rep.notes)
        assert made.test is not None
        test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(made.test)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert test.returncode == 0, test.stdout[-2000:]
    finally:
        if made is not None:
            made.checker.unlink(missing_ok=True)
            for pyc in (labs_pkg / "__pycache__").glob("lab_9_87.*"):
                pyc.unlink()
