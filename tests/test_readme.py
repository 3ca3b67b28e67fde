"""The README's quick start is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert block, "README has no Quick start code block"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_quick_start_is_two_commands() -> None:
    assert len(_quick_start()) == 2


def test_ci_installs_and_tests_as_the_readme_says() -> None:
    install, test = _quick_start()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pip_part = install.split("&&")[0].strip()
    assert pip_part in ci.splitlines() or f"{pip_part}" in ci
    assert install.rstrip().endswith("&& tutor")
    assert test.strip() in ci
