"""The app's strings: both languages for every key, the same fields, every used key defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

from tutor.app.strings import STRINGS, s

APP = Path(__file__).resolve().parent.parent / "tutor" / "app"


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_languages_with_the_same_fields() -> None:
    bad = []
    for key, entry in sorted(STRINGS.items()):
        if set(entry) != {"en", "zh-TW"} or not (entry["en"].strip() and entry["zh-TW"].strip()):
            bad.append((key, "languages"))
        elif not key.startswith(("quiz.placeholder", "help.")) and \
                _fields(entry["en"]) != _fields(entry["zh-TW"]):
            bad.append((key, "fields"))
    assert bad == []


def test_every_literal_key_used_in_the_app_exists() -> None:
    used: set[str] = set()
    for path in APP.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bs\(\s*["']([a-z_]+\.[a-z_.]+)["']""", text))
    missing = sorted(k for k in used if k not in STRINGS)
    assert missing == []


def test_binding_ids_have_labels_and_tooltips() -> None:
    from tutor.app.app import TutorApp
    from tutor.app.screens.help import HelpScreen
    from tutor.app.screens.home import HomeScreen
    from tutor.app.screens.labs import LabsScreen
    from tutor.app.screens.lesson import LessonScreen
    from tutor.app.screens.map import MapScreen
    from tutor.app.screens.quiz import QuizScreen
    from tutor.app.screens.report import ReportScreen

    for cls in (TutorApp, HomeScreen, MapScreen, LessonScreen, QuizScreen, LabsScreen,
                ReportScreen, HelpScreen):
        for b in cls.BINDINGS:
            assert b.id, f"{cls.__name__}: binding {b.key} has no id"
            assert f"key.{b.id}" in STRINGS and f"tip.{b.id}" in STRINGS, b.id


def test_unknown_key_and_bad_fields_never_raise() -> None:
    assert s("no.such.key", "zh-TW") == "no.such.key"
    assert s("home.day", "en", day=1) == STRINGS["home.day"]["en"]
