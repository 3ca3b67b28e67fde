"""SVG snapshots of every screen in both languages, under a frozen configuration.

Frozen: the mini fixture course, a fixed clock, an in-memory store, fakes for grader and lab
runner, no cursor blink, no animation, fixed terminal sizes, and (from conftest.py) private
HOME/XDG dirs and TUTOR_DB. Update after an intended change with
``pytest tests/test_app_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_app_support import FakeEstimator, make_test_app
from textual.pilot import Pilot

LANGS = ("en", "zh-TW")


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def _quiz(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    app.open_quiz(concept_id="basics")
    await pilot.pause()
    await pilot.press("f3", "1", "5")
    await _settle(pilot)
    await pilot.press("enter")
    await _settle(pilot)


async def _lesson(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    app.open_lesson("basics")
    await _settle(pilot)


async def _labs(pilot: Pilot[Any]) -> None:
    await pilot.press("l")
    await pilot.pause()
    await pilot.press("u")
    await _settle(pilot)


def _keys(key: str) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press(key)
        await _settle(pilot)

    return run


SCREENS = {
    "home": None,
    "map": _keys("m"),
    "lesson": _lesson,
    "quiz": _quiz,
    "plan": _keys("p"),
    "labs": _labs,
    "report": _keys("r"),
    "calculators": _keys("c"),
    "settings": _keys("s"),
}


def _app(tmp_path: Path, lang: str) -> Any:
    app = make_test_app(tmp_path, lang, estimator=FakeEstimator())
    course = app.services.course
    # the settings screen shows the course path: make it independent of tmp_path
    app.services._content_root = Path(course.root).parent.parent / "content"
    app.services._course = course.model_copy(update={"root": "/srv/tutor/curriculum/mini"})
    return app


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(screen: str, lang: str, tmp_path: Path, snap_compare: Any) -> None:
    if screen == "labs":  # README lookup needs the real root
        app = make_test_app(tmp_path, lang)
    else:
        app = _app(tmp_path, lang)
    assert snap_compare(app, terminal_size=(100, 32), run_before=SCREENS[screen])


@pytest.mark.parametrize(("screen", "lang"), [("home", "zh-TW"), ("quiz", "en")])
def test_small_terminal_snapshot(screen: str, lang: str, tmp_path: Path,
                                 snap_compare: Any) -> None:
    app = _app(tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=SCREENS[screen])


def test_help_snapshot(tmp_path: Path, snap_compare: Any) -> None:
    app = _app(tmp_path, "zh-TW")
    assert snap_compare(app, terminal_size=(100, 32), press=["question_mark"])
