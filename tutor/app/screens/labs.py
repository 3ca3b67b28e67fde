"""Labs: lock states with reasons, a lab's README, start the workspace, run it with a live log
and a progress bar (a thread worker; the UI never blocks), then the checks and rubric share."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Markdown,
    OptionList,
    ProgressBar,
    RichLog,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from tutor.app.messages import LabFinished, LabLog, LabProgress
from tutor.app.screens.base import TutorScreen
from tutor.app.services import CheckView, LabOutcome, Unavailable


class LabsScreen(TutorScreen):
    """The lab catalogue and the lab runner."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #labs-body {
        height: 1fr;
    }

    #labs-list {
        width: 34;
        height: 1fr;
    }

    #labs-detail {
        width: 1fr;
        height: 1fr;
    }

    #lab-head {
        height: auto;
        padding: 0 1;
    }

    #lab-buttons {
        height: auto;
        padding: 0 1;
    }

    #lab-buttons Button {
        margin-right: 1;
    }

    #lab-progress {
        padding: 0 1;
        height: 1;
    }

    #lab-status {
        padding: 0 1;
        height: 1;
        color: $text-muted;
    }

    #lab-tabs {
        height: 1fr;
    }

    #lab-log {
        height: 1fr;
    }
    """

    MODE = "labs"
    TITLE_KEY = "labs.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "start_workspace", "Workspace", id="labs.start"),
        Binding("u", "run(True)", "Run solution", id="labs.run_solution"),
        Binding("y", "run(False)", "Run mine", id="labs.run_mine"),
        Binding("k", "stop", "Stop", id="labs.stop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: str | None = None
        """The lab shown on the right."""
        self.running: str | None = None
        """The lab running now, if any."""
        self.outcome: LabOutcome | None = None
        """The latest finished run (tests read it)."""
        self._logged_decile = -1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":  # only offered while a lab runs
            return self.running is not None
        return True

    def compose_body(self) -> ComposeResult:
        svc, lang = self.svc, self.lang
        try:
            status = svc.lab_status()
        except Unavailable as exc:
            status = {}
            yield Static(self.s("error.unavailable", what=str(exc)), classes="warning")
        self._status = status
        if self.selected is None and svc.course.labs:
            self.selected = self.tapp.pending_lab or next(iter(svc.course.labs))
        with Horizontal(id="labs-body"):
            options = []
            for lab in svc.course.labs.values():
                unlocked = status.get(lab.id, (False, ""))[0]
                icon = "[green]✓[/]" if unlocked else "[dim]⊘[/]"
                kit = "" if lab.exercise else f" [dim]({self.s('labs.no_kit')})[/]"
                options.append(Option(f"{icon} {lab.id} {lab.title.get(lang)}{kit}", id=lab.id))
            yield OptionList(*options, id="labs-list")
            with Vertical(id="labs-detail"):
                yield Static("", id="lab-head")
                with Horizontal(id="lab-buttons"):
                    yield Button(self.s("key.labs.start"), id="lab-start", compact=True,
                                 tooltip=self.s("tip.labs.start"))
                    yield Button(self.s("key.labs.run_solution"), id="lab-run-solution",
                                 compact=True, variant="primary",
                                 tooltip=self.s("tip.labs.run_solution"))
                    yield Button(self.s("key.labs.run_mine"), id="lab-run-mine", compact=True,
                                 tooltip=self.s("tip.labs.run_mine"))
                yield ProgressBar(total=100, show_eta=False, id="lab-progress")
                yield Static("", id="lab-status")
                with TabbedContent(id="lab-tabs"):
                    with TabPane(self.s("labs.tab.readme"), id="tab-readme"):
                        with VerticalScroll():
                            yield Markdown("", id="lab-readme")
                    with TabPane(self.s("labs.tab.log"), id="tab-log"):
                        yield RichLog(id="lab-log", max_lines=2000, wrap=True, markup=False)
                    with TabPane(self.s("labs.tab.checks"), id="tab-checks"):
                        with VerticalScroll():
                            yield Static(self.s("labs.no_run"), id="lab-checks")

    def after_recompose(self) -> None:
        if self.selected:
            self.select_lab(self.selected)
        if self.outcome is not None:
            self._show_outcome(self.outcome)

    async def on_screen_resume(self) -> None:
        # runs before TutorScreen.on_screen_resume (Textual dispatches along the MRO), which
        # re-renders a stale screen and then selects ``self.selected``
        pending = self.tapp.pending_lab
        if pending:
            self.tapp.pending_lab = None
            self.selected = pending
            if self.ready and not self.is_stale():
                self.select_lab(pending)

    def select_lab(self, lab_id: str) -> None:
        """Show ``lab_id`` on the right and highlight it in the list."""
        svc, lang = self.svc, self.lang
        if lab_id not in svc.course.labs:
            return
        self.selected = lab_id
        lab = svc.lab(lab_id)
        ol = self.query_one("#labs-list", OptionList)
        idx = list(svc.course.labs).index(lab_id)
        if ol.highlighted != idx:
            ol.highlighted = idx
        unlocked, reason = self._status.get(lab_id, (False, ""))
        concepts = ", ".join(svc.concept_title(c, lang) for c in lab.concepts)
        lines = [f"[b]{lab.id} {lab.title.get(lang)}[/]", lab.summary.get(lang),
                 self.s("labs.needs", concepts=concepts)]
        if unlocked:
            lines.append("[green]" + self.s("labs.unlocked") + "[/]")
        else:
            lines.append("[yellow]" + self.s("labs.locked", reason=reason or concepts) + "[/]")
        if lab.gpu != "none":
            lines.append(self.s(f"labs.gpu.{lab.gpu}"))
        self.query_one("#lab-head", Static).update("\n".join(lines))
        readme = svc.lab_readme(lab_id, lang)
        self.query_one("#lab-readme", Markdown).update(
            readme if readme is not None else self.s("labs.no_readme"))
        has_kit = bool(lab.exercise)
        for bid in ("#lab-start", "#lab-run-solution", "#lab-run-mine"):
            self.query_one(bid, Button).disabled = not has_kit or self.running is not None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != event.option_list.highlighted:
            return  # stale: the highlight moved again (e.g. open_lab) before this arrived
        if event.option.id and event.option.id != self.selected:
            self.select_lab(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "lab-start":
            self.action_start_workspace()
        elif event.button.id == "lab-run-solution":
            self.action_run(True)
        elif event.button.id == "lab-run-mine":
            self.action_run(False)

    def action_start_workspace(self) -> None:
        if not self.selected:
            return
        try:
            path = self.svc.start_workspace(self.selected)
        except Unavailable as exc:
            self.notify(self.s("error.unavailable", what=str(exc)), severity="warning")
            return
        except FileExistsError as exc:
            self.notify(self.s("labs.workspace_exists", path=str(exc)), severity="warning")
            return
        except Exception as exc:  # copying failed: say why
            self.notify(str(exc), severity="error")
            return
        self.notify(self.s("labs.workspace_ready", path=str(path)))

    def action_stop(self) -> None:
        """Stop the running lab (its process group is killed by the runner)."""
        if self.running is not None:
            self.svc.cancel_lab()

    def action_run(self, solution: bool) -> None:
        lab_id = self.selected
        if not lab_id or self.running is not None or not self.svc.lab(lab_id).exercise:
            return
        self.running = lab_id
        self.outcome = None
        self.refresh_bindings()
        for bid in ("#lab-start", "#lab-run-solution", "#lab-run-mine"):
            self.query_one(bid, Button).disabled = True
        bar = self.query_one("#lab-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self._logged_decile = -1
        self.query_one("#lab-status", Static).update(self.s("labs.starting"))
        log = self.query_one("#lab-log", RichLog)
        log.clear()
        log.write(self.s("labs.running", lab=lab_id,
                         what=self.s("labs.solution" if solution else "labs.mine")))
        self.query_one("#lab-tabs", TabbedContent).active = "tab-log"
        self.run_lab(lab_id, solution)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab")
    def run_lab(self, lab_id: str, solution: bool) -> None:
        worker = get_current_worker()
        svc = self.svc  # worker threads have no active-app context: take it before starting
        t0 = time.perf_counter()
        checks: list[CheckView] = []
        try:
            done = False
            for ev in svc.run_lab(lab_id, solution):
                if worker.is_cancelled:
                    break
                if ev.kind == "progress":
                    self.post_message(LabProgress(lab_id, ev.step, ev.total, ev.loss))
                elif ev.kind == "log":
                    self.post_message(LabLog(lab_id, ev.text))
                elif ev.kind == "error":
                    raise RuntimeError(ev.text)
                elif ev.kind == "done":
                    done = True
                    checks = list(getattr(ev, "checks", []) or [])
            outcome = LabOutcome(done, checks, None if done else "no 'done' event",
                                 time.perf_counter() - t0, solution)
        except Unavailable as exc:
            outcome = LabOutcome(False, [], str(exc), time.perf_counter() - t0, solution)
        except Exception as exc:  # a failed run is a result, shown in the log
            outcome = LabOutcome(False, checks, f"{type(exc).__name__}: {exc}",
                                 time.perf_counter() - t0, solution)
        self.post_message(LabFinished(lab_id, outcome))

    def on_lab_progress(self, message: LabProgress) -> None:
        bar = self.query_one("#lab-progress", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.step)
        loss = f"{message.loss:.4f}" if message.loss is not None else "—"
        line = self.s("labs.step", step=message.step, total=message.total, loss=loss)
        self.query_one("#lab-status", Static).update(line)
        # a line in the log every 10 % (progress messages collapse, so steps may be skipped)
        decile = 10 * message.step // max(1, message.total)
        if decile != self._logged_decile:
            self._logged_decile = decile
            self.query_one("#lab-log", RichLog).write(line)

    def on_lab_log(self, message: LabLog) -> None:
        self.query_one("#lab-log", RichLog).write(message.line)

    def on_lab_finished(self, message: LabFinished) -> None:
        self.running = None
        self.refresh_bindings()
        outcome: LabOutcome = message.result
        self.outcome = outcome
        self.svc.lab_finished(message.lab_id, outcome)
        self._rendered = (self.lang, self.svc.version)
        log = self.query_one("#lab-log", RichLog)
        if outcome.ok:
            bar = self.query_one("#lab-progress", ProgressBar)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
            log.write(self.s("labs.finished", s=f"{outcome.seconds:.1f}"))
        else:
            log.write(self.s("labs.failed", why=outcome.error or "?"))
        self._show_outcome(outcome)
        if self.selected:
            self.select_lab(self.selected)
        if outcome.checks:
            self.query_one("#lab-tabs", TabbedContent).active = "tab-checks"

    def _show_outcome(self, outcome: LabOutcome) -> None:
        lines: list[str] = []
        if not outcome.ok:
            lines.append("[red]" + self.s("labs.failed", why=outcome.error or "?") + "[/]")
        for c in outcome.checks:
            mark = {"pass": "[green]✓[/]", "fail": "[red]✗[/]"}.get(c.status, "[yellow]![/]")
            bucket = self.s(f"bucket.{c.bucket}")
            lines.append(f"{mark} {c.check_id} [dim]({bucket})[/] {c.points:g}/{c.max_points:g}"
                         f" — {_esc(c.message)}")
        if outcome.checks and outcome.solution:
            lines += ["", self.s("labs.solution_not_counted")]
        elif outcome.checks:
            lines.append("")
            for bucket in ("implementation", "analysis", "innovation"):
                mine = [c for c in outcome.checks if c.bucket == bucket]
                if not mine:
                    continue
                got = sum(c.points for c in mine)
                total = sum(c.max_points for c in mine)
                weight = _bucket_weight(self.svc, bucket)
                share = got / total * weight if total else 0.0
                lines.append(self.s("labs.contribution", got=f"{got:g}", total=f"{total:g}",
                                    share=f"{share:.1f}", weight=weight,
                                    bucket=self.s(f"bucket.{bucket}")))
        elif outcome.ok:
            lines.append(self.s("labs.no_checks"))
        self.query_one("#lab-checks", Static).update("\n".join(lines))


def _esc(text: str) -> str:
    from textual.markup import escape

    return escape(text)


def _bucket_weight(svc: Any, bucket: str) -> int:
    for b in svc.course.meta.rubric.buckets:
        if b.id == bucket:
            return int(b.weight)
    return 0
