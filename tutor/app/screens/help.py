"""Help: what each screen does and its keys (a modal over the current screen)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from tutor.app.strings import s


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
            yield Markdown(s("help.body", lang), id="help-md")
            yield Static(s("help.close", lang), classes="dim")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()  # arrows / PgDn scroll the help at 80x24
