"""Import hygiene of graders.answers: no Textual, no ML stack, no tutor/, sympy only on demand."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["textual", "torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes"]


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("graders.answers", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.syntax", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.grading", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.api", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.units", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.shuffle", HEAVY + ["sympy", "pint", "tutor"]),
        ("graders.answers.algebra", HEAVY + ["tutor"]),
        ("graders.answers.worker", HEAVY + ["tutor"]),
    ],
)
def test_import_is_light(module: str, forbidden: list[str]) -> None:
    code = (
        f"import sys, {module}\n"
        f"bad = [m for m in {forbidden!r} if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
