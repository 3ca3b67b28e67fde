"""Map: the prerequisite graph by topological generation, each node with its state."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tutor.app.screens.base import TutorScreen
from tutor.app.services import ConceptView, Unavailable

ICONS = {"locked": "⊘", "ready": "○", "learning": "◐", "mastered": "●", "review": "↻"}
"""State glyphs (the legend explains them)."""
STYLES = {"locked": "dim", "ready": "bold", "learning": "yellow", "mastered": "green",
          "review": "magenta"}


class MapScreen(TutorScreen):
    """Concepts by generation: a concept's prerequisites are all in earlier generations."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #map-legend {
        height: auto;
        padding: 0 1;
    }

    #map-body {
        height: 1fr;
    }

    #map-list {
        width: 1fr;
        min-width: 36;
        height: 1fr;
    }

    #map-detail {
        width: 1fr;
        height: 1fr;
    }
    """

    MODE = "map"
    TITLE_KEY = "map.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="map.open", show=True),
        Binding("x", "practice", "Practice", id="map.practice"),
    ]

    def compose_body(self) -> ComposeResult:
        try:
            gens = self.svc.generations()
            mastery = self.svc.mastery()
        except Unavailable as exc:
            yield Static(self.s("error.unavailable", what=str(exc)), classes="warning")
            return
        self._mastery = mastery
        legend = "  ".join(f"[{STYLES[k]}]{ICONS[k]} {self.s('state.' + k)}[/]" for k in ICONS)
        yield Static(legend, id="map-legend")
        with Horizontal(id="map-body"):
            options: list[Option | None] = []
            for i, gen in enumerate(gens, 1):
                options.append(Option(self.s("map.generation", n=i, count=len(gen)),
                                      disabled=True, id=f"gen-{i}"))
                for cid in gen:
                    options.append(self._option(cid, mastery[cid]))
            yield OptionList(*options, id="map-list")
            with Vertical(id="map-detail", classes="panel"):
                yield Static("", id="map-detail-text")

    def _option(self, cid: str, view: ConceptView) -> Option:
        c = self.svc.concept(cid)
        icon, style = ICONS[view.state], STYLES[view.state]
        text = f"[{style}]{icon} {c.title.get(self.lang)}[/] [dim]L{c.level} · {cid}[/]"
        return Option(text, id=cid)

    def after_recompose(self) -> None:
        try:
            ol = self.query_one("#map-list", OptionList)
        except Exception:
            return
        ol.focus()
        first = next((i for i in range(ol.option_count) if not ol.get_option_at_index(i).disabled),
                     None)
        if first is not None:
            ol.highlighted = first

    def _current(self) -> str | None:
        ol = self.query_one("#map-list", OptionList)
        if ol.highlighted is None:
            return None
        opt = ol.get_option_at_index(ol.highlighted)
        return opt.id if opt.id in self.svc.course.concepts else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        cid = event.option.id
        if cid not in self.svc.course.concepts:
            return
        c = self.svc.concept(cid)
        view = self._mastery[cid]
        lang = self.lang
        req = [self.svc.concept_title(r, lang) for r in c.requires]
        rec = [self.svc.concept_title(r, lang) for r in c.recommends]
        lines = [
            f"[b]{c.title.get(lang)}[/]  [dim]{cid}[/]",
            f"{ICONS[view.state]} {self.s('state.' + view.state)} · "
            f"P(known) {view.p_known:.2f} · {self.s('map.attempts', n=view.attempts)}",
            "",
            c.summary.get(lang),
            "",
            f"[b]{self.s('map.requires')}[/] " + (", ".join(req) or "—"),
        ]
        if rec:
            lines.append(f"[b]{self.s('map.recommends')}[/] " + ", ".join(rec))
        lines += ["", f"[dim]{self.s('map.hint')}[/]"]
        self.query_one("#map-detail-text", Static).update("\n".join(lines))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id in self.svc.course.concepts:
            self.tapp.open_lesson(event.option.id)

    def action_open(self) -> None:
        cid = self._current()
        if cid:
            self.tapp.open_lesson(cid)

    def action_practice(self) -> None:
        cid = self._current()
        if cid:
            self.tapp.open_quiz(concept_id=cid)
