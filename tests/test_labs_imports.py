"""The lab framework's headless modules import no ML stack and no Textual at module level."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes", "textual")


@pytest.mark.parametrize("module", [
    "graders.labs.spec", "graders.labs.checks", "graders.labs.lab_1_1",
    "tutor.labs.catalogue", "tutor.labs.workspace", "tutor.labs.runner", "tutor.labs.devcheck",
    "tutor.cli.lab_handlers", "tutor.labs.messages", "tutor.cli.labs",
])
def test_no_heavy_imports(module: str) -> None:
    code = (f"import sys; import {module}; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == ""
