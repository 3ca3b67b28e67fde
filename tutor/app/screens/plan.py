"""Plan: the course's day-by-day calendar with phases, hours, labs, and where the learner stands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from tutor.app.screens.base import TutorScreen
from tutor.app.services import Unavailable


class PlanScreen(TutorScreen):
    """The study plan; the highlighted day's activities show below the table."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #plan-summary {
        padding: 0 1;
        height: auto;
    }

    #plan-table {
        height: 1fr;
    }

    #plan-detail {
        height: auto;
        max-height: 8;
    }
    """

    MODE = "plan"
    TITLE_KEY = "plan.title"

    def screen_title(self) -> str:
        """"N-day plan", N from the course (the plain title until the course loads)."""
        if not self.ready:
            return self.s("plan.title")
        days = len(self.svc.course.days)
        return self.s("plan.title_one") if days == 1 else self.s("plan.title_days", days=days)

    def compose_body(self) -> ComposeResult:
        svc, _lang = self.svc, self.lang
        try:
            pacing = svc.pacing()
        except Unavailable as exc:
            pacing = None
            yield Static(self.s("error.unavailable", what=str(exc)), classes="warning")
        self._reached = pacing.plan_day if pacing else 1
        self._today = pacing.expected_day if pacing else 1
        if pacing is not None:
            if pacing.days_ahead > 0:
                pace = self.s("home.ahead", n=pacing.days_ahead)
            elif pacing.days_ahead < 0:
                pace = self.s("home.behind", n=-pacing.days_ahead)
            else:
                pace = self.s("home.on_track")
            yield Static(self.s("plan.summary", reached=self._reached, today=self._today,
                                pace=pace, h=f"{pacing.hours_left:g}"), id="plan-summary")
        table: DataTable[str] = DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="plan-detail", classes="panel")

    def after_recompose(self) -> None:
        svc, lang = self.svc, self.lang
        course = svc.course
        table = self.query_one("#plan-table", DataTable)
        labs = course.has_labs  # a course without labs has no Labs column
        table.add_columns(self.s("plan.col.day"), self.s("plan.col.status"),
                          self.s("plan.col.phase"), self.s("plan.col.title"),
                          self.s("plan.col.hours"), *([self.s("plan.col.labs")] if labs else []))
        phases = {p.id: p for p in course.phases}
        last_phase = None
        for d in course.days:
            phase = phases.get(d.phase)
            phase_name = phase.title.get(lang) if phase and d.phase != last_phase else ""
            last_phase = d.phase
            if d.day < self._reached:
                status = "✓ " + self.s("plan.done")
            elif d.day == self._reached:
                status = "▶ " + self.s("plan.here")
            else:
                status = ""
            if d.day == self._today and d.day != self._reached:
                status = (status + " ◆ " + self.s("plan.today")).strip()
            table.add_row(str(d.day), status, phase_name, d.title.get(lang),
                          f"{d.theory_hours:g}+{d.practice_hours:g}",
                          *([", ".join(d.labs)] if labs else []), key=str(d.day))
        table.move_cursor(row=max(0, min(len(course.days), self._reached) - 1))
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        svc, lang = self.svc, self.lang
        d = svc.course.day(int(event.row_key.value))
        lines = [f"[b]{self.s('home.day', day=d.day, total=len(svc.course.days), title=d.title.get(lang))}[/]"]
        if d.concepts:
            lines.append(self.s("plan.concepts") + " "
                         + ", ".join(svc.concept_title(c, lang) for c in d.concepts))
        for a in d.activities:
            lines.append("• " + a.get(lang))
        self.query_one("#plan-detail", Static).update("\n".join(lines))
