"""Settings: language (live), learner profile, theme."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Select, Static

from tutor.app.screens.base import TutorInput, TutorScreen

THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "tokyo-night", "catppuccin-mocha",
          "dracula", "solarized-light")


class SettingsScreen(TutorScreen):
    """Preferences; every change applies at once."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #settings-body {
        padding: 0 1;
    }

    #settings-body Select {
        width: 40;
    }
    """

    MODE = "settings"
    TITLE_KEY = "settings.title"

    def compose_body(self) -> ComposeResult:
        app = self.tapp
        themes = [t for t in THEMES if t in app.available_themes]
        with VerticalScroll(id="settings-body"):
            with Vertical(classes="panel"):
                yield Static(self.s("settings.lang"), classes="panel-title")
                yield Select([("English", "en"), ("繁體中文（台灣）", "zh-TW")], value=self.lang,
                             allow_blank=False, id="set-lang",
                             tooltip=self.s("tip.app.lang"))
            with Vertical(classes="panel"):
                yield Static(self.s("settings.learner"), classes="panel-title")
                yield Static(self.s("settings.learner_now", name=self.svc.learner),
                             id="learner-now")
                with Horizontal(classes="form-row"):
                    yield TutorInput(value=self.svc.learner, id="set-learner",
                                     placeholder=self.s("settings.learner_placeholder"))
                    yield Button(self.s("settings.switch"), id="switch-learner", compact=True)
            with Vertical(classes="panel"):
                yield Static(self.s("settings.theme"), classes="panel-title")
                yield Select([(t, t) for t in themes], value=app.theme if app.theme in themes
                             else Select.BLANK, id="set-theme")
            with Vertical(classes="panel"):
                yield Static(self.s("settings.paths"), classes="panel-title")
                yield Static(self._paths(), id="paths")

    def _paths(self) -> str:
        svc = self.svc
        store = getattr(svc, "_store", None)
        db = getattr(store, "path", None) or svc._db_path or "—"
        lines = [self.s("settings.db", path=str(db))]
        try:
            lines.append(self.s("settings.course", path=str(svc.course.root)))
        except Exception:
            pass
        if svc.engine_error:
            lines.append("[yellow]" + self.s("home.no_engine", why=svc.engine_error) + "[/]")
        return "\n".join(lines)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "set-lang" and event.value in ("en", "zh-TW"):
            if event.value != self.tapp.lang:
                self.tapp.lang = str(event.value)
        elif event.select.id == "set-theme" and isinstance(event.value, str):
            self.tapp.theme = event.value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "switch-learner":
            self._switch()

    def on_input_submitted(self, event: TutorInput.Submitted) -> None:
        if event.input.id == "set-learner":
            self._switch()

    def _switch(self) -> None:
        name = self.query_one("#set-learner", TutorInput).value.strip()
        if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
            self.notify(self.s("settings.bad_learner"), severity="warning")
            return
        try:
            self.svc.switch_learner(name)
        except Exception as exc:  # the store refused: keep the current learner
            self.notify(str(exc), severity="error")
            return
        self.query_one("#learner-now", Static).update(self.s("settings.learner_now", name=name))
        self._rendered = (self.lang, self.svc.version)
        self.notify(self.s("settings.switched", name=name))
