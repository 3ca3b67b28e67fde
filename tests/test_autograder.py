"""`tutor autograder build` (Gradescope) and `tutor autograder github` (GitHub Classroom).

The Gradescope bundle is unpacked into a temporary root that mimics /autograder
(AUTOGRADER_ROOT) and its run_autograder is run as Gradescope would, with this interpreter
(AUTOGRADER_PYTHON) standing in for the venv setup.sh builds.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from tutor.classroom.autograder import (
    BundleError,
    build_gradescope,
    classroom_result,
    github_workflow,
    unpack,
)
from tutor.cli import main

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "exercises" / "lab-1.1-peft-lora"
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "gradescope_results.schema.json")
                    .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_gradescope("lab-1.1", out)
    return out


def test_bundle_layout(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        reqs = zf.read("requirements.txt").decode()
        run = zf.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "source/pyproject.toml",
            "source/graders/labs/data/lab-1.1/heldout.txt",  # held-out data: only in the bundle
            "source/exercises/lab-1.1-peft-lora/lab.yaml"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert not [n for n in names if "/solution/" in n]  # graders never need the solutions
    assert not [n for n in names if "__pycache__" in n or "/.git/" in n]
    assert "torch==" in reqs and "sympy==" in reqs
    assert "--lab lab-1.1 " in run and "--format gradescope" in run


def test_bundle_refuses_unknown_lab_and_bad_output(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="lab-9.9"):
        build_gradescope("lab-9.9", tmp_path / "a.zip")
    with pytest.raises(BundleError, match="not a lab id"):
        build_gradescope("../../etc", tmp_path / "a.zip")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BundleError, match="cannot write"):
        build_gradescope("lab-1.1", blocker / "a.zip")


def _mimic(bundle: Path, tmp_path: Path, submission: Path | None) -> Path:
    root = tmp_path / "autograder"
    root.mkdir()
    unpack(bundle, root)
    if submission is not None:
        shutil.copytree(submission, root / "submission")
    return root


def _run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TUTOR_DB",)}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    return subprocess.run([str(root / "run_autograder")], capture_output=True, text=True,
                          env=env, timeout=900, cwd=root)


@pytest.mark.serial
@pytest.mark.slow
@pytest.mark.parametrize(("which", "expect"), [("solution", 100.0), ("starter", 10.0)])
def test_bundle_grades_in_a_mimic_root(bundle: Path, tmp_path: Path, which: str,
                                       expect: float) -> None:
    root = _mimic(bundle, tmp_path, LAB / which)
    proc = _run_autograder(root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, SCHEMA)
    if which == "solution":
        assert results["score"] == expect
    else:
        assert results["score"] <= expect
    assert results["tests"] and all(t["visibility"] == "visible" for t in results["tests"])


def test_bundle_fails_closed_without_results(bundle: Path, tmp_path: Path) -> None:
    """The grader cannot run (its held-out data is gone): no results.json, so no score."""
    root = _mimic(bundle, tmp_path, LAB / "solution")
    (root / "source" / "graders" / "labs" / "data" / "lab-1.1" / "heldout.txt").unlink()
    proc = _run_autograder(root)
    assert proc.returncode == 1
    assert not (root / "results" / "results.json").exists()
    assert "grader error" in proc.stderr and "no score" in proc.stderr


def test_unpack_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(BundleError, match="unsafe path"):
        unpack(evil, tmp_path / "root")
    assert not (tmp_path / "outside.txt").exists()


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autograder", "build", "--lab", "lab-1.1", "-o", str(tmp_path / "a.zip")]) == 0
    assert "files" in capsys.readouterr().out and (tmp_path / "a.zip").is_file()
    assert main(["autograder", "build", "--lab", "lab-7.7", "-o", str(tmp_path / "b.zip")]) == 2


# -- GitHub Classroom -----------------------------------------------------------------------


def test_github_workflow_is_valid_for_the_reporter(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "classroom.yml"
    assert main(["autograder", "github", "--lab", "lab-1.1", "--grader-repo", "uni/llm-grader",
                 "-o", str(out)]) == 0
    wf = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert wf["name"] == "Autograding Tests" and "push" in wf["on"]
    assert wf["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    (job,) = wf["jobs"].values()
    assert job["name"] == "Autograding Tests"  # the check run the reporter updates
    steps = job["steps"]
    grade = next(s for s in steps if s.get("id", "").startswith("grade-"))
    assert "tutor grade submission --lab lab-1.1" in grade["run"]
    assert "classroom-result results.json" in grade["run"]
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    assert reporter["with"]["runners"] == grade["id"]
    env_name = grade["id"].upper() + "_RESULTS"  # how the reporter finds the runner's result
    assert reporter["env"] == {env_name: "${{ steps." + grade["id"] + ".outputs.result }}"}
    assert wf["env"]["GRADER_REPOSITORY"] == "uni/llm-grader"
    assert all("uses" in s or "run" in s for s in steps)


@pytest.mark.parametrize("repo", ["uni/x\n  evil: 1", "no-slash", "a/b; rm -rf /"])
def test_github_workflow_refuses_injection(repo: str) -> None:
    with pytest.raises(BundleError):
        github_workflow("lab-1.1", grader_repo=repo)


def _gradescope(score: float | None) -> dict[str, object]:
    out: dict[str, object] = {"tests": [
        {"name": "a", "score": 4.0, "max_score": 4.0, "status": "passed"},
        {"name": "b", "score": 0.0, "max_score": 6.0, "status": "failed"},
        {"name": "c", "score": 2.0, "max_score": 2.0, "status": "passed"}]}
    if score is not None:
        out["score"] = score
    return out


def test_classroom_result_scales_checks_to_the_total(tmp_path: Path) -> None:
    res = classroom_result(_gradescope(75.0))
    assert res["max_score"] == 100 and res["status"] == "fail" and res["version"] == 1
    assert sum(t["score"] for t in res["tests"]) == pytest.approx(75.0)
    assert [t["status"] for t in res["tests"]] == ["pass", "fail", "pass"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_gradescope(75.0)), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tutor.classroom.autograder", "classroom-result",
                           str(path)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0
    key, _, value = proc.stdout.strip().partition("=")
    assert key == "result" and json.loads(base64.b64decode(value)) == res


def test_classroom_result_without_a_score_reports_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no score"):
        classroom_result(_gradescope(None))
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_gradescope(None)), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tutor.classroom.autograder", "classroom-result",
                           str(path)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1 and proc.stdout == "" and "grader error" in proc.stderr
