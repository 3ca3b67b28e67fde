"""The real Lab-1.1 through the sandboxed grader: the solution scores full marks and the untouched
starter near zero, in every output format (trains a tiny model: serial and slow)."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from grading_helpers import grade_copy

from graders.rubric import Report, render

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.1-peft-lora"
EXTRAS = Path(__file__).parent / "fixtures" / "grading_lab" / "lab-1.1-extras"

pytestmark = [
    pytest.mark.serial,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux" or not (LAB / "lab.yaml").is_file(),
                       reason="needs Linux and exercises/lab-1.1-peft-lora"),
]


def _grade(src: Path, tmp_path: Path, extras: bool) -> Report:
    return grade_copy(src, "lab-1.1", tmp_path, extras=EXTRAS if extras else None)


def _formats(r: Report) -> dict[str, str]:
    return {fmt: render(r, fmt) for fmt in ("json", "gradescope", "junit", "md")}


def test_solution_full_marks_starter_near_zero(tmp_path: Path) -> None:
    good = _grade(LAB / "solution", tmp_path, extras=True)
    assert good.status == "graded", good.messages
    failed = [(c.id, c.message) for c in good.checks if c.status in ("fail", "error")]
    assert not failed
    assert good.total == 100
    out = _formats(good)
    assert json.loads(out["json"])["total"] == 100
    assert json.loads(out["gradescope"])["score"] == 100
    suite = ET.fromstring(out["junit"].encode()).find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "**Total: 100 / 100**" in out["md"]

    bad = _grade(LAB / "starter", tmp_path, extras=False)
    assert bad.status == "graded", bad.messages
    assert bad.total <= 10
    out = _formats(bad)
    assert json.loads(out["json"])["total"] <= 10
    assert json.loads(out["gradescope"])["score"] <= 10
    suite = ET.fromstring(out["junit"].encode()).find("testsuite")
    assert suite is not None and int(suite.get("failures") or 0) >= 5
    assert "**Total: " in out["md"]


def test_fake_metrics_without_training_on_the_real_lab(tmp_path: Path) -> None:
    """Claims a perfect run in metrics.json and prints a score, trains nothing."""
    sub = tmp_path / "src" / "fake"
    shutil.copytree(LAB / "starter", sub)
    (sub / "train.py").write_text(
        "import argparse, json, os\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--out'); p.add_argument('--data'); p.add_argument('--seed')\n"
        "p.add_argument('--heldout')\n"
        "a = p.parse_args()\n"
        "json.dump({'lora': {'trainable_params': 17408, 'val_loss_before': 6.8,\n"
        "          'val_loss_after': 0.1}, 'score': 100},\n"
        "          open(os.path.join(a.out, 'metrics.json'), 'w'))\n"
        "print(json.dumps({'event': 'done', 'score': 100}))\n", encoding="utf-8")
    r = grade_copy(sub, "lab-1.1", tmp_path, timeout=300)
    assert r.status == "graded", r.messages
    assert r.total <= 10
    by = {c.id: c for c in r.checks}
    assert by["metrics-consistent"].status == "fail"
    assert by["heldout-improves"].points == 0
