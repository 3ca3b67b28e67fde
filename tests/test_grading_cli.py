"""`tutor grade` on the fake lab: formats, batch gradebook, exit codes."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import graders.grade
from tutor.cli import main

LAB = Path(__file__).parent / "fixtures" / "grading_lab"
SOLUTION = LAB / "solution"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux /proc")


@pytest.fixture(autouse=True)
def fixture_checker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    name = "grading_fixture_checker"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, LAB / "checker.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    checks = sys.modules[name].run_checks
    monkeypatch.setattr(graders.grade, "_default_checks", lambda: checks)
    root = Path(tempfile.mkdtemp(prefix="tutor-grading-cli-"))  # not under pytest's 0700 dir
    os.chmod(root, 0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield
    shutil.rmtree(root, ignore_errors=True)


def test_single_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(SOLUTION), "--lab", str(LAB)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == 100 and report["status"] == "graded"


@pytest.mark.parametrize("fmt", ["gradescope", "junit", "md"])
def test_single_formats_to_file(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"r.{fmt}"
    assert main(["grade", str(LAB / "starter"), "--lab", str(LAB), "--format", fmt,
                 "--out", str(out), "--seed", "3", "--timeout", "20"]) == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "gradescope":
        assert json.loads(text)["score"] == 0
    elif fmt == "junit":
        assert ET.fromstring(text.encode()).find("testsuite") is not None
    else:
        assert "**Total: 0 / 100**" in text


def test_batch_gradebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "batch"
    for name, src in [("=cmd|calc", SOLUTION), ("bob", LAB / "starter")]:
        shutil.copytree(src, batch / name)
    out = tmp_path / "gb.csv"
    assert main(["grade", "--batch", str(batch), "--lab", str(LAB), "--jobs", "2",
                 "--out", str(out), "--format", "junit"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["submission"] for r in rows] == ["'=cmd|calc", "bob"]  # no spreadsheet formula
    assert rows[0]["total"] == "100" and rows[1]["total"] == "0"
    assert rows[1]["implementation"] == "0.0" and rows[1]["concepts"] == ""
    assert sorted(p.name for p in (tmp_path / "gb-reports").iterdir()) == [
        "=cmd|calc.xml", "bob.xml"]
    assert "gradebook written" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["grade", "SOL", "--lab", "lab-0.0"],
    ["grade", "--lab", "LAB"],
    ["grade", "SOL", "--batch", "SOL", "--lab", "LAB"],
    ["grade", "/nonexistent/dir", "--lab", "LAB"],
    ["grade", "SOL", "--lab", "LAB", "--jobs", "0"],
    ["grade", "SOL", "--lab", "LAB", "--timeout", "-1"],
    ["grade", "--batch", "SOL", "--lab", "LAB"],
])
def test_bad_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(SOLUTION) if a == "SOL" else str(LAB) if a == "LAB" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_grader_failure_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_: Any, **__: Any) -> list[Any]:
        raise RuntimeError("checker bug")

    monkeypatch.setattr(graders.grade, "_default_checks", lambda: broken)
    out = tmp_path / "r.json"
    assert main(["grade", str(SOLUTION), "--lab", str(LAB), "--out", str(out)]) == 1
    assert json.loads(out.read_text())["status"] == "grader_error"


def test_zh_tw_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--lang", "zh-TW", "--lab", str(LAB)]) == 2
    assert "錯誤" in capsys.readouterr().err


def test_report_in_zh_tw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    assert main(["grade", str(sub), "--lab", str(LAB), "--format", "md", "--lang", "zh-TW"]) == 0
    out = capsys.readouterr().out
    assert "總分" in out and "提交中沒有 train.py" in out and "未提供學習者資料庫" in out


def test_learner_mastery_fills_concepts(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    db = tmp_path / "progress.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE learners (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE attempts (id INTEGER PRIMARY KEY, learner_id INTEGER, "
                "concepts TEXT, score REAL)")
    con.execute("INSERT INTO learners VALUES (1, 'ada')")
    con.execute("INSERT INTO attempts VALUES (1, 1, '[\"training-memory\"]', 0.5)")
    con.commit()
    con.close()
    monkeypatch.setenv("TUTOR_DB", str(db))
    assert main(["grade", str(SOLUTION), "--lab", str(LAB), "--learner", "ada"]) == 0
    report = json.loads(capsys.readouterr().out)
    concepts = next(b for b in report["buckets"] if b["id"] == "concepts")
    assert concepts["evidence"] is True and concepts["fraction"] == 0.5
    assert report["total"] == pytest.approx((40 * 0.5 + 30 + 10) / 80 * 100, abs=0.01)
