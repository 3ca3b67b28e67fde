"""Every lab solution's answers.yaml answers its analysis questions correctly (the bank's option
ids move when its options are rewritten; this catches a solution left behind, without training)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graders.answers.grading import grade_local
from graders.answers.schema import Question
from graders.labs.spec import load_lab

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "curriculum" / "core-training-techniques" / "questions"
LABS = sorted(p.parent for p in (ROOT / "exercises").glob("lab-*/lab.yaml"))


def _bank() -> dict[str, Question]:
    out: dict[str, Question] = {}
    for f in sorted(BANK_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(f.read_text(encoding="utf-8")).get("questions", []):
            out[raw["id"]] = Question.model_validate(raw)
    return out


@pytest.mark.parametrize("lab", LABS, ids=[p.name for p in LABS])
def test_solution_answers_every_bank_analysis_question(lab: Path) -> None:
    spec = load_lab(lab)
    bank = _bank()
    answers = yaml.safe_load((lab / "solution" / "answers.yaml").read_text(encoding="utf-8"))
    graded = 0
    for a in spec.analysis:
        if a.prompt is not None:  # person-graded
            continue
        verdict = grade_local(bank[a.id], str(answers.get(a.id)), seed=0)
        assert verdict.status == "correct", (a.id, answers.get(a.id), verdict.feedback)
        graded += 1
    assert graded == sum(a.prompt is None for a in spec.analysis)
