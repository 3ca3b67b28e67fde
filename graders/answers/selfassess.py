"""Free-text answers are self-assessed against the model answer (issue 13).

Keyword matching cannot read meaning: "PEFT does not freeze the weights; it trains all
parameters" contains "freeze" and "parameters". So a ``text`` answer's keyword check is only
*advice*: ``grade`` returns status ``undetermined`` (logged, never counted for mastery), note
``self-assess``, the share of rubric points whose keywords appear as the score, and the numbered
rubric points. The learner then compares the answer with the model answer (the question's
``solution``) and ticks the points it covered, as flash-card and STACK-style tools do;
``self_assess`` turns those ticks into the verdict that counts: ``correct`` when the ticked
points' weight reaches ``pass_fraction``, else ``partial`` (some) or ``incorrect`` (none), note
``self-assessed``. The rubric points are the question's keyword groups (their feedback text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graders.answers.messages import msg
from graders.answers.schema import Question
from graders.answers.verdict import Verdict

NEEDS_SELF_ASSESSMENT = "self-assess"
"""Answer note of a text verdict that waits for the learner's self-assessment."""
SELF_ASSESSED = "self-assessed"
"""Answer note of a self-assessed text verdict."""


def rubric_points(question: Question, lang: str = "en") -> list[str]:
    """The numbered points (1-based in the order given) a text answer should cover."""
    return [g.feedback.get(lang) if g.feedback else " / ".join(g.any[:3])
            for g in question.keywords]


def parse_points(text: str, n: int) -> list[int] | None:
    """"1,3" / "1 3" / "0" (none) -> sorted point numbers; None when unreadable or out of range."""
    parts = [p for p in re.split(r"[\s,;、，]+", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    nums = sorted({int(p) for p in parts} - {0})
    if any(k < 1 or k > n for k in nums):
        return None
    return nums


def self_assess(question: Question, covered: Sequence[int], *, lang: str = "en",
                hints_used: int = 0) -> Verdict:
    """The verdict of a text answer from the rubric points the learner ticked (1-based)."""
    points = rubric_points(question, lang)
    bad = [k for k in covered if not 1 <= k <= len(points)]
    if question.kind != "text" or not points or bad:
        return Verdict("invalid", 0.0, msg("err.points", lang, n=len(points)), note="invalid")
    total = sum(g.weight for g in question.keywords)
    got = sum(question.keywords[k - 1].weight for k in set(covered))
    frac = got / total
    missing = [f"{i}. {p.rstrip('.')}" for i, p in enumerate(points, 1) if i not in set(covered)]
    if frac >= question.pass_fraction - 1e-12:
        status, score, fb = "correct", 1.0, msg("fb.correct", lang)
    else:
        status = "partial" if frac > 0 else "incorrect"
        score = round(frac, 4)
        fb = msg("fb.text_missing", lang, ideas="; ".join(missing))
    cost = sum(h.cost for h in question.hints[: max(0, hints_used)])
    if status != "invalid" and cost:
        score = max(0.0, score - cost)
        fb += " " + msg("fb.hints", lang, n=min(hints_used, len(question.hints)), cost=f"{cost:g}")
    shown = ", ".join(str(k) for k in sorted(set(covered))) or "0"
    return Verdict(status, score, fb, interpreted_as=msg("fb.points_ticked", lang, points=shown),
                   note=SELF_ASSESSED)
