"""Help: what each screen does and its keys (a modal over the current screen)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from tutor.app.strings import s

SECTIONS = {"home": ("help.home", "help.lesson", "help.practice"), "map": ("help.map",),
            "plan": ("help.plan",), "labs": ("help.labs",), "report": ("help.report",),
            "calculators": ("help.calculators",), "settings": ("help.settings",)}
"""Help sections per screen, in navigation order; a screen the course lacks has no section."""


def help_markdown(svc: Any, lang: str) -> str:
    """The help for the screens this course has, with the course's own figures."""
    from tutor.app.modes import ALL_MODES, OPTIONAL_MODES

    modes = svc.modes() if svc is not None else tuple(
        m for m in ALL_MODES if m not in OPTIONAL_MODES)
    course = None
    if svc is not None and svc.course_loaded and svc.load_error is None:
        course = svc.course
    screens = " · ".join(f"`{s(f'navkey.{m}', lang)}` {s(f'key.nav.{m}', lang)}" for m in modes)
    fields: dict[str, object] = {"screens": screens, "levels": "?", "days": "?", "buckets": "…"}
    if course is not None:
        fields.update(levels=len(course.levels), days=len(course.days),
                      buckets=", ".join(f"{b.title.get(lang)} {b.weight} %"
                                        for b in course.meta.rubric.buckets))
    parts = [s("help.nav", lang, **fields)]
    for mode in modes:
        parts.extend(s(key, lang, **fields) for key in SECTIONS.get(mode, ()))
    return "\n\n".join(parts) + "\n"


class HelpScreen(ModalScreen[None]):
    """Keys and screens, in the current language. Esc, q or ? closes it."""

    SCOPED_CSS = False
    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }

    #help-box {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        lang = str(getattr(self.app, "lang", "en"))
        with VerticalScroll(id="help-box"):
            yield Static(s("help.title", lang), classes="panel-title")
            yield Markdown(help_markdown(getattr(self.app, "services", None), lang), id="help-md")
            yield Static(s("help.close", lang), classes="dim")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()  # arrows / PgDn scroll the help at 80x24
