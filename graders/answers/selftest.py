"""Question tests: run every ``case`` of a question through the grader."""

from __future__ import annotations

from dataclasses import dataclass

from graders.answers.schema import Question

SCORE_TOLERANCE = 0.005
"""Scores written in a case may be rounded to two decimals."""


@dataclass(frozen=True)
class CaseFailure:
    """A case whose verdict differs from what the question author expected."""

    question: str
    """Question id."""
    index: int
    """Index of the case in ``question.cases``."""
    answer: str
    """The case's answer."""
    expected: str
    """What the case expects (status / score / note)."""
    got: str
    """What the grader said."""
    message: str
    """Explanation (grader feedback, or the error)."""

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        """One line for reports."""
        return (f"{self.question} case {self.index} ({self.answer!r}): expected {self.expected}, "
                f"got {self.got}: {self.message}")


def run_cases(question: Question, *, timeout: float = 5.0) -> list[CaseFailure]:
    """Grade each case (bounded, through the pool; ``timeout <= 0`` grades in-process)."""
    from graders.answers.api import grade
    from graders.answers.grading import QuestionError

    failures: list[CaseFailure] = []
    for i, case in enumerate(question.cases):
        want = f"status={case.status}"
        if case.score is not None:
            want += f" score={case.score:g}"
        if case.note is not None:
            want += f" note={case.note}"
        try:
            v = grade(question, case.answer, seed=case.seed, timeout=timeout)
        except QuestionError as exc:
            failures.append(CaseFailure(question.id, i, case.answer, want, "question error",
                                        str(exc)))
            continue
        got = f"status={v.status} score={v.score:g} note={v.note}"
        ok = v.status == case.status
        if case.score is not None and abs(v.score - case.score) > SCORE_TOLERANCE:
            ok = False
        if case.note is not None and v.note != case.note:
            ok = False
        if not ok:
            failures.append(CaseFailure(question.id, i, case.answer, want, got, v.feedback))
    return failures
