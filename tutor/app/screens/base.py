"""The base of every screen: language, services, and re-rendering when stale.

A screen renders from ``compose()`` using the app's language and the services' progress version.
When either changed while the screen was hidden, it recomposes on resume; when the language
changes while it shows, it recomposes at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from tutor.app.bindings import localize_bindings
from tutor.app.strings import s

if TYPE_CHECKING:
    from tutor.app.app import TutorApp
    from tutor.app.services import Services

def _escape(text: str) -> str:
    from textual.markup import escape

    return escape(text)


class NavBar(Static):
    """One line of clickable screen names (mouse users' way around; keys are in the footer)."""

    def __init__(self, current: str, lang: str, modes: tuple[str, ...]) -> None:
        parts = []
        for mode in modes:  # only the screens this course has (Services.modes)
            label = s(f"key.nav.{mode}", lang)
            key = s(f"navkey.{mode}", lang)
            style = "reverse" if mode == current else ""
            text = f" {key} {label} "
            parts.append(f"[@click=app.goto('{mode}')]{f'[{style}]{text}[/]' if style else text}[/]")
        parts.append(f"[@click=app.help]  ? {s('key.app.help', lang)} [/]")
        super().__init__("".join(parts), id="nav", markup=True)


class TutorInput(Input):
    """An Input that stops blinking in a frozen (snapshot) app."""

    def on_mount(self) -> None:
        if getattr(self.app, "frozen", False):
            self.cursor_blink = False


class TutorScreen(Screen[Any]):
    """Base screen: ``self.svc``, ``self.lang``, ``self.s(key)`` and stale re-rendering."""

    SCOPED_CSS = False  # screen DEFAULT_CSS uses unique ids; no need to prefix the selectors
    MODE: ClassVar[str] = ""
    """The nav entry to highlight."""
    TITLE_KEY: ClassVar[str] = ""
    """strings.py key of the screen's title (shown in the header)."""
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rendered: tuple[str, int] = ("", -1)

    @property
    def tapp(self) -> TutorApp:
        return self.app  # type: ignore[return-value]

    @property
    def svc(self) -> Services:
        return self.tapp.services

    @property
    def lang(self) -> str:
        return str(self.tapp.lang)

    def s(self, key: str, **fields: object) -> str:
        return s(key, self.lang, **fields)

    def compose(self) -> ComposeResult:
        self._rendered = (self.lang, self.svc.version)
        self.sub_title = self.screen_title()
        yield Header()
        yield NavBar(self.MODE, self.lang, self.svc.modes())
        if self.svc.load_error is not None:
            yield Static(s("error.course", self.lang, problems=_escape(self.svc.load_error)),
                         classes="warning", id="course-error")
        elif not self.svc.course_loaded:
            # the course loads in a worker after the first paint (pydantic + YAML: ~0.7 s)
            yield Static(s("app.loading", self.lang), id="loading", classes="dim")
        else:
            yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def screen_title(self) -> str:
        """The header's subtitle: the screen's title (screens may fill in course figures)."""
        return self.s(self.TITLE_KEY) if self.TITLE_KEY else ""

    def on_mount(self) -> None:
        localize_bindings(self, self.lang)
        if self.ready:
            self.after_recompose()

    @property
    def ready(self) -> bool:
        """Whether the body was composed (the course is loaded)."""
        return self.svc.course_loaded and self.svc.load_error is None

    def is_stale(self) -> bool:
        return self._rendered != (self.lang, self.svc.version)

    async def refresh_if_stale(self) -> None:
        if self.is_stale():
            localize_bindings(self, self.lang)
            await self.recompose()
            if self.ready:
                self.after_recompose()
            self.app.refresh_bindings()  # the new Footer shows nothing until bindings refresh

    def after_recompose(self) -> None:
        """Hook: restore focus or selection after a re-render."""

    async def on_screen_resume(self) -> None:
        await self.refresh_if_stale()
