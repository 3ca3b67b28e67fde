"""Report: the rubric (40/30/20/10) with bars, per-bucket evidence, and export."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Static

from tutor.app.screens.base import TutorScreen
from tutor.app.services import Unavailable, unicode_bar


class ReportScreen(TutorScreen):
    """The learner's standing against the course rubric."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #report-body {
        padding: 0 1;
    }

    #report-total {
        text-style: bold;
        margin: 0 0 1 0;
    }
    """

    MODE = "report"
    TITLE_KEY = "report.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export", id="report.export"),
    ]

    def compose_body(self) -> ComposeResult:
        try:
            buckets = self.svc.report(self.lang)
        except Unavailable as exc:
            yield Static(self.s("error.unavailable", what=str(exc)), classes="warning")
            return
        total = self.svc.report_total()  # the one rubric formula, as `tutor progress`
        self.total = total
        """Weighted total out of 100 (tests read it)."""
        with VerticalScroll(id="report-body"):
            yield Static(self.s("report.total_line", total=f"{total:.1f}",
                                bar=unicode_bar(total / 100, 30)), id="report-total")
            for b in buckets:
                with Vertical(classes="panel bucket", id=f"bucket-{b.bucket_id}"):
                    if b.fraction is None:
                        score = self.s("report.no_evidence")
                        bar = unicode_bar(0, 24)
                    else:
                        score = f"{b.fraction * b.weight:.1f} / {b.weight}"
                        bar = unicode_bar(b.fraction, 24)
                    yield Static(f"[b]{b.title}[/] [dim]({b.weight} %)[/]  {bar}  {score}",
                                 classes="bucket-head")
                    yield Static("\n".join(f"  • {e}" for e in b.evidence), classes="bucket-ev")
            yield Button(self.s("key.report.export"), id="export", compact=True,
                         tooltip=self.s("tip.report.export"))
            yield Static("", id="export-result")

    def after_recompose(self) -> None:
        for body in self.query("#report-body"):
            body.focus()  # arrows / PgDn scroll the report; e exports

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self.action_export()

    def action_export(self) -> None:
        try:
            paths = self.svc.export_report(self.lang)
        except Exception as exc:  # unwritable dir etc.: tell, don't crash
            self.notify(self.s("report.export_failed", why=str(exc)), severity="error")
            return
        self.exported = paths
        text = self.s("report.exported", paths=", ".join(str(p) for p in paths))
        self.query_one("#export-result", Static).update(text)
        self.notify(text)
