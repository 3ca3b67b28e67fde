"""Typed messages that carry results of background work back to the screens.

Workers never touch widgets: they post one of these, and the screen's handler updates the UI on
the event loop ("attributes down, messages up"). ``LabProgress`` collapses floods with
``can_replace`` so a lab printing thousands of progress lines costs one repaint per frame.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class GradeFinished(Message):
    """A quiz answer was graded (in the ``grading`` worker group)."""

    def __init__(self, question_id: str, answer: str, verdict: Any, elapsed_s: float,
                 error: str | None = None) -> None:
        super().__init__()
        self.error = error
        """Why grading could not run (the grader is missing or broke); verdict is None then."""
        self.question_id = question_id
        """The question that was answered."""
        self.answer = answer
        """The learner's raw answer text."""
        self.verdict = verdict
        """The grader's verdict (status, score, feedback, interpreted_as, note, warnings)."""
        self.elapsed_s = elapsed_s
        """Wall time of grading, in seconds."""


class PreviewReady(Message):
    """How the answer typed so far is read, computed before it counts."""

    def __init__(self, answer: str, preview: Any, error: str | None = None) -> None:
        super().__init__()
        self.error = error
        """Why no preview could be made."""
        self.answer = answer
        """The text the preview is for (stale previews are dropped)."""
        self.preview = preview
        """Preview(valid, interpreted_as, warnings, error)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PreviewReady)


class LabProgress(Message):
    """A lab run made progress (step of total, latest loss)."""

    def __init__(self, lab_id: str, step: int, total: int, loss: float | None) -> None:
        super().__init__()
        self.lab_id = lab_id
        """The lab running."""
        self.step = step
        """Steps done."""
        self.total = total
        """Steps planned."""
        self.loss = loss
        """Latest training loss, when reported."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LabProgress) and message.lab_id == self.lab_id


class LabLog(Message):
    """A line of a lab's log."""

    def __init__(self, lab_id: str, line: str) -> None:
        super().__init__()
        self.lab_id = lab_id
        """The lab running."""
        self.line = line
        """The log line (no trailing newline)."""


class LabFinished(Message):
    """A lab run ended: its checks and the rubric contribution, or the error."""

    def __init__(self, lab_id: str, result: Any) -> None:
        super().__init__()
        self.lab_id = lab_id
        """The lab that ran."""
        self.result = result
        """A ``tutor.app.services.LabOutcome``."""


class LanguageChanged(Message):
    """The interface language changed; screens re-render their text."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        """The new language ("en" or "zh-TW")."""
