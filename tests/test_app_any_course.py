"""The app on a course of another subject and on `tutor new course` output (issue 14): every word
about the course comes from the course, and screens the course lacks are not offered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from test_app_support import fixed_clock
from textual.pilot import Pilot
from textual.widgets import Input, Static

PROB = Path(__file__).parent / "fixtures" / "probability-course"

SHIPPED_WORDS = ("LLM", "LoRA", "GPU", "ZeRO", "Core Training", "核心訓練", "20-day", "20 天",
                 "five levels", "五個層級", "40/30/20/10", "Calc", "計算器", "Labs", "實驗")
"""Words of the shipped course (and of the screens this course lacks) that must not show."""


def _app(course_dir: Path, lang: str = "en") -> Any:
    from tutor.app import make_app
    from tutor.store import Store

    return make_app(curriculum=str(course_dir), store=Store(":memory:"), lang=lang,
                    clock=fixed_clock, frozen=True)


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()


def _run(app: Any, script: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            await _settle(pilot)
            await script(pilot)

    asyncio.run(main())


def _text(app: Any) -> str:
    """Everything the current screen says: header, nav bar, every Static, the screenshot."""
    parts = [str(app.title), str(app.screen.sub_title)]
    parts += [str(w.render()) for w in app.screen.query(Static).results(Static)]
    svg = app.export_screenshot().replace("&#160;", " ")
    return "\n".join(parts) + svg


def _assert_no_shipped_words(text: str, where: str) -> None:
    for word in SHIPPED_WORDS:
        assert word not in text, f"{where}: {word!r} shows"


@pytest.mark.parametrize(("lang", "title", "path", "plan"), [
    ("en", "Probability for machine learning", "Your path through the 3 levels", "5-day plan"),
    ("zh-TW", "機器學習的機率基礎", "你在 3 個層級的學習路徑", "5 天計畫"),
])
def test_title_levels_and_plan_length_come_from_the_course(lang: str, title: str, path: str,
                                                           plan: str) -> None:
    app = _app(PROB, lang)

    async def script(pilot: Pilot[Any]) -> None:
        assert app.services.load_error is None
        assert app.title == title
        panel_titles = [str(w.render()) for w in app.screen.query(".panel-title").results(Static)]
        assert path in panel_titles
        await pilot.press("p")
        await _settle(pilot)
        assert app.screen.sub_title == plan

    _run(app, script)


def test_no_labs_and_no_calculators_screens() -> None:
    app = _app(PROB)

    async def script(pilot: Pilot[Any]) -> None:
        assert app.services.modes() == ("home", "map", "plan", "report", "settings")
        nav = str(app.screen.query_one("#nav", Static).render())
        assert "Labs" not in nav and "Calc" not in nav and "Report" in nav
        for key in ("l", "c"):
            await pilot.press(key)
            await _settle(pilot)
            assert app.current_mode == "home"
        await pilot.press("question_mark")
        await _settle(pilot)
        help_text = app.screen.query_one("#help-md").source
        assert "**Labs**" not in help_text and "**Calculators**" not in help_text
        assert "3 level(s)" in help_text and "5-day plan" in help_text
        assert "Concepts 100 %" in help_text  # the default rubric: questions alone
        _assert_no_shipped_words(help_text, "help")

    _run(app, script)


def test_no_shipped_course_words_on_any_screen() -> None:
    app = _app(PROB)

    async def script(pilot: Pilot[Any]) -> None:
        _assert_no_shipped_words(_text(app), "home")
        for key in ("m", "p", "r", "s"):
            await pilot.press(key)
            await _settle(pilot)
            _assert_no_shipped_words(_text(app), f"screen {key}")
        app.open_quiz(concept_id="sample-space")
        await _settle(pilot)
        _assert_no_shipped_words(_text(app), "quiz")

    _run(app, script)


def test_placeholder_comes_from_the_question() -> None:
    from tutor.app.screens.quiz import placeholder_text
    from tutor.curriculum import load_course

    course = load_course(PROB)
    q = course.questions
    assert placeholder_text(q["q-complement"], "en") == "An expression in p"
    assert placeholder_text(q["q-union-overlap"], "zh-TW") == "以 a, b, c 寫出的算式"
    assert placeholder_text(q["q-what-is-a-rv"], "en") == "One option: a / b / c"
    assert placeholder_text(q["q-two-dice"], "en") == "A number, e.g. 0.0039 or 1e9"
    app = _app(PROB)

    async def script(pilot: Pilot[Any]) -> None:
        app.open_quiz(concept_id="probability-axioms", question_id="q-complement")
        await _settle(pilot)
        assert app.screen.query_one("#answer", Input).placeholder == "An expression in p"

    _run(app, script)


def test_new_course_opens_in_the_app(tmp_path: Path) -> None:
    from tutor.cli import main

    target = tmp_path / "fractions"
    assert main(["new", "course", str(target)]) == 0
    app = _app(target)

    async def script(pilot: Pilot[Any]) -> None:
        assert app.services.load_error is None
        assert app.title == "My first course"
        panel_titles = [str(w.render()) for w in app.screen.query(".panel-title").results(Static)]
        assert "Your path through the level" in panel_titles
        assert "Question" in str(app.screen.query_one("#next-text", Static).render())
        await pilot.press("p")
        await _settle(pilot)
        assert app.screen.sub_title == "One-day plan"
        _assert_no_shipped_words(_text(app), "new course plan")

    _run(app, script)


def test_lesson_shows_the_topic_title() -> None:
    app = _app(PROB, "zh-TW")

    async def script(pilot: Pilot[Any]) -> None:
        app.open_lesson("expectation")
        await _settle(pilot)
        head = str(app.screen.query_one("#lesson-title", Static).render())
        assert "L2 · 隨機變數 · expectation" in head

    _run(app, script)
