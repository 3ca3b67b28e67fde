"""The quiz screen: a free-text answer is self-assessed against the model answer before it
counts (issue 13), on the shipped course with the real engine, store and grader."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_app_support import fixed_clock
from textual.widgets import Input, Static

NEGATED = "PEFT does not freeze the weights; it trains all parameters, which costs a lot of memory"


async def _submit(app: Any, pilot: Any, quiz: Any, text: str) -> None:
    quiz.last_verdict = None
    quiz.query_one("#answer", Input).value = text
    await pilot.press("enter")
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if quiz.last_verdict is not None:
            break


def test_text_answer_counts_only_after_self_assessment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    from tutor.app import make_app
    from tutor.store import Store

    app = make_app(store=Store(tmp_path / "p.sqlite3"), clock=fixed_clock, frozen=True)

    async def main() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            svc = app.services
            app.open_quiz("peft-intuition", "l1-peft-in-one-sentence")
            for _ in range(5):
                await app.workers.wait_for_complete()
                await pilot.pause()
            quiz = app.screen
            assert type(quiz).__name__ == "QuizScreen", quiz
            assert quiz.query("#answer"), [str(w.render()) for w in quiz.query(Static)]
            before = svc.mastery()["peft-intuition"].p_known
            await _submit(app, pilot, quiz, NEGATED)
            assert quiz.last_verdict.status == "undetermined"  # keywords alone: not counted
            assert quiz.assessing == NEGATED
            assert svc.mastery()["peft-intuition"].p_known == before
            shown = str(quiz.query_one("#feedback", Static).render())
            assert "Model answer" in shown and "1." in shown
            await _submit(app, pilot, quiz, "7")  # no such point: asked again
            assert quiz.assessing == NEGATED
            await _submit(app, pilot, quiz, "0")  # honest: none of the points
            assert quiz.last_verdict.status == "incorrect"
            assert quiz.last_verdict.note == "self-assessed" and quiz.assessing is None
            assert svc.mastery()["peft-intuition"].p_known != before

    asyncio.run(main())


def test_quiz_shows_and_grades_options_in_the_learners_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    from graders.answers.shuffle import for_learner, relabelling
    from tutor.app import make_app
    from tutor.store import Store

    app = make_app(store=Store(tmp_path / "p.sqlite3"), clock=fixed_clock, frozen=True)

    async def main() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            svc = app.services
            q = next(q for q in svc.course.questions.values() if q.kind == "choice"
                     and relabelling(q, svc.learner)[next(o.id for o in q.options if o.correct)]
                     != next(o.id for o in q.options if o.correct))
            app.open_quiz(q.concepts[0], q.id)
            for _ in range(5):
                await app.workers.wait_for_complete()
                await pilot.pause()
            quiz = app.screen
            prompt = str(quiz.query_one("#prompt", Static).render())
            mine = for_learner(q, svc.learner)
            shown = [o.text.get("en")[:30] for o in mine.options]
            positions = [prompt.find(text) for text in shown]
            assert all(p >= 0 for p in positions) and positions == sorted(positions)
            key = next(o.id for o in mine.options if o.correct)
            await _submit(app, pilot, quiz, key)
            assert quiz.last_verdict.status == "correct"

    asyncio.run(main())
