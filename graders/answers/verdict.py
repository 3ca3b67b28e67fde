"""Typed results of the answer grader: ``Verdict`` (a graded answer) and ``Preview`` (a reading)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

STATUSES = ("correct", "partial", "incorrect", "invalid", "undetermined", "timeout")


@dataclass(frozen=True)
class Verdict:
    """The outcome of grading one answer. Invalid input is a verdict, not an exception."""

    status: str
    """correct | partial | incorrect | invalid | undetermined | timeout."""
    score: float
    """0..1, after the cost of hints used."""
    feedback: str = ""
    """Feedback in the learner's language."""
    interpreted_as: str = ""
    """How the answer was read (compact Unicode), empty when it could not be read."""
    note: str = ""
    """Answer note for analytics (``correct``, a response-tree note, ``invalid`` …)."""
    warnings: list[str] = field(default_factory=list)
    """Things noticed while reading the answer (unknown symbols, ambiguous products)."""
    elapsed_ms: float = 0.0
    """Wall-clock time of the check, in milliseconds."""
    pitfall: str | None = None
    """Pitfall id diagnosed by the matched tree node or option."""
    cached: bool = False
    """Whether the verdict came from the cache."""

    def to_json(self) -> dict[str, Any]:
        """The ``tutor check --json`` object: the contract keys first, then extras."""
        return {
            "status": self.status,
            "score": round(self.score, 6),
            "feedback": self.feedback,
            "interpreted_as": self.interpreted_as,
            "note": self.note,
            "warnings": list(self.warnings),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "pitfall": self.pitfall,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, for passing between processes."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Inverse of ``to_dict`` (unknown keys ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_(self, **changes: Any) -> Verdict:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Preview:
    """How an answer would be read, before it counts (no computer algebra involved)."""

    valid: bool
    """Whether the answer can be graded."""
    interpreted_as: str = ""
    """The reading, in compact Unicode."""
    warnings: list[str] = field(default_factory=list)
    """Things noticed while reading."""
    error: str | None = None
    """What is wrong and where, when not valid."""
