"""Lesson: the concept's Markdown page in the chosen language, its pitfalls and resources."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Markdown, Static

from tutor.app.screens.base import TutorScreen


class LessonScreen(TutorScreen):
    """One concept's lesson page (pushed over the current screen; Esc goes back)."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #lesson-head {
        height: auto;
        padding: 0 1;
    }

    #lesson-title {
        width: 1fr;
    }

    #lesson-body {
        height: 1fr;
        padding: 0 1;
    }
    """

    TITLE_KEY = "lesson.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="screen.back"),
        Binding("x", "practice", "Practice", id="lesson.practice"),
    ]

    def __init__(self, concept_id: str) -> None:
        super().__init__()
        self.concept_id = concept_id
        """The concept whose page is shown."""

    def compose_body(self) -> ComposeResult:
        svc, lang = self.svc, self.lang
        c = svc.concept(self.concept_id)
        mastery = svc.mastery()
        state = mastery[self.concept_id]
        from textual.markup import escape

        topic = escape(svc.course.topic_title(c.topic, lang))  # course.yaml `topics`, or the id
        head = (f"[b]{c.title.get(lang)}[/]  [dim]L{c.level} · {topic} · {c.id}[/]  "
                f"{self.s('state.' + state.state)}")
        with Horizontal(id="lesson-head"):
            yield Static(head, id="lesson-title")
            yield Button(self.s("key.lesson.practice"), id="practice", variant="primary",
                         compact=True, tooltip=self.s("tip.lesson.practice"))
        if state.state == "locked":
            missing = [svc.concept_title(r, lang) for r in c.requires
                       if r in mastery and mastery[r].state not in ("mastered", "review")]
            yield Static(self.s("lesson.locked", missing=", ".join(missing) or "—"),
                         classes="warning")
        with VerticalScroll(id="lesson-body"):
            text = svc.lesson_markdown(c.page, lang)
            if text is None:
                yield Static(self.s("lesson.missing", page=f"content/{lang}/{c.page}.md"),
                             classes="warning")
                yield Static(c.summary.get(lang))
            else:
                yield Markdown(text, id="lesson-md")
            pitfalls = [p for p in svc.course.pitfalls if self.concept_id in p.concepts]
            if pitfalls:
                lines = [f"## {self.s('lesson.pitfalls')}"]
                for p in pitfalls:
                    lines.append(f"- **{p.title.get(lang)}** — {p.problem.get(lang)} "
                                 f"*{self.s('lesson.remedy')}* {p.remedy.get(lang)}")
                yield Markdown("\n".join(lines), id="lesson-pitfalls")
            resources = [r for r in svc.course.meta.resources if self.concept_id in r.concepts]
            if resources:
                lines = [f"## {self.s('lesson.resources')}"]
                for r in resources:
                    by = f" — {r.authors}" if r.authors else ""
                    url = f" <{r.url}>" if r.url else ""
                    lines.append(f"- *{r.title}*{by}: {r.note.get(lang)}{url}")
                yield Markdown("\n".join(lines), id="lesson-resources")

    def after_recompose(self) -> None:
        # arrows / PgUp / PgDn scroll the page at once (not the Practise button)
        for body in self.query("#lesson-body"):
            body.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "practice":
            self.action_practice()

    def action_practice(self) -> None:
        self.tapp.open_quiz(concept_id=self.concept_id)
