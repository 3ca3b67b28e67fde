"""Home: the course's levels as a path, today's plan day, the next item and why, reviews, pacing."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from tutor.app.screens.base import TutorScreen
from tutor.app.services import NextItem, Unavailable, unicode_bar

CIRCLED = "①②③④⑤⑥⑦⑧⑨"


class HomeScreen(TutorScreen):
    """Where the learner stands and what to do next."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #home-cols {
        height: auto;
    }

    #home-path {
        width: 1fr;
        min-width: 30;
    }

    #home-side {
        width: 1fr;
        height: auto;
    }

    .level-row {
        margin: 0 0 0 0;
    }

    #go-next {
        margin-top: 1;
    }

    .placement-row {
        height: auto;
    }

    .placement-row Button {
        margin: 1 1 0 0;
    }
    """

    MODE = "home"
    TITLE_KEY = "home.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,enter", "go_next", "Next", id="home.next"),
        Binding("k", "skip_placement", "Skip", id="home.skip"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "skip_placement":  # only offered while a placement is recommended
            nxt = getattr(self, "_next", None)
            return nxt is not None and nxt.kind == "placement"
        return True

    def compose_body(self) -> ComposeResult:
        svc = self.svc
        lang = self.lang
        try:
            mastery = svc.mastery()
            nxt = svc.next_item(lang)
            reviews = svc.due_reviews()
            pacing = svc.pacing()
        except Unavailable as exc:
            yield Static(self.s("error.unavailable", what=str(exc)), classes="warning")
            return
        self._next = nxt
        with VerticalScroll(id="home-body"):
            if svc.engine_error:
                yield Static(self.s("home.no_engine", why=svc.engine_error), classes="warning")
            with Horizontal(id="home-cols"):
                with Vertical(id="home-path", classes="panel"):
                    n_levels = len(svc.course.levels)
                    yield Static(self.s("home.path_one") if n_levels == 1
                                 else self.s("home.path", count=n_levels),
                                 classes="panel-title")
                    for lv in svc.course.levels:
                        ids = [c.id for c in svc.course.concepts.values() if c.level == lv.number]
                        done = sum(1 for c in ids if mastery[c].state in ("mastered", "review"))
                        frac = done / len(ids) if ids else 0.0
                        mark = CIRCLED[lv.number - 1] if lv.number <= len(CIRCLED) else str(lv.number)
                        yield Static(
                            f"{mark} {lv.title.get(lang)}\n   {unicode_bar(frac, 16)} {done}/{len(ids)}",
                            classes="level-row",
                        )
                with Vertical(id="home-side"):
                    with Vertical(classes="panel", id="home-next"):
                        yield Static(self.s("home.next"), classes="panel-title")
                        yield Static(self._describe(nxt), id="next-text")
                        if nxt.kind == "placement":
                            with Horizontal(classes="placement-row"):
                                yield Button(self.s("home.placement_take"), id="placement-take",
                                             variant="primary", compact=True)
                                yield Button(self.s("home.placement_skip"), id="placement-skip",
                                             compact=True)
                        elif nxt.kind != "done":
                            yield Button(self.s("home.go"), id="go-next", variant="primary",
                                         compact=True, tooltip=self.s("tip.home.next"))
                    with Vertical(classes="panel", id="home-today"):
                        yield Static(self.s("home.today"), classes="panel-title")
                        yield Static(self._today(pacing), id="today-text")
                    with Vertical(classes="panel", id="home-reviews"):
                        yield Static(self.s("home.reviews"), classes="panel-title")
                        titles = [svc.concept_title(c, lang) for c in reviews]
                        yield Static(", ".join(titles) if titles else self.s("home.no_reviews"),
                                     id="reviews-text")

    def _describe(self, nxt: NextItem) -> str:
        svc, lang = self.svc, self.lang
        if nxt.kind == "done":
            return nxt.reason or self.s("home.all_done")
        concept = svc.concept_title(nxt.concept, lang) if nxt.concept else ""
        if nxt.kind == "lab" and nxt.item_id in svc.course.labs:
            what = self.s("home.kind.lab", title=svc.lab(nxt.item_id).title.get(lang))
        elif nxt.kind in ("lesson", "concept"):
            what = self.s("home.kind.lesson", title=concept or str(nxt.item_id))
        elif nxt.kind == "review":
            what = self.s("home.kind.review", title=concept)
        elif nxt.kind == "placement":
            what = self.s("home.kind.placement", title=svc.concept_title(str(nxt.item_id), lang))
        else:
            what = self.s("home.kind.question", id=nxt.item_id, title=concept)
        why = self.s("home.placement_why") if nxt.kind == "placement" else nxt.reason
        reason = f"\n[dim]{self.s('home.why')}[/] {why}" if why else ""
        return what + reason

    def _today(self, pacing: object) -> str:
        svc, lang = self.svc, self.lang
        if pacing is None:
            return self.s("home.no_pacing")
        day_no = max(1, min(len(svc.course.days), getattr(pacing, "expected_day", 1)))
        day = svc.course.day(day_no)
        lines = [self.s("home.day", day=day_no, total=len(svc.course.days),
                        title=day.title.get(lang))]
        if day.concepts:
            lines.append("  " + ", ".join(svc.concept_title(c, lang) for c in day.concepts[:4])
                         + (" …" if len(day.concepts) > 4 else ""))
        if day.labs:
            lines.append("  " + self.s("home.labs_today", labs=", ".join(day.labs)))
        ahead = getattr(pacing, "days_ahead", 0)
        if ahead > 0:
            pace = self.s("home.ahead", n=ahead)
        elif ahead < 0:
            pace = self.s("home.behind", n=-ahead)
        else:
            pace = self.s("home.on_track")
        lines.append(pace + " · " + self.s("home.hours_left",
                                           h=f"{getattr(pacing, 'hours_left', 0.0):g}"))
        return "\n".join(lines)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go-next":
            self.action_go_next()
        elif event.button.id == "placement-take":
            self.action_go_next()
        elif event.button.id == "placement-skip":
            self.action_skip_placement()

    def action_skip_placement(self) -> None:
        """Mark the external prerequisite as known (the learner's choice) and refresh."""
        nxt = getattr(self, "_next", None)
        if nxt is None or nxt.kind != "placement" or not nxt.item_id:
            return
        try:
            self.svc.skip_external(nxt.item_id)
        except Exception as exc:  # unknown external etc.: say so
            self.notify(str(exc), severity="error")
            return
        self.notify(self.s("home.placement_skipped",
                           title=self.svc.concept_title(nxt.item_id, self.lang)))
        self.call_later(self.refresh_if_stale)

    def action_go_next(self) -> None:
        nxt = getattr(self, "_next", None)
        if nxt is None or nxt.kind == "done":
            return
        app = self.tapp
        if nxt.kind == "placement" and nxt.item_id:
            app.open_quiz(placement=nxt.item_id)
        elif nxt.kind == "lab" and nxt.item_id:
            app.open_lab(nxt.item_id)
        elif nxt.kind in ("lesson", "concept") and (nxt.item_id or nxt.concept):
            app.open_lesson(str(nxt.concept or nxt.item_id))
        elif nxt.item_id in self.svc.course.questions:
            app.open_quiz(concept_id=nxt.concept, question_id=nxt.item_id)
        elif nxt.concept:
            app.open_quiz(concept_id=nxt.concept)
