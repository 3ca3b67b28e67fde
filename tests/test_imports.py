"""Import hygiene: headless modules load neither Textual nor the ML stack (fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("textual", "torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes",
         "accelerate", "datasets")

HEADLESS = [
    "tutor",
    "tutor.cli",
    "tutor.curriculum",
    "tutor.curriculum.loader",
    "tutor.curriculum.graph",
    "tutor.engine",
    "tutor.store",
    "tutor.labs",
    "tutor.classroom.data",
    "tutor.classroom.stats",
    "tutor.classroom.bkt_fit",
    "tutor.classroom.report",
    "tutor.classroom.autograder",
    "tutor.cli.classroom",
    "graders",
    "graders.answers",
    "graders.labs",
    "graders.sandbox",
    "graders.rubric",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_imports_nothing_heavy(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"{module} imported {r.stdout.strip()}"


def test_cli_parser_builds_without_heavy_imports() -> None:
    code = (
        "import sys\n"
        "from tutor.cli import build_parser\n"
        "build_parser()\n"
        f"print(','.join(m for m in {HEAVY!r} + ('sympy',) if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


def test_graders_do_not_import_tutor() -> None:
    code = (
        "import sys, graders.answers, graders.rubric, graders.sandbox, graders.labs\n"
        "print(','.join(m for m in sys.modules if m == 'tutor' or m.startswith('tutor.')))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
