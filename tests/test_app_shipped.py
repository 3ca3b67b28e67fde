"""The app on the shipped course with the real engine, store and sympy grader (no fakes)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_app_support import fixed_clock
from textual.widgets import Input, Static

pytestmark = pytest.mark.slow


def _correct_answer(question: Any) -> str:
    for case in question.cases:
        if case.status == "correct" and case.seed is None:
            return str(case.answer)
    raise AssertionError(f"{question.id} has no unseeded correct case")


def test_new_learner_placement_then_first_question_with_the_real_grader(tmp_path: Path) -> None:
    from tutor.app import make_app
    from tutor.store import Store

    app = make_app(store=Store(tmp_path / "p.sqlite3"), clock=fixed_clock, frozen=True)

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()
            svc = app.services
            assert svc.load_error is None
            home = app.screen
            assert "Placement" in str(home.query_one("#next-text", Static).render())

            # the diagnostic for the first external prerequisite, graded by sympy
            await pilot.click("#placement-take")
            await pilot.pause()
            quiz = app.screen
            assert quiz.placement == "llm-fundamentals"
            for _ in quiz.placement_queue:
                q = svc.course.questions[quiz.question_id]
                quiz.query_one("#answer", Input).value = _correct_answer(q)
                await pilot.press("enter")
                for _ in range(100):  # the first grade starts the worker pool
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    if quiz.last_verdict is not None:
                        break
                assert quiz.last_verdict.status == "correct", quiz.last_verdict
                await pilot.press("ctrl+n")
                await pilot.pause()
            assert quiz.placement_passed is True
            assert type(app.screen).__name__ == "HomeScreen"

            # skip the remaining prerequisites; the plan's first concept becomes the next item
            for _ in range(5):
                if not app.screen.query("#placement-skip"):
                    break
                await pilot.click("#placement-skip")
                await pilot.pause()
                await pilot.pause()
            nxt = svc.next_item("en")
            assert nxt.kind == "question" and nxt.concept == "training-challenges", nxt
            assert svc.mastery()["training-challenges"].state == "ready"

            # answer it right; the language switch re-renders the feedback screen in zh-TW
            await pilot.click("#go-next")
            await pilot.pause()
            quiz = app.screen
            q = svc.course.questions[quiz.question_id]
            quiz.query_one("#answer", Input).value = _correct_answer(q)
            await pilot.press("enter")
            for _ in range(100):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if quiz.last_verdict is not None:
                    break
            assert quiz.last_verdict.status == "correct"
            assert quiz.last_recorded.after > quiz.last_recorded.before
            await pilot.press("escape")
            for key in "mplrcs":
                await pilot.press(key)
                await pilot.pause()
            await pilot.press("f2", "h")
            await pilot.pause()
            assert app.lang == "zh-TW"
            assert "建議的下一步" in [str(w.render()) for w in
                                     app.screen.query(".panel-title").results(Static)]

    asyncio.run(main())
