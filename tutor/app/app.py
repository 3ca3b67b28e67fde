"""``TutorApp``: a router. Screens compose and route; everything else lives in ``Services``.

Each top-level screen is a Textual *mode* whose module is imported on first visit (start-up pays
only for the home screen). Lesson, quiz and help are pushed on top of the current mode.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from tutor.app.bindings import localize_bindings
from tutor.app.commands import TutorCommands
from tutor.app.modes import SCREENS_BY_MODE
from tutor.app.services import Services
from tutor.app.strings import s


def _lazy_screen(mode: str) -> Callable[[], Screen[Any]]:
    module, cls = SCREENS_BY_MODE[mode]

    def build() -> Screen[Any]:
        screen: Screen[Any] = getattr(importlib.import_module(module), cls)()
        return screen

    return build


class TutorApp(App[int]):
    """The learner's terminal app."""

    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        mode: _lazy_screen(mode) for mode in SCREENS_BY_MODE
    }
    DEFAULT_MODE = "home"
    COMMANDS = App.COMMANDS | {TutorCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "goto('home')", "Home", id="nav.home", show=False),
        Binding("m", "goto('map')", "Map", id="nav.map", show=False),
        Binding("p", "goto('plan')", "Plan", id="nav.plan", show=False),
        Binding("l", "goto('labs')", "Labs", id="nav.labs", show=False),
        Binding("r", "goto('report')", "Report", id="nav.report", show=False),
        Binding("c", "goto('calculators')", "Calc", id="nav.calculators", show=False),
        Binding("s", "goto('settings')", "Settings", id="nav.settings", show=False),
        Binding("f1,question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("f2", "toggle_lang", "中/EN", id="app.lang"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    lang: reactive[str] = reactive("en", init=False)
    """Interface language, switchable live (en / zh-TW)."""

    def __init__(self, services: Services, lang: str = "en", frozen: bool = False) -> None:
        super().__init__()
        self.services = services
        """The door to course, progress, grading, labs and the estimator."""
        self.frozen = frozen
        self.pending_lab: str | None = None
        """A lab the labs screen should select when it next shows."""
        """Deterministic rendering for snapshots: no cursor blink, no animation."""
        if frozen:
            self.animation_level = "none"
        self.set_reactive(TutorApp.lang, lang if lang in ("en", "zh-TW") else "en")
        services.set_lang(self.lang)
        localize_bindings(self, self.lang)
        self.set_course_title()

    def set_course_title(self) -> None:
        """The header's title: the course's own title once loaded (a neutral word before)."""
        self.title = self.services.course_title(self.lang) or s("app.title", self.lang)

    # ------------------------------------------------------------------ start-up
    def on_mount(self) -> None:
        if not self.services.course_loaded:
            # after the first paint: the loader's imports would compete for the GIL with it
            self.call_after_refresh(self.load_course)

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def load_course(self) -> None:
        """Load the course and open the store after the first paint, then re-render."""
        self.services.load()
        self.call_from_thread(lambda: self.call_later(self._course_loaded))

    async def _course_loaded(self) -> None:
        self.set_course_title()
        refresh = getattr(self.screen, "refresh_if_stale", None)
        if refresh is not None:
            await refresh()
        if self.services.load_error is not None:
            self.screen.refresh(recompose=True)

    def on_unmount(self) -> None:
        self.services.cancel_lab()  # never leave a training process behind

    # ------------------------------------------------------------------ routing
    def action_goto(self, mode: str) -> None:
        """Show a top-level screen (clearing lesson/quiz pushed on the current one)."""
        if mode not in SCREENS_BY_MODE or mode not in self.services.modes():
            return  # e.g. `l` in a course without labs
        if mode == self.current_mode:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.switch_mode(mode)

    def open_lesson(self, concept_id: str) -> None:
        from tutor.app.screens.lesson import LessonScreen

        self.push_screen(LessonScreen(concept_id))

    def open_quiz(self, concept_id: str | None = None, question_id: str | None = None,
                  placement: str | None = None) -> None:
        """Practise a concept or a question; ``placement`` runs an external's diagnostic."""
        from tutor.app.screens.quiz import QuizScreen

        self.push_screen(QuizScreen(concept_id=concept_id, question_id=question_id,
                                    placement=placement))

    def open_lab(self, lab_id: str) -> None:
        """Show the labs screen with ``lab_id`` selected."""
        self.pending_lab = lab_id
        if self.current_mode == "labs":
            self.action_goto("labs")
            select = getattr(self.screen, "select_lab", None)
            if select is not None:
                select(lab_id)
        else:
            self.switch_mode("labs")

    def action_help(self) -> None:
        from tutor.app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ------------------------------------------------------------------ language
    def action_toggle_lang(self) -> None:
        self.lang = "zh-TW" if self.lang == "en" else "en"

    def watch_lang(self, lang: str) -> None:
        from tutor.i18n import set_lang

        set_lang("zh-TW" if lang == "zh-TW" else "en")
        self.services.set_lang(lang)
        self.services.version += 1  # lock reasons and other engine text re-render
        self.set_course_title()
        localize_bindings(self, lang)
        for stack in self._screen_stacks.values():
            for screen in stack:
                localize_bindings(screen, lang)
        self.refresh_bindings()
        refresh = getattr(self.screen, "refresh_if_stale", None)
        if refresh is not None:
            self.call_later(refresh)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(s("key.app.lang", self.lang), s("tip.app.lang", self.lang),
                            self.action_toggle_lang)
