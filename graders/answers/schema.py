"""Schema of a self-check question, as authored in ``curriculum/<course>/questions/*.yaml``.

A question has a kind, a prompt in both languages, the expected answer, and a *response tree*:
ordered answer-test nodes for anticipated mistakes, each with a score, feedback and an answer note.
Every question ships test ``cases`` that the test suite and ``tutor validate`` run.

Expressions here (``answer``, tree ``answer``s, ``cases``) are written by the course author but
are still parsed with the same safe parser as learner input: nothing is ever eval'd or sympify'd.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from graders.schema_base import Model, Text

Kind = Literal[
    "expression",  # algebraic equivalence under symbol assumptions
    "numeric",  # a number, with tolerance / significant figures
    "equation",  # an equation, equivalent up to rearrangement
    "set",  # a set or list of expressions
    "inequality",  # an inequality, equivalent up to rearrangement
    "asymptotic",  # big-O growth order, e.g. O(N**2)
    "choice",  # single choice among options
    "multi",  # multiple choice: select all correct options
    "ordering",  # put the options in the right order (the order they are listed in)
    "text",  # short free text scored on keywords / synonyms in both languages
    "derivation",  # several lines, each equivalent to the previous; the first wrong step is named
]

Assumption = Literal["positive", "integer", "real", "nonnegative", "nonzero"]
Status = Literal["correct", "partial", "incorrect", "invalid", "undetermined", "timeout"]
AnswerTest = Literal[
    "equiv",  # algebraically equivalent to ``answer``
    "numeric",  # numerically equal to ``answer`` within the question's tolerance
    "same_form",  # equivalent AND in the form given by ``form``
    "contains",  # text answer contains one of ``any`` (case-insensitive, both languages)
    "option",  # choice: the learner chose option ``answer`` (id)
]
Form = Literal["simplified", "factored", "expanded", "single_fraction"]


class Param(Model):
    """A randomised parameter; a variant draws one value per learner seed."""

    values: list[int] | None = None
    """Allowed values (pick one)."""
    min: int | None = None
    """Smallest value of a range (inclusive)."""
    max: int | None = None
    """Largest value of a range (inclusive)."""
    step: int = 1
    """Step of a range."""

    @model_validator(mode="after")
    def _one_source(self) -> Param:
        if (self.values is None) == (self.min is None or self.max is None):
            raise ValueError("a parameter needs either 'values' or both 'min' and 'max'")
        return self


class Tolerance(Model):
    """Numeric tolerance; any bound that is met accepts the answer."""

    abs: float | None = Field(None, ge=0)
    """Absolute tolerance."""
    rel: float | None = Field(None, ge=0)
    """Relative tolerance (0.01 = 1 %)."""
    sigfigs: int | None = Field(None, ge=1)
    """Required significant figures."""


class Option(Model):
    """An option of a choice / multi / ordering question."""

    id: str
    """Option id, what the learner types (``a``, ``b`` …)."""
    text: Text
    """Option text."""
    correct: bool = False
    """Whether the option is (one of) the right answer(s); ignored for ordering."""
    feedback: Text | None = None
    """Feedback when the learner picks this option."""
    pitfall: str | None = None
    """Pitfall id this option diagnoses (pitfalls.yaml)."""


class KeywordGroup(Model):
    """For text questions: one idea the answer should contain, with synonyms in both languages."""

    any: list[str] = Field(min_length=1)
    """Synonyms; matching any one counts (case-insensitive)."""
    weight: float = Field(1.0, gt=0)
    """Share of the score this idea carries (normalised over groups)."""
    feedback: Text | None = None
    """Shown when the idea is missing."""


class Node(Model):
    """One node of the response tree: an anticipated answer and what it earns."""

    test: AnswerTest = "equiv"
    """Answer test comparing the learner's answer with ``answer``."""
    answer: str | None = None
    """Expression / number / option id the test compares against (may use params)."""
    any: list[str] = Field(default_factory=list)
    """For the ``contains`` test: phrases, any of which matches."""
    score: float = Field(ge=0, le=1)
    """Score when the node matches (1 = correct, 0 < s < 1 partial)."""
    note: str
    """Answer note recorded for analytics, e.g. ``param-count-not-ratio``."""
    feedback: Text
    """Specific feedback for this mistake."""
    pitfall: str | None = None
    """Pitfall id this node diagnoses."""


class Hint(Model):
    """A hint, shown in order; each costs part of the score."""

    text: Text
    """Hint text."""
    cost: float = Field(0.1, ge=0, le=1)
    """Score deducted when the hint is used before answering."""


class Case(Model):
    """A question test: an answer and the outcome it must get."""

    answer: str
    """What the learner types."""
    status: Status
    """Expected verdict status."""
    score: float | None = Field(None, ge=0, le=1)
    """Expected score (checked when given)."""
    note: str | None = None
    """Expected answer note (checked when given)."""
    seed: int | None = None
    """Variant seed for randomised questions (default: the base variant)."""


class Question(Model):
    """A self-check question."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    """Question id, unique in the course."""
    level: int = Field(ge=1, le=9)
    """Cognitive level number."""
    concepts: list[str] = Field(min_length=1)
    """Concept ids the question gives evidence on (or external ids, for placement questions)."""
    kind: Kind
    """How the answer is read and compared."""
    prompt: Text
    """The question; may mention params as {name}."""
    symbols: dict[str, list[Assumption]] = Field(default_factory=dict)
    """Declared symbols and their assumptions, e.g. ``{r: [positive, integer]}``."""
    params: dict[str, Param] = Field(default_factory=dict)
    """Randomised parameters (per-learner seed, deterministic)."""
    answer: str | list[str] | None = None
    """Expected answer: an expression (may use params), a number, an option id list, or lines."""
    tolerance: Tolerance | None = None
    """Numeric tolerance (numeric questions; default rel 1e-6)."""
    unit: str | None = None
    """Numeric questions: the unit of ``answer`` (``GB``, ``GiB``, ``TB``, ``bytes``, ``FLOPs``,
    ``s`` …; see ``graders.answers.units.UNITS``). Learners may then answer in any unit of the
    same kind ("2.8 TB" for 2800 GB); a bare number is read in this unit."""
    form: Form | None = None
    """Required form, tested separately from the value."""
    accept: list[str] = Field(default_factory=list)
    """Derivations: other final forms that also reach the target, e.g. ``4/(1 + 3/N_d)`` for
    ``4*N_d/(N_d + 3)`` (compared as written, after the usual reading: order of terms and
    spacing do not matter, unsimplified forms do)."""
    options: list[Option] = Field(default_factory=list)
    """Options for choice / multi / ordering."""
    keywords: list[KeywordGroup] = Field(default_factory=list)
    """Ideas a text answer should contain."""
    pass_fraction: float = Field(0.6, gt=0, le=1)
    """Text questions: share of keyword weight that counts as correct."""
    tree: list[Node] = Field(default_factory=list)
    """Response tree: anticipated mistakes, tried in order after the correct answer fails."""
    hints: list[Hint] = Field(default_factory=list)
    """Hints in order."""
    solution: Text | None = None
    """Worked solution shown after answering."""
    source: str | None = None
    """Where the question comes from, e.g. ``seed:L3:Q1``."""
    cases: list[Case] = Field(min_length=1)
    """Question tests: the correct answer, each anticipated mistake, one invalid input."""

    @model_validator(mode="after")
    def _known_unit(self) -> Question:
        if self.unit is None:
            return self
        from graders.answers.units import UNITS

        if self.kind != "numeric":
            raise ValueError("'unit' is only for numeric questions")
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; use one of {', '.join(UNITS)}")
        return self
