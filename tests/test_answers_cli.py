"""`tutor check` and `tutor questions` as a user runs them (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tutor(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TUTOR_LANG=lang, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


CONTRACT = ["status", "score", "feedback", "interpreted_as", "note", "warnings", "elapsed_ms"]


def test_check_expected_answer_json_contract() -> None:
    r = tutor("check", "--expected", "r*(d+k)/(d*k)", "--answer", "r(d+k)/(dk)",
              "--symbols", "r d k", "--assume", "positive,integer", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert list(obj)[: len(CONTRACT)] == CONTRACT
    assert obj["status"] == "correct" and obj["score"] == 1
    assert obj["interpreted_as"] == "r·(d + k)/(d·k)"


def test_check_invalid_input_exits_zero() -> None:
    r = tutor("check", "--expected", "x+1", "--answer", "(x+1))", "--json")
    assert r.returncode == 0
    obj = json.loads(r.stdout)
    assert obj["status"] == "invalid" and "column 6" in obj["feedback"]


def test_check_text_output_is_localised() -> None:
    r = tutor("check", "--expected", "x+1", "--answer", "1+x", lang="zh-TW")
    assert r.returncode == 0 and "結果：正確" in r.stdout and "解讀為：1 + x" in r.stdout
    r = tutor("check", "--expected", "x+1", "--answer", "1+x")
    assert "Status: correct" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("check", "--expected", "x"),
        ("check", "--expected", "x", "--answer", "x", "--assume", "bogus"),
        ("check", "--expected", "x+(", "--answer", "x"),
        ("check", "no-such-question-id", "1"),
        ("check", "a", "b", "--answer", "c"),
    ],
)
def test_check_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    r = tutor(*args)
    assert r.returncode == 2
    assert r.stderr.strip()
    assert "Traceback" not in r.stderr


def _first_question(kind: str | None = None) -> dict[str, object]:
    r = tutor("questions", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows, "the shipped bank has questions"
    for row in rows:
        if kind is None or row["kind"] == kind:
            return row  # type: ignore[no-any-return]
    pytest.skip(f"no {kind} question in the bank yet")


def test_questions_lists_and_filters() -> None:
    row = _first_question()
    assert {"id", "kind", "level", "concepts"} <= set(row)
    r = tutor("questions", "--level", str(row["level"]), "--json")
    assert all(x["level"] == row["level"] for x in json.loads(r.stdout))
    concept = row["concepts"][0]  # type: ignore[index]
    r = tutor("questions", "--concept", concept, "--json")
    assert all(concept in x["concepts"] for x in json.loads(r.stdout))
    r = tutor("questions", "--concept", "no-such-concept")
    assert r.returncode == 0


def test_check_a_shipped_question_with_its_first_case() -> None:
    import yaml

    from graders.answers.schema import Question

    path = sorted((ROOT / "curriculum/core-training-techniques/questions").glob("*.yaml"))[0]
    q = Question.model_validate(yaml.safe_load(path.read_text())["questions"][0])
    case = q.cases[0]
    args = ["check", q.id, case.answer, "--json"]
    if case.seed is not None:
        args += ["--seed", str(case.seed)]
    r = tutor(*args)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == case.status


def test_questions_shows_full_text_and_rejects_unknown_ids() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "tutor", "questions", "l2-lora-init"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("l2-lora-init  (L2 · choice · lora)")
    assert "  a) " in r.stdout and "  d) " in r.stdout
    r = subprocess.run([sys.executable, "-m", "tutor", "questions", "no-such-question"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no-such-question" in r.stderr and "Traceback" not in r.stderr
