"""Headless grading modules import nothing heavy (fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes", "textual", "sympy")


@pytest.mark.parametrize("module", ["graders.sandbox", "graders.rubric", "graders.estimate",
                                    "graders.grade", "tutor.cli.grading"])
def test_no_heavy_imports(module: str) -> None:
    code = (f"import sys, {module}; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == ""
