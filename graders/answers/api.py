"""The public entry points: bounded ``grade`` through the worker pool, ``check_expressions``.

Invalid input is answered here from ``preview`` (no worker, no attempt spent); everything that
needs computer algebra goes to a warm worker with a wall-clock bound, through an LRU cache keyed on
(question content, variant seed, normalised answer, language, hints used).
"""

from __future__ import annotations

import os
import time

from graders.answers.grading import (
    QuestionError,
    adhoc_question,
    grade_local,
    preview,
)
from graders.answers.messages import msg
from graders.answers.pool import DEFAULT_TIMEOUT, get_pool, question_key, timeout_verdict
from graders.answers.schema import Question
from graders.answers.verdict import Verdict


def _normalised(question: Question, answer: str, shown: str) -> str:
    if any(node.test == "contains" for node in question.tree):
        return answer  # the tree reads the raw text, not just its reading
    if question.kind == "text":
        return " ".join(answer.split())
    # the reading, never the raw text with its line breaks collapsed: "(a)\n(b)" is a
    # two-step derivation, "(a) (b)" one step, a product
    return shown


def grade(question: Question, answer: str, *, seed: int | None = None, lang: str = "en",
          hints_used: int = 0, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """Grade ``answer`` within ``timeout`` seconds (wall clock) in a memory-limited worker.

    ``timeout <= 0`` (or TUTOR_GRADER_INPROCESS=1) grades in this process without a bound.
    Raises ``QuestionError`` only when the question itself is broken.
    """
    t0 = time.perf_counter()
    if timeout <= 0 or os.environ.get("TUTOR_GRADER_INPROCESS") == "1":
        return grade_local(question, answer, seed=seed, lang=lang, hints_used=hints_used)
    pv = preview(question, answer, seed=seed, lang=lang)
    if not pv.valid:
        return Verdict(status="invalid", score=0.0, feedback=pv.error or "", note="invalid",
                       elapsed_ms=(time.perf_counter() - t0) * 1000)
    qjson = question.model_dump_json(by_alias=True)
    key = (question_key(qjson), seed if question.params else None, _normalised(question, answer, pv.interpreted_as), lang,
           hints_used, tuple(pv.warnings))
    pool = get_pool()
    hit = pool.cached(key)
    if hit is not None:
        return hit.with_(elapsed_ms=(time.perf_counter() - t0) * 1000, cached=True)
    payload = {"question": question.model_dump(mode="json", by_alias=True), "answer": answer,
               "seed": seed, "lang": lang, "hints_used": hints_used}
    reply = pool.run(payload, timeout)
    elapsed = (time.perf_counter() - t0) * 1000
    if reply is None or reply.get("error") == "memory":
        return timeout_verdict(elapsed, lang, pv.interpreted_as, pv.warnings)
    if "verdict" in reply:
        verdict = Verdict.from_dict(reply["verdict"]).with_(elapsed_ms=elapsed)
        pool.remember(key, verdict)
        return verdict
    if reply.get("error") == "question":
        raise QuestionError(str(reply.get("message", "")))
    return Verdict(status="undetermined", score=0.0, feedback=msg("fb.undetermined", lang),
                   interpreted_as=pv.interpreted_as, note="grader-error",
                   warnings=[*pv.warnings, str(reply.get("message", ""))], elapsed_ms=elapsed)


def check_expressions(expected: str, answer: str, *, symbols: list[str] | None = None,
                      assume: list[str] | tuple[str, ...] = (), timeout: float = DEFAULT_TIMEOUT,
                      lang: str = "en") -> Verdict:
    """Compare two expressions (or equations, sets, O(...)) under symbol assumptions.

    ``symbols`` None: the names in ``expected``. Raises ``QuestionError`` if ``expected`` cannot
    be read or an assumption is unknown.
    """
    from pydantic import ValidationError

    try:
        q = adhoc_question(expected, symbols=symbols, assume=list(assume))
    except ValidationError as exc:
        raise QuestionError(str(exc.errors()[0].get("msg", exc))) from None
    from graders.answers import syntax as sx

    try:
        sx.read(expected, set(q.symbols))
    except sx.ParseError as exc:
        raise QuestionError(f"--expected: {exc.render(lang)}") from None
    return grade(q, answer, lang=lang, timeout=timeout)


def warm_up(workers: int = 1) -> None:
    """Start grading workers now (e.g. after the app's first paint) so the first check is fast."""
    get_pool().warm(workers)
