"""Safe computer-algebra answer grading (no Textual, no tutor/ imports).

Public API (lazy, PEP 562: importing the package does not import sympy)::

    grade(question, answer, *, seed=None, lang="en", hints_used=0, timeout=2.0) -> Verdict
    preview(question, answer, *, seed=None) -> Preview
    check_expressions(expected, answer, *, symbols=None, assume=(), timeout=2.0, lang="en")
    variant(question, seed) -> dict[str, int];  render_prompt(question, seed, lang) -> str
    warm_up(workers=1);  selftest.run_cases(question) -> list[CaseFailure]
    self_assess(question, covered, *, lang="en", hints_used=0) -> Verdict  (text questions)
    rubric_points(question, lang) -> list[str]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graders.answers.api import check_expressions, grade, warm_up
    from graders.answers.grading import QuestionError, preview, render_prompt, variant
    from graders.answers.schema import Question
    from graders.answers.selfassess import rubric_points, self_assess
    from graders.answers.selftest import CaseFailure, run_cases
    from graders.answers.verdict import Preview, Verdict

_EXPORTS = {
    "grade": "graders.answers.api",
    "check_expressions": "graders.answers.api",
    "warm_up": "graders.answers.api",
    "preview": "graders.answers.grading",
    "variant": "graders.answers.grading",
    "render_prompt": "graders.answers.grading",
    "QuestionError": "graders.answers.grading",
    "Question": "graders.answers.schema",
    "Verdict": "graders.answers.verdict",
    "Preview": "graders.answers.verdict",
    "run_cases": "graders.answers.selftest",
    "self_assess": "graders.answers.selfassess",
    "rubric_points": "graders.answers.selfassess",
    "CaseFailure": "graders.answers.selftest",
}

__all__ = [
    "CaseFailure",
    "Preview",
    "Question",
    "QuestionError",
    "Verdict",
    "check_expressions",
    "grade",
    "preview",
    "render_prompt",
    "rubric_points",
    "run_cases",
    "self_assess",
    "variant",
    "warm_up",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graders.answers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
