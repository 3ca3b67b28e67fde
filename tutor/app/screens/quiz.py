"""Quiz: the prompt, an answer box with a live preview, feedback, hints with their cost.

Preview and grading run in thread workers (sympy loads there, never on the event loop); their
results come back as ``PreviewReady`` / ``GradeFinished``. Recording the attempt is a fast
SQLite append done on the loop when the verdict arrives.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static
from textual.worker import get_current_worker

from tutor.app.messages import GradeFinished, PreviewReady
from tutor.app.screens.base import TutorInput, TutorScreen
from tutor.app.services import Unavailable, unicode_bar

STATUS_STYLE = {"correct": "green", "partial": "yellow", "incorrect": "red", "invalid": "magenta",
                "undetermined": "cyan", "timeout": "cyan"}


class QuizScreen(TutorScreen):
    """Practise one question at a time; the engine picks the next."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #quiz-body {
        padding: 0 1;
    }

    #quiz-head {
        color: $text-muted;
    }

    #prompt {
        margin: 1 0;
    }

    #preview {
        height: auto;
        min-height: 1;
        color: $text-muted;
    }

    #quiz-buttons {
        height: auto;
        margin: 1 0 0 0;
    }

    #quiz-buttons Button {
        margin-right: 1;
    }

    #hints {
        height: auto;
        color: $warning;
    }

    #feedback {
        height: auto;
        margin-top: 1;
    }
    """

    TITLE_KEY = "quiz.title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="screen.back"),
        Binding("f3", "hint", "Hint", id="quiz.hint"),
        Binding("ctrl+n,f4", "next", "Next", id="quiz.next"),
    ]

    def __init__(self, concept_id: str | None = None, question_id: str | None = None,
                 placement: str | None = None) -> None:
        super().__init__()
        self.placement = placement
        """External prerequisite whose diagnostic this is (answers are scored, not logged)."""
        self.placement_queue: list[str] = []
        """The diagnostic's question ids."""
        self.placement_results: dict[str, bool] = {}
        """Question id -> answered correctly (first valid answer)."""
        self.placement_passed: bool | None = None
        """The diagnostic's outcome once recorded."""
        self.concept_id = concept_id
        """The concept being practised (may change when the engine moves on)."""
        self.question_id = question_id
        """The question shown; None when the concept has no questions."""
        self.hints_used = 0
        """Hints revealed for this question."""
        self.started = time.perf_counter()
        self.last_verdict: Any = None
        """The latest verdict for this question (tests read it)."""
        self.wrong_tries = 0
        """Incorrect answers to this question (the worked solution shows after two)."""
        self.assessing: str | None = None
        """A text answer waiting for the learner's self-assessment (the next submit is the
        numbers of the rubric points it covered); None otherwise."""
        self.draft = ""
        """The answer being typed (kept when the screen re-renders, e.g. a language switch)."""
        self._left = False
        self.last_recorded: Any = None
        """The latest ``Recorded`` (mastery before/after, unlocked)."""

    def _question(self, question_id: str) -> Any:
        """The question as this learner sees it: options (and ordering items) in the learner's
        own order, labelled as displayed, so the letters typed are graded in that order."""
        from graders.answers.shuffle import for_learner

        learner = getattr(self.svc, "learner", None)
        return for_learner(self.svc.course.questions[question_id],
                           str(learner) if learner is not None else None)

    def _pick(self, cid: str | None) -> str | None:
        """The concept's first question not answered in this session (else its first)."""
        if cid is None:
            return None
        qs = self.svc.questions_for(cid)
        answered = self.svc.answered
        fresh = [q for q in qs if q.id not in answered]
        pool = fresh or qs
        return pool[0].id if pool else None

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        svc, lang = self.svc, self.lang
        if self.placement and not self.placement_queue:
            self.placement_queue = svc.placement_questions(self.placement)
            if not self.placement_queue:
                yield Static(self.s("quiz.placement_none",
                                    title=svc.concept_title(self.placement, lang)),
                             classes="warning")
                return
            self.question_id = self.placement_queue[0]
        if self.question_id is None:
            self.question_id = self._pick(self.concept_id)
        if self.question_id is None:
            yield Static(self.s("quiz.none", concept=self.concept_id or "—"), classes="warning")
            return
        q = self._question(self.question_id)
        cid = self.concept_id or q.concepts[0]
        with VerticalScroll(id="quiz-body"):
            state = svc.mastery().get(cid) if not self.placement else None
            if self.placement:
                head = self.s("quiz.placement_head", title=svc.concept_title(self.placement, lang),
                              n=self.placement_queue.index(q.id) + 1,
                              total=len(self.placement_queue))
            else:
                head = self.s("quiz.head", id=q.id, level=q.level,
                              concepts=", ".join(svc.concept_title(c, lang) for c in q.concepts))
            yield Static(head, id="quiz-head")
            if state is not None and state.state == "locked":
                yield Static(self.s("quiz.practice_mode"), classes="warning")
            prompt = svc.prompt(q, lang)
            if q.options:
                prompt = _esc(prompt) + "\n" + "\n".join(
                    f"  [b]{o.id})[/] {_esc(o.text.get(lang))}" for o in q.options)
            yield Static(_esc(prompt) if not q.options else prompt, id="prompt")
            yield TutorInput(self.draft, placeholder=self._placeholder(q), id="answer")
            yield Static(self.s("quiz.preview_idle"), id="preview")
            with Horizontal(id="quiz-buttons"):
                yield Button(self.s("quiz.submit"), id="submit", variant="primary", compact=True,
                             tooltip=self.s("tip.quiz.submit"))
                yield Button(self._hint_label(q), id="hint", compact=True,
                             tooltip=self.s("tip.quiz.hint"), disabled=not q.hints)
                yield Button(self.s("key.quiz.next"), id="next", compact=True,
                             tooltip=self.s("tip.quiz.next"))
                yield Button(self.s("quiz.to_lesson"), id="to-lesson", compact=True,
                             disabled=self.placement is not None)
            yield Static("", id="hints")
            yield Static("", id="feedback")

    def _placeholder(self, q: Any) -> str:
        return placeholder_text(q, self.lang)

    def _hint_label(self, q: Any) -> str:
        if not q.hints:
            return self.s("quiz.no_hints")
        if self.hints_used >= len(q.hints):
            return self.s("quiz.hints_all")
        cost = q.hints[self.hints_used].cost
        return self.s("quiz.hint_btn", n=self.hints_used + 1, total=len(q.hints),
                      cost=f"{cost:.0%}")

    def on_mount(self) -> None:
        # TutorScreen.on_mount also runs (Textual dispatches handlers along the MRO)
        self.warm_grader()

    @work(thread=True, exclusive=True, exit_on_error=False, group="warmup")
    def warm_grader(self) -> None:
        """Import sympy and start the grading pool while the learner reads the prompt."""
        try:
            self.svc.warm_up()
        except Exception:  # grading will report the problem when it is needed
            pass

    def after_recompose(self) -> None:
        for inp in self.query("#answer").results(Input):
            inp.focus()
        self._show_hints()

    # ------------------------------------------------------------------ preview
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "answer" or self.question_id is None:
            return
        self.draft = event.value
        if not event.value.strip():
            self.query_one("#preview", Static).update(self.s("quiz.preview_idle"))
            return
        self.run_preview(self.question_id, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def run_preview(self, question_id: str, answer: str) -> None:
        svc, lang = self.svc, self.lang
        q = self._question(question_id)
        try:
            pv = svc.preview(q, answer, lang)
            err = None
        except Unavailable as exc:
            pv, err = None, str(exc)
        except Exception as exc:  # the grader broke: a result for the learner, not a crash
            pv, err = None, f"{type(exc).__name__}: {exc}"
        if not get_current_worker().is_cancelled:
            self.post_message(PreviewReady(answer, pv, err))

    def on_preview_ready(self, message: PreviewReady) -> None:
        try:
            current = self.query_one("#answer", Input).value
            target = self.query_one("#preview", Static)
        except Exception:
            return
        if message.answer != current:
            return  # stale
        if message.error:
            target.update(self.s("quiz.preview_unavailable", why=message.error))
            return
        pv = message.preview
        if getattr(pv, "valid", False):
            text = self.s("quiz.read_as", expr=_esc(str(getattr(pv, "interpreted_as", ""))))
        else:
            text = "[magenta]" + self.s("quiz.cannot_read",
                                        why=_esc(str(getattr(pv, "error", "") or ""))) + "[/]"
        warnings = list(getattr(pv, "warnings", []) or [])
        if warnings:
            text += "\n[yellow]" + "; ".join(_esc(str(w)) for w in warnings) + "[/]"
        target.update(text)

    # ------------------------------------------------------------------ grading
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "answer":
            self.action_submit()

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#hint")
    def _hint_pressed(self) -> None:
        self.action_hint()

    @on(Button.Pressed, "#next")
    async def _next_pressed(self) -> None:
        await self.action_next()

    @on(Button.Pressed, "#to-lesson")
    def _to_lesson_pressed(self) -> None:
        if not self.question_id:
            return
        q = self._question(self.question_id)
        cid = self.concept_id or q.concepts[0]
        if cid in self.svc.course.concepts:
            self.tapp.open_lesson(cid)

    def action_submit(self) -> None:
        if self.question_id is None:
            return
        answer = self.query_one("#answer", Input).value
        if not answer.strip():
            self.query_one("#feedback", Static).update(self.s("quiz.empty"))
            return
        if self.assessing is not None:
            self._submit_self_assessment(answer)
            return
        self.query_one("#feedback", Static).update(self.s("quiz.grading"))
        self.query_one("#submit", Button).disabled = True
        self.run_grading(self.question_id, answer, self.hints_used)

    @work(thread=True, exclusive=True, exit_on_error=False, group="grading")
    def run_grading(self, question_id: str, answer: str, hints_used: int) -> None:
        # taken while the screen is attached: a worker thread has no active-app context, and
        # the screen may be dismissed before the verdict comes
        app, svc, lang = self.app, self.svc, self.lang
        q = self._question(question_id)
        t0 = time.perf_counter()
        try:
            verdict = svc.grade(q, answer, lang, hints_used)
            err = None
        except Unavailable as exc:
            verdict, err = None, str(exc)
        except Exception as exc:  # grader broke: say so, keep the app
            verdict, err = None, f"{type(exc).__name__}: {exc}"
        if self._left and verdict is not None and not self.placement:
            # the learner left before the verdict came: still log the attempt (on the UI thread)
            if str(getattr(verdict, "status", "")) != "invalid":
                app.call_from_thread(svc.record, q, answer, verdict, hints_used,
                                     time.perf_counter() - self.started, svc.seed(q.id))
            return
        self.post_message(GradeFinished(question_id, answer, verdict,
                                        time.perf_counter() - t0, err))

    def _submit_self_assessment(self, ticked: str) -> None:
        """The learner's ticks for a text answer: the verdict that counts (in-process: no
        computer algebra is involved)."""
        from graders.answers.selfassess import parse_points, rubric_points, self_assess

        assert self.question_id is not None and self.assessing is not None
        q = self._question(self.question_id)
        points = parse_points(ticked, len(rubric_points(q, self.lang)))
        if points is None:
            self.query_one("#feedback", Static).update(
                self.s("quiz.self_assess_bad", n=len(q.keywords)))
            return
        verdict = self_assess(q, points, lang=self.lang, hints_used=self.hints_used)
        answer, self.assessing = self.assessing, None
        self.query_one("#answer", Input).value = ""
        self.post_message(GradeFinished(self.question_id, answer, verdict, 0.0, None))

    def on_unmount(self) -> None:
        self._left = True

    def on_grade_finished(self, message: GradeFinished) -> None:
        try:
            self.query_one("#submit", Button).disabled = False
            fb = self.query_one("#feedback", Static)
        except Exception:
            return
        if message.question_id != self.question_id:
            return
        if message.error or message.verdict is None:
            fb.update("[red]" + self.s("quiz.grader_error", why=_esc(message.error or "?")) + "[/]")
            return
        v = message.verdict
        self.last_verdict = v
        status = str(getattr(v, "status", "undetermined"))
        score = float(getattr(v, "score", 0.0) or 0.0)
        style = STATUS_STYLE.get(status, "white")
        lines = [f"[{style} b]{self.s('status.' + status)}[/]  "
                 f"{self.s('quiz.score', score=f'{score:.0%}')}"]
        feedback = str(getattr(v, "feedback", "") or "")
        if feedback:
            lines.append(_esc(feedback))
        interpreted = str(getattr(v, "interpreted_as", "") or "")
        if interpreted:
            lines.append(f"[dim]{self.s('quiz.read_as', expr=_esc(interpreted))}[/]")
        if status == "invalid":
            lines.append(f"[dim]{self.s('quiz.not_counted')}[/]")
            self._show_feedback(fb, lines)
            return
        q = self._question(self.question_id)
        if self.placement:
            self._placement_answer(q.id, status == "correct", lines)
            self._show_feedback(fb, lines)
            return
        try:
            rec = self.svc.record(q, message.answer, v, self.hints_used,
                                  time.perf_counter() - self.started, self.svc.seed(q.id))
        except Exception as exc:  # store broke: the verdict still shows
            lines.append("[red]" + self.s("quiz.not_saved", why=_esc(str(exc))) + "[/]")
            self._show_feedback(fb, lines)
            return
        self.last_recorded = rec
        self._answered_add(q.id)
        cid = q.concepts[0]
        lines.append(self.s("quiz.mastery", concept=self.svc.concept_title(cid, self.lang),
                            before=f"{rec.before:.2f}", after=f"{rec.after:.2f}",
                            bar=unicode_bar(rec.after, 12)))
        if str(getattr(v, "note", "")) == "self-assess":
            # keywords only advise: the learner ticks the rubric points against the model answer
            self.assessing = message.answer
            if q.solution is not None:
                lines.append(f"\n[b]{self.s('quiz.model_answer')}[/] "
                             + _esc(q.solution.get(self.lang)))
            lines.append("[b]" + self.s("quiz.self_assess") + "[/]")
            self.query_one("#answer", Input).value = ""
            self._show_feedback(fb, lines)
            return
        if abs(rec.after - rec.before) < 1e-9:
            lines.append(f"[dim]{self.s('quiz.first_only')}[/]")
        if rec.unlocked:
            names = [self._item_title(x) for x in rec.unlocked]
            lines.append("[green b]" + self.s("quiz.unlocked", names=", ".join(names)) + "[/]")
            self.notify(self.s("quiz.unlocked", names=", ".join(names)), timeout=6)
        solution = getattr(q, "solution", None)
        self.wrong_tries += status in ("incorrect", "partial")
        if solution is not None and (status == "correct" or self.wrong_tries >= 2):
            lines.append(f"\n[b]{self.s('quiz.solution')}[/] " + _esc(solution.get(self.lang)))
        self._show_feedback(fb, lines)

    def _show_feedback(self, fb: Static, lines: list[str]) -> None:
        """Show the feedback and scroll it into view (it is below the fold at 80x24)."""
        fb.update("\n".join(lines))
        self.call_after_refresh(fb.scroll_visible, animate=False)

    def _item_title(self, item: str) -> str:
        course = self.svc.course
        if item in course.labs:
            return course.labs[item].title.get(self.lang)
        return self.svc.concept_title(item, self.lang)

    def _answered_add(self, qid: str) -> None:
        self.svc.answered.add(qid)

    def _placement_answer(self, qid: str, correct: bool, lines: list[str]) -> None:
        """Score a diagnostic answer; after the last one, record the placement result."""
        self.placement_results.setdefault(qid, correct)
        if len(self.placement_results) < len(self.placement_queue) or self.placement is None:
            return
        n_ok = sum(self.placement_results.values())
        total = len(self.placement_queue)
        try:
            self.placement_passed = self.svc.record_placement(self.placement, n_ok, total)
        except Exception as exc:  # engine refused: say so
            lines.append("[red]" + self.s("quiz.not_saved", why=_esc(str(exc))) + "[/]")
            return
        result = self.s("quiz.placement_passed" if self.placement_passed
                        else "quiz.placement_failed")
        lines.append("[b]" + self.s("quiz.placement_done", correct=n_ok, total=total,
                                    result=result) + "[/]")

    # ------------------------------------------------------------------ hints / next
    def action_hint(self) -> None:
        if self.question_id is None:
            return
        q = self._question(self.question_id)
        if self.hints_used >= len(q.hints):
            return
        self.hints_used += 1
        self.query_one("#hint", Button).label = self._hint_label(q)
        self._show_hints()

    def _show_hints(self) -> None:
        if self.question_id is None:
            return
        q = self._question(self.question_id)
        shown = [f"💡 {h.text.get(self.lang)} [dim](−{h.cost:.0%})[/]"
                 for h in q.hints[: self.hints_used]]
        for w in self.query("#hints").results(Static):
            w.update("\n".join(shown))

    async def action_next(self) -> None:
        svc = self.svc
        if self.placement:
            rest = [q for q in self.placement_queue if q not in self.placement_results]
            if not rest:
                self.tapp.pop_screen()
                return
            await self._load(rest[0], None)
            return
        try:
            nxt = svc.next_item(self.lang)
        except Exception:
            nxt = None
        answered = svc.answered
        qid: str | None = None
        if nxt is not None and nxt.kind not in ("lab", "done"):
            if nxt.item_id in svc.course.questions and nxt.item_id not in answered:
                qid = nxt.item_id
            elif nxt.concept:
                fresh = [q for q in svc.questions_for(nxt.concept) if q.id not in answered]
                qid = fresh[0].id if fresh else None
        if qid is None and self.concept_id:
            fresh = [q for q in svc.questions_for(self.concept_id) if q.id not in answered]
            qid = fresh[0].id if fresh else None
        if qid is None:
            if nxt is not None and nxt.kind == "lab" and nxt.item_id:
                self.tapp.pop_screen()
                self.tapp.open_lab(nxt.item_id)
                return
            self.notify(self.s("quiz.no_more"))
            return
        await self._load(qid, nxt.concept if nxt is not None and nxt.concept else None)

    async def _load(self, qid: str, concept: str | None) -> None:
        """Show question ``qid`` (fresh hints, timer and feedback)."""
        q = self._question(qid)
        self.question_id = qid
        self.concept_id = concept or q.concepts[0]
        self.hints_used = 0
        self.wrong_tries = 0
        self.assessing = None
        self.draft = ""
        self.started = time.perf_counter()
        self.last_verdict = None
        self._rendered = ("", -1)
        await self.recompose()
        self.after_recompose()


_KINDS = {f"quiz.placeholder.{k}" for k in
          ("expression", "numeric", "equation", "set", "inequality", "asymptotic", "choice",
           "multi", "ordering", "text", "derivation")}

_SYMBOLIC = ("expression", "equation", "inequality", "set", "asymptotic")
"""Kinds whose answers are written in the question's symbols."""


def placeholder_text(q: Any, lang: str) -> str:
    """The answer box's hint, drawn from the question itself: its symbols or its option ids.

    Never an example answer from another course (and never one that could be this question's
    answer): symbolic kinds name the symbols to use, option kinds show this question's ids.
    """
    from tutor.app.strings import s

    kind = str(getattr(q, "kind", ""))
    symbols = list(getattr(q, "symbols", {}) or {})
    options = [str(o.id) for o in getattr(q, "options", []) or []]
    if kind in _SYMBOLIC and symbols:
        return s(f"quiz.placeholder.{kind}.in", lang, symbols=", ".join(symbols))
    if kind == "choice" and options:
        return s("quiz.placeholder.choice.ids", lang, ids=" / ".join(options))
    if kind in ("multi", "ordering") and options:
        return s(f"quiz.placeholder.{kind}.ids", lang, ids=", ".join(options))
    key = f"quiz.placeholder.{kind}"
    return s(key, lang) if key in _KINDS else s("quiz.placeholder", lang)


def _esc(text: str) -> str:
    """Escape Textual markup in learner or grader text (answers like `[a, b]` stay literal)."""
    from textual.markup import escape

    return escape(text)
