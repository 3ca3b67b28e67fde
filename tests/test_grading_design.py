"""The design challenge: what lab.yaml's constraints fix, a design.yaml cannot change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.grade import _design_line
from graders.labs.spec import load_lab

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "exercises" / "lab-1.5-flash-attention"


def _line(tmp_path: Path, text: str | None) -> tuple[str, float, str]:
    sub = tmp_path / "sub"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir()
    if text is None:
        shutil.copy(LAB / "solution" / "design.yaml", sub / "design.yaml")
    else:
        (sub / "design.yaml").write_text(text, encoding="utf-8")
    (line,) = _design_line(load_lab(LAB), sub, "en")
    return line.status, line.points, line.message


def test_the_solution_design_meets_the_fixed_constraints(tmp_path: Path) -> None:
    spec = load_lab(LAB)
    assert spec.design_challenge is not None
    assert spec.design_challenge.constraints["seq_len"] == 16384
    status, points, _ = _line(tmp_path, None)
    assert status == "pass" and points == 10


@pytest.mark.parametrize(("text", "key"), [
    ("method: lora\ngpus: 1\nrank: 16\nbatch: 1\nseq_len: 1024\nestimated_gb: 20\n", "seq_len"),
    ("method: full\ngpus: 1\nbatch: 1\nseq_len: 16384\nestimated_gb: 20\n", "method"),
])
def test_changing_a_fixed_value_fails(tmp_path: Path, text: str, key: str) -> None:
    status, points, message = _line(tmp_path, text)
    assert status == "fail" and points == 0
    assert f"the challenge fixes {key} = " in message


def test_an_omitted_fixed_value_is_taken_from_the_challenge(tmp_path: Path) -> None:
    # no seq_len given: estimated at 16384, not at the estimator's short default
    text = ("method: lora\ngpus: 1\nrank: 16\nlora_targets: all\nbatch: 1\n"
            "gradient_checkpointing: true\nflash_attention: true\nestimated_gb: 24.5\n")
    status, points, _ = _line(tmp_path, text)
    assert status == "pass" and points == 10
