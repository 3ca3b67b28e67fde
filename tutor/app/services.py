"""What the screens ask of the rest of the tutor, in one place, with plain fallbacks.

Screens never import the engine, the grader, the lab runner or the estimator themselves: they call
``Services``. Each dependency can be injected (tests pass fakes through ``make_app``) or is
imported lazily from its package on first use; when a package is missing or broken, the call
raises ``Unavailable`` with a reason the screen shows in words, and the rest of the app works on.

This module imports nothing heavy (no Textual, no sympy, no torch) at import time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.app.modes import ALL_MODES, OPTIONAL_MODES

if TYPE_CHECKING:
    from tutor.curriculum.models import Concept, Course, Lab

STATES = ("locked", "ready", "learning", "mastered", "review")
"""Display states of a concept on the map and home screen."""


class Unavailable(Exception):
    """A dependency is missing or failed; the message says which and why (shown to the learner)."""


@dataclass
class ConceptView:
    """A concept's state as the app shows it."""

    concept_id: str
    """Concept id."""
    state: str
    """One of ``STATES``."""
    p_known: float = 0.0
    """P(known) from the mastery model."""
    attempts: int = 0
    """Graded attempts recorded."""


@dataclass
class NextItem:
    """The recommended next step."""

    kind: str
    """question | lesson | lab | review | done."""
    item_id: str | None
    """Question id, concept id, or lab id."""
    concept: str | None
    """The concept it serves, when there is one."""
    reason: str
    """Why, in words (localised by whoever produced it)."""


@dataclass
class PacingView:
    """Where the learner stands in the course's plan."""

    plan_day: int
    """The day the learner's progress has reached."""
    expected_day: int
    """The day the calendar says they should be on."""
    days_ahead: int
    """plan_day - expected_day (negative: behind)."""
    hours_left: float
    """Planned hours not yet done."""


@dataclass
class Recorded:
    """What recording an attempt changed."""

    before: float
    """P(known) of the question's first concept before."""
    after: float
    """... and after."""
    unlocked: list[str] = field(default_factory=list)
    """Concept and lab ids newly unlocked."""


@dataclass
class LabEvent:
    """One event of a lab run, as the lab screen consumes it."""

    kind: str
    """progress | log | done | error."""
    step: int = 0
    """Steps done (progress)."""
    total: int = 0
    """Steps planned (progress)."""
    loss: float | None = None
    """Latest loss (progress)."""
    text: str = ""
    """Log line or error message."""
    checks: list[Any] = field(default_factory=list)
    """``CheckView``s, on the final ``done`` event when the runner checked the artifacts."""


@dataclass
class CheckView:
    """One lab check's outcome."""

    check_id: str
    """Check id."""
    bucket: str
    """Rubric bucket."""
    points: float
    """Points earned."""
    max_points: float
    """Points available."""
    status: str
    """pass | fail | error."""
    message: str
    """What the check found, localised."""


@dataclass
class LabOutcome:
    """The end of a lab run."""

    ok: bool
    """Whether the run itself completed."""
    checks: list[CheckView] = field(default_factory=list)
    """The checks, when they ran."""
    error: str | None = None
    """Why the run or the checks failed."""
    seconds: float = 0.0
    """Wall time."""
    solution: bool = False
    """Whether this was a run of the reference solution (never counts in the rubric)."""

    @property
    def points(self) -> tuple[float, float]:
        return (sum(c.points for c in self.checks), sum(c.max_points for c in self.checks))


@dataclass
class BucketView:
    """A rubric bucket with its score and evidence."""

    bucket_id: str
    """concepts | implementation | analysis | innovation."""
    title: str
    """Localised title."""
    weight: int
    """Weight in percent."""
    fraction: float | None
    """Score in 0..1, None when there is no evidence yet."""
    evidence: list[str] = field(default_factory=list)
    """Lines of evidence, localised."""


def _text(obj: Any, lang: str) -> str:
    """Localised text from a Text model, a {en, zh-TW} dict or a plain string."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return str(obj.get(lang) or obj.get("en") or next(iter(obj.values()), ""))
    getter = getattr(obj, "get", None)
    if callable(getter):
        return str(getter(lang))
    return str(obj)


def _today(clock: Callable[[], datetime]) -> date:
    return clock().date()


class Services:
    """The app's single door to course, progress, grading, labs and estimates."""

    def __init__(
        self,
        *,
        course: Course | None = None,
        store: Any = None,
        engine: Any = None,
        grader: Any = None,
        lab_runner: Any = None,
        estimator: Any = None,
        learner: str = "default",
        clock: Callable[[], datetime] | None = None,
        db_path: str | Path | None = None,
        curriculum: str | Path | None = None,
        content_root: Path | None = None,
    ) -> None:
        self._course = course
        self._store = store
        self._engine = engine
        self._grader = grader
        self._lab_runner = lab_runner
        self._estimator = estimator
        self.learner = learner
        """The learner profile whose progress is shown."""
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        """Wall clock; tests inject a fixed one."""
        self._db_path = Path(db_path) if db_path else None
        self._curriculum = Path(curriculum) if curriculum else None
        self._content_root = content_root
        self.lang = "en"
        """Language of the engine's reasons (the app keeps it in step with its own)."""
        self.store_error: str | None = None
        """Why the last write to the store failed, if it did."""
        self.engine_error: str | None = None
        """Why progress tracking is off, when it is."""
        self.version = 0
        """Bumped whenever progress changes, so screens know to refresh."""
        self._lab_results: dict[str, LabOutcome] = {}
        self._load_lock = threading.Lock()
        self._loading = False
        self.active_run: Any = None
        """The real lab run in progress (for cancelling it)."""
        self.answered: set[str] = set()
        """Question ids answered in this app session: the quiz offers a concept's fresh questions
        first (the store keeps every attempt; this only orders what is offered next)."""
        self.load_error: str | None = None
        """Why the course could not be loaded, in words (shown instead of the screens)."""

    # ------------------------------------------------------------------ course
    @property
    def course(self) -> Course:
        """The course (loaded on first use; a second caller waits for the first load)."""
        if self._course is None:
            with self._load_lock:
                if self._course is None:
                    from tutor.curriculum import load_course

                    self._course = load_course(self._curriculum)
        return self._course

    @property
    def course_loaded(self) -> bool:
        """Whether the course (and the store) are ready: screens show a loading line until then."""
        return self._course is not None and not self._loading

    def load(self) -> None:
        """Load the course and open the progress store (the app calls this in a worker).

        On failure ``load_error`` holds the problems in words (the course does not validate).
        """
        self._loading = True
        try:
            self._load()
        finally:
            self._loading = False

    def _load(self) -> None:
        try:
            _ = self.course
        except Exception as exc:
            problems = getattr(exc, "problems", None)
            if problems:
                lines = [p.format(self.lang) if hasattr(p, "format") else str(p)
                         for p in problems[:12]]
                more = len(problems) - len(lines)
                self.load_error = "\n".join(lines + ([f"... and {more} more"] if more else []))
            else:
                self.load_error = f"{type(exc).__name__}: {exc}"
            return
        self.engine  # noqa: B018 - opens the store (and creates the learner) off the UI thread
        self.version += 1

    def concept(self, cid: str) -> Concept:
        return self.course.concepts[cid]

    def modes(self) -> tuple[str, ...]:
        """The top-level screens this course has: Labs only with labs, Calculators only when
        course.yaml opts in (``features: [calculators]``). Until the course loads: the rest."""
        if not self.course_loaded or self.load_error is not None:
            return tuple(m for m in ALL_MODES if m not in OPTIONAL_MODES)
        course = self.course
        return tuple(m for m in ALL_MODES
                     if (m != "labs" or course.has_labs)
                     and (m != "calculators" or course.has_feature("calculators")))

    def course_title(self, lang: str) -> str | None:
        """The course's title in ``lang``, once it is loaded."""
        if not self.course_loaded or self.load_error is not None:
            return None
        return self.course.title(lang)

    def concept_title(self, cid: str, lang: str) -> str:
        c = self.course.concepts.get(cid)
        if c is not None:
            return _text(c.title, lang)
        ext = self.course.externals.get(cid)
        return _text(ext.title, lang) if ext is not None else cid

    def lab(self, lab_id: str) -> Lab:
        return self.course.labs[lab_id]

    def content_root(self) -> Path:
        if self._content_root is not None:
            return self._content_root
        course = self.course
        root = Path(course.root)
        rel = getattr(course.meta, "content_dir", "../../content")
        cand = (root / rel).resolve()
        if cand.is_dir():
            return cand
        from tutor.paths import content_dir

        return content_dir()

    def lesson_markdown(self, page: str, lang: str) -> str | None:
        """The lesson page in ``lang`` (falling back to English), or None when not written."""
        root = self.content_root()
        for lg in (lang, "en"):
            p = root / lg / f"{page}.md"
            if p.is_file():
                return p.read_text(encoding="utf-8")
        return None

    def questions_for(self, cid: str) -> list[Any]:
        """Questions giving evidence on a concept, by level then id."""
        qs = [q for q in self.course.questions.values() if cid in q.concepts]
        return sorted(qs, key=lambda q: (q.level, q.id))

    def generations(self) -> list[list[str]]:
        """Concept ids by topological generation over the prerequisite edges."""
        import networkx as nx

        concepts = self.course.concepts
        order = {cid: i for i, cid in enumerate(concepts)}
        for with_soft in (True, False):  # soft edges may close a cycle: then hard ones only
            g: Any = nx.DiGraph()
            g.add_nodes_from(concepts)
            for c in concepts.values():
                for pre in list(c.requires) + (list(c.recommends) if with_soft else []):
                    if pre in concepts:
                        g.add_edge(pre, c.id)
            try:
                return [sorted(gen, key=order.__getitem__)
                        for gen in nx.topological_generations(g)]
            except nx.NetworkXUnfeasible:
                continue
        return [list(concepts)]

    # ------------------------------------------------------------------ progress
    def now(self) -> datetime:
        """The injected clock's time, timezone-aware (naive values are taken as UTC)."""
        now = self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    @property
    def engine(self) -> Any:
        """The adaptive engine; an in-memory stand-in (``engine_error`` says why) if it fails."""
        if self._engine is None:
            try:
                from tutor.engine import Engine
                from tutor.store import Store

                if self._store is None:
                    from tutor.paths import default_db_path

                    self._store = Store(self._db_path or default_db_path())
                learner_fn = getattr(self._store, "learner", None)
                if learner_fn is not None:  # create the profile with the injected clock's date
                    learner_fn(self.learner, today=self.now().date())
                self._engine = self._call(Engine, self.course, self._store, lang=self.lang)
            except Exception as exc:  # missing package or unusable database: say so, go on
                self.engine_error = f"{type(exc).__name__}: {exc}"
                self._engine = _MemoryEngine(self.course)
        return self._engine

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call an engine method with only the keyword arguments it accepts (now, today, lang)."""
        import inspect

        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        return fn(*args, **{k: v for k, v in kwargs.items() if k in params})

    def switch_learner(self, name: str) -> None:
        """Show another learner profile (created with the clock's date on first use)."""
        store = self._store
        self.learner = name
        learner_fn = getattr(store, "learner", None) if store is not None else None
        if learner_fn is not None:
            learner_fn(name, today=self.now().date())
        self.version += 1

    def set_lang(self, lang: str) -> None:
        """Language of the engine's reasons and warnings."""
        self.lang = lang
        if self._engine is not None and hasattr(self._engine, "lang"):
            self._engine.lang = lang

    def mastery(self) -> dict[str, ConceptView]:
        """Every concept's display state."""
        raw = self._call(self.engine.mastery, self.learner, now=self.now())
        out: dict[str, ConceptView] = {}
        for cid in self.course.concepts:
            st = raw.get(cid)
            if st is None:
                out[cid] = ConceptView(cid, "locked")
                continue
            p = float(getattr(st, "p_known", 0.0) or 0.0)
            attempts = int(getattr(st, "attempts", 0) or 0)
            unlocked = bool(getattr(st, "unlocked", False))
            state = _display_state(str(getattr(st, "state", "") or ""), unlocked, attempts)
            out[cid] = ConceptView(cid, state, p, attempts)
        return out

    def next_item(self, lang: str) -> NextItem:
        rec = self._call(self.engine.next_item, self.learner, now=self.now(),
                         today=self.now().date())
        if rec is None:
            return NextItem("done", None, None, "")
        reason = _text(getattr(rec, "reason", ""), lang)
        key = getattr(rec, "reason_key", None)
        if key:
            from tutor.i18n import MESSAGES, t

            if key in MESSAGES:
                try:
                    reason = t(key, lang, **dict(getattr(rec, "reason_fields", {}) or {}))  # type: ignore[arg-type]
                except (KeyError, IndexError):
                    pass
        return NextItem(
            kind=str(getattr(rec, "kind", "question")),
            item_id=getattr(rec, "id", None),
            concept=getattr(rec, "concept", None),
            reason=reason,
        )

    def due_reviews(self) -> list[str]:
        fn = getattr(self.engine, "due_reviews", None)
        if fn is None:
            return []
        return [getattr(x, "concept", None) or str(x)
                for x in self._call(fn, self.learner, now=self.now())]

    def pacing(self) -> PacingView | None:
        fn = getattr(self.engine, "pacing", None)
        if fn is None:
            return None
        p = fn(self.learner, self.now().date())
        return PacingView(
            plan_day=int(getattr(p, "plan_day", 1)),
            expected_day=int(getattr(p, "expected_day", 1)),
            days_ahead=int(getattr(p, "days_ahead", 0)),
            hours_left=float(getattr(p, "hours_left", 0.0)),
        )

    def lab_status(self) -> dict[str, tuple[bool, str]]:
        fn = getattr(self.engine, "lab_status", None)
        raw = fn(self.learner) if fn is not None else {}
        out: dict[str, tuple[bool, str]] = {}
        for lab_id in self.course.labs:
            v = raw.get(lab_id)
            if v is None:
                out[lab_id] = (False, "")
            else:
                out[lab_id] = (bool(v[0]), str(v[1]) if len(v) > 1 else "")
        return out

    # placement: the external prerequisites (llm-fundamentals ...) that gate level 1
    def placement_questions(self, external: str) -> list[str]:
        fn = getattr(self.engine, "placement_questions", None)
        qs = list(fn(external)) if fn is not None else []
        if not qs:
            qs = [q.id for q in self.course.questions.values() if external in q.concepts]
        return [q for q in qs if q in self.course.questions]

    def record_placement(self, external: str, correct: int, total: int) -> bool:
        fn = getattr(self.engine, "record_placement", None)
        if fn is None:
            raise Unavailable("placement: the engine has no record_placement")
        passed = bool(fn(self.learner, external, correct, total))
        self.version += 1
        return passed

    def skip_external(self, external: str) -> None:
        fn = getattr(self.engine, "skip_external", None)
        if fn is None:
            raise Unavailable("placement: the engine has no skip_external")
        fn(self.learner, external)
        self.version += 1

    def record(self, question: Any, answer: str, verdict: Any, hints_used: int,
               duration_s: float, seed: int | None) -> Recorded:
        """Append the attempt; return the mastery change and what unlocked."""
        cid = next((c for c in question.concepts if c in self.course.concepts),
                   question.concepts[0])
        before_states = self.mastery()
        res = self._call(self.engine.record_attempt, self.learner, question.id, answer, verdict,
                         hints_used, duration_s, seed, now=self.now())
        self.version += 1
        after_states = self.mastery()
        before = getattr(res, "mastery_before", {}).get(cid) if hasattr(res, "mastery_before") \
            else None
        after = getattr(res, "mastery_after", {}).get(cid) if hasattr(res, "mastery_after") \
            else None
        if before is None:
            before = before_states[cid].p_known if cid in before_states else 0.0
        if after is None:
            after = after_states[cid].p_known if cid in after_states else before
        unlocked = [str(x) for x in getattr(res, "newly_unlocked", []) or []]
        unlocked += [str(x) for x in getattr(res, "newly_unlocked_labs", []) or []]
        if not hasattr(res, "newly_unlocked"):  # derive it when the engine does not say
            unlocked = [c for c, v in after_states.items()
                        if v.state != "locked" and before_states[c].state == "locked"]
        return Recorded(float(before), float(after), unlocked)

    def seed(self, question_id: str = "") -> int:
        """The learner's variant seed for a question (the engine's, else a stable hash)."""
        fn = getattr(self.engine, "variant_seed", None)
        if fn is not None:
            return int(fn(self.learner, question_id))
        import zlib

        return zlib.crc32(f"{self.learner}\0{question_id}".encode()) % 1_000_000

    # ------------------------------------------------------------------ grading
    @property
    def grader(self) -> Any:
        if self._grader is None:
            try:
                import graders.answers as ga

                if not hasattr(ga, "grade"):
                    raise ImportError("graders.answers has no grade()")
                self._grader = ga
            except Exception as exc:
                raise Unavailable(f"answer grader: {exc}") from exc
        return self._grader

    def prompt(self, question: Any, lang: str) -> str:
        try:
            fn = getattr(self.grader, "render_prompt", None)
            if fn is not None:
                return str(fn(question, self.seed(question.id), lang))
        except Unavailable:
            pass
        except Exception:
            pass
        return _text(question.prompt, lang)

    def preview(self, question: Any, answer: str, lang: str = "en") -> Any:
        """How the answer is read, before it counts (fast; call from a worker)."""
        return self._call(self.grader.preview, question, answer, seed=self.seed(question.id), lang=lang)

    def warm_up(self) -> None:
        """Start the grader's worker pool ahead of the first answer (call from a worker)."""
        fn = getattr(self.grader, "warm_up", None)
        if fn is not None:
            fn()

    def grade(self, question: Any, answer: str, lang: str, hints_used: int) -> Any:
        return self.grader.grade(question, answer, seed=self.seed(question.id), lang=lang,
                                 hints_used=hints_used)

    # ------------------------------------------------------------------ labs
    def lab_readme(self, lab_id: str, lang: str) -> str | None:
        lab = self.lab(lab_id)
        if not lab.exercise:
            return None
        root = self._exercises_root() / lab.exercise
        names = ["README.zh-TW.md", "README.md"] if lang == "zh-TW" else ["README.md"]
        for n in names:
            p = root / n
            if p.is_file():
                return p.read_text(encoding="utf-8")
        return None

    def _exercises_root(self) -> Path:
        course = self.course
        rel = getattr(course.meta, "exercises_dir", "../../exercises")
        cand = (Path(course.root) / rel).resolve()
        if cand.is_dir():
            return cand
        from tutor.paths import exercises_dir

        return exercises_dir()

    def start_workspace(self, lab_id: str) -> Path:
        """Copy the starter files into the learner's workspace (never overwriting work).

        Raises ``FileExistsError`` (with the path) when work is already there.
        """
        runner = self._lab_runner
        if runner is not None and hasattr(runner, "start"):
            return Path(runner.start(lab_id))
        try:
            from graders.labs.spec import load_lab
            from tutor.labs.workspace import WorkspaceExists, start_workspace
        except Exception as exc:
            raise Unavailable(f"lab workspaces (tutor/labs): {exc}") from exc
        lab = self.lab(lab_id)
        if not lab.exercise:
            raise Unavailable(f"{lab_id} has no runnable kit yet")
        lab_dir = self._exercises_root() / lab.exercise
        try:
            return Path(start_workspace(load_lab(lab_dir), lab_dir))
        except WorkspaceExists as exc:
            raise FileExistsError(str(exc.path)) from None

    def cancel_lab(self) -> None:
        """Stop the running lab, if any (safe from the UI thread)."""
        run = self.active_run
        if run is not None:
            run.cancel()

    def run_lab(self, lab_id: str, solution: bool) -> Iterator[LabEvent]:
        """Run a lab (blocking; call from a worker thread), yielding its events."""
        runner = self._lab_runner
        if runner is not None:
            yield from runner.run(lab_id, solution=solution)
            return
        yield from _run_real_lab(self, lab_id, solution)

    def lab_finished(self, lab_id: str, outcome: LabOutcome) -> None:
        """Keep a run's outcome. A run of the learner's own work with checks is a grade report
        (it counts in the rubric and passes the lab for pacing); a solution run is only logged."""
        if not outcome.solution:
            self._lab_results[lab_id] = outcome
        self.version += 1
        store, engine = self._store, self._engine
        learner_fn = getattr(engine, "learner", None)
        if store is None or learner_fn is None or not hasattr(store, "add_lab_run"):
            return
        checks = [{"id": c.check_id, "bucket": c.bucket, "points": c.points,
                   "max_points": c.max_points, "status": c.status, "message": c.message}
                  for c in outcome.checks]
        got, total = outcome.points
        passed = outcome.ok and bool(checks) and all(c["status"] == "pass" for c in checks)
        try:
            record = getattr(engine, "record_lab_result", None)
            if not outcome.solution and checks and total and record is not None:
                # the same record as `tutor lab check` (Engine.record_lab_result)
                record(self.learner, lab_id, checks, passed=passed, score=got / total,
                       source="app", extra={"seconds": round(outcome.seconds, 2)})
                return
            learner_id = learner_fn(self.learner).id
            status = "solution" if outcome.solution else ("passed" if passed else "failed")
            store.add_lab_run(learner_id, lab_id, status,
                              {"ok": outcome.ok, "error": outcome.error, "checks": checks,
                               "seconds": round(outcome.seconds, 2)})
            if not outcome.solution and checks and total:
                store.add_grade_report(learner_id, lab_id, got / total, passed,
                                       {"source": "app", "checks": checks})
        except Exception as exc:  # the store refused: the outcome still shows; say why
            self.store_error = f"{type(exc).__name__}: {exc}"

    def lab_results(self) -> dict[str, LabOutcome]:
        """The latest graded run (the learner's own work) per lab: this session's, else the
        store's grade reports."""
        out: dict[str, LabOutcome] = {}
        store, engine = self._store, self._engine
        learner_fn = getattr(engine, "learner", None)
        if store is not None and learner_fn is not None and hasattr(store, "grade_reports"):
            try:
                for r in store.grade_reports(learner_fn(self.learner).id):
                    checks = [CheckView(str(c.get("id")), str(c.get("bucket")),
                                        float(c.get("points", 0)), float(c.get("max_points", 0)),
                                        str(c.get("status")), str(c.get("message", "")))
                              for c in (r.payload or {}).get("checks", [])]
                    if checks:
                        out[r.lab_id] = LabOutcome(True, checks)
            except Exception:  # an unreadable report: fall back to this session's runs
                pass
        out.update(self._lab_results)
        return out

    # ------------------------------------------------------------------ report
    def rubric(self) -> Any:
        """The learner's rubric through the one formula (graders/rubric/formula.py): concepts =
        mean P(known); the lab buckets pool the checks of each lab's best grade report (the
        store's, and this session's runs); buckets without evidence are left out of the total."""
        from graders.rubric.formula import LabReport, learner_rubric

        mastery = self.mastery()
        reports: list[LabReport] = []
        store, engine = self._store, self._engine
        learner_fn = getattr(engine, "learner", None)
        if store is not None and learner_fn is not None and hasattr(store, "grade_reports"):
            try:
                for r in store.grade_reports(learner_fn(self.learner).id):
                    checks = tuple(c for c in (r.payload or {}).get("checks", [])
                                   if isinstance(c, dict))
                    reports.append(LabReport(r.lab_id, float(r.score), checks, len(reports)))
            except Exception:  # an unreadable store: this session's runs still count
                pass
        for lab_id, o in self._lab_results.items():
            got, total = o.points
            checks = tuple({"bucket": c.bucket, "points": c.points, "max_points": c.max_points,
                            "status": c.status} for c in o.checks)
            reports.append(LabReport(lab_id, got / total if total else 0.0, checks,
                                     len(reports)))
        weights: dict[str, float] = {str(b.id): float(b.weight)
                                     for b in self.course.meta.rubric.buckets}
        mean = (sum(v.p_known for v in mastery.values()) / len(mastery)) if mastery else None
        fraction = mean if any(v.attempts for v in mastery.values()) else None
        return learner_rubric(weights, concept_fraction=fraction, reports=reports,
                              course_labs=list(self.course.labs), concept_mean=mean)

    def report_total(self) -> float:
        """The rubric total, 0..100 (the same number as `tutor progress`)."""
        return float(self.rubric().total)

    def report(self, lang: str) -> list[BucketView]:
        """The rubric buckets with score and evidence."""
        from tutor.app.strings import s

        mastery = self.mastery()
        found = {b.id: b for b in self.rubric().buckets}
        lab_results = self.lab_results()  # evidence lines: each lab's latest checked run
        buckets: list[BucketView] = []
        for b in self.course.meta.rubric.buckets:
            ev: list[str] = []
            score = found.get(b.id)
            frac = score.fraction if score is not None and score.evidence else None
            if b.id == "concepts":
                n = len(mastery)
                done = sum(1 for v in mastery.values() if v.state in ("mastered", "review"))
                mean = sum(v.p_known for v in mastery.values()) / n if n else 0.0
                ev.append(s("report.ev.mastered", lang, done=done, total=n))
                ev.append(s("report.ev.mean", lang, mean=f"{mean:.0%}"))
            else:  # implementation / analysis / innovation: lab checks tagged with the bucket
                for lab_id, o in lab_results.items():
                    mine = [c for c in o.checks if c.bucket == b.id]
                    if mine:
                        ev.append(f"{lab_id}: {sum(c.points for c in mine):g}/"
                                  f"{sum(c.max_points for c in mine):g}")
                if not ev:
                    ev.append(s("report.ev.no_labs" if b.id == "implementation"
                                else "report.ev.none", lang))
            buckets.append(BucketView(b.id, _text(b.title, lang), b.weight, frac, ev))
        return buckets

    def export_report(self, lang: str, directory: Path | None = None) -> list[Path]:
        """Write the report as JSON and Markdown with graders.rubric's writers; the paths."""
        from graders.rubric import CheckLine, Report, render

        if directory is None:
            from tutor.paths import user_data_dir

            directory = user_data_dir() / "reports"
        directory.mkdir(parents=True, exist_ok=True)
        found = self.rubric()
        lines: list[CheckLine] = []
        for lab_id, o in sorted(self.lab_results().items()):
            for c in o.checks:
                status = c.status if c.status in ("pass", "fail", "error") else "not_graded"
                lines.append(CheckLine(id=f"{lab_id}/{c.check_id}", title=c.check_id,
                                       bucket=c.bucket, points=c.points, max_points=c.max_points,
                                       status=status, message=c.message))  # type: ignore[arg-type]
        report = Report(lab_id=self.course.id, submission=self.learner, status="graded",
                        total=found.total, buckets=list(found.buckets), checks=lines,
                        messages=[f"{found.labs_graded}/{found.labs_total} labs graded; "
                                  f"{self.clock().isoformat(timespec='seconds')}"], lang=lang)
        stem = f"report-{self.learner}"
        jp, mp = directory / f"{stem}.json", directory / f"{stem}.md"
        jp.write_text(render(report, "json"), encoding="utf-8")
        mp.write_text(render(report, "md"), encoding="utf-8")
        return [jp, mp]

    # ------------------------------------------------------------------ estimator
    def decision_rule(self, params_b: float) -> Any:
        """The course's decision-tree rule for a model of ``params_b`` billion parameters."""
        for rule in self.course.meta.decision_tree:
            hi = rule.max_params_b
            if rule.min_params_b <= params_b and (hi is None or params_b < hi):
                return rule
        return None

    def estimate(self, *, params: float, method: str, gpus: int, precision: str,
                 rank: int, lang: str = "en") -> EstimateView:
        """Memory per GPU from graders/estimate.py (see ``_adapt_estimate``)."""
        return _adapt_estimate(self.estimator, params=params, method=method, gpus=gpus,
                               precision=precision, rank=rank, lang=lang)

    def advise(self, params_b: float, gpus: int, gpu_mem_gb: float, lang: str = "en") -> str:
        """The estimator's advice in words."""
        fn = getattr(self.estimator, "advise", None)
        if fn is None:
            raise Unavailable("graders.estimate has no advise()")
        adv = fn(params_b, gpus, gpu_mem_gb)
        return _advice_text(adv, lang)

    @property
    def estimator(self) -> Any:
        if self._estimator is None:
            try:
                import graders.estimate as est

                self._estimator = est
            except Exception as exc:
                raise Unavailable(f"memory estimator (graders/estimate.py): {exc}") from exc
        return self._estimator


@dataclass
class TermView:
    """One line of a memory estimate."""

    name: str
    """What the memory holds (weights, gradients, optimizer states, activations ...)."""
    bytes: float
    """Bytes per GPU."""
    formula: str
    """How it was computed, in symbols."""


@dataclass
class EstimateView:
    """A memory estimate per GPU."""

    total_bytes: float
    """Sum of the terms."""
    terms: list[TermView]
    """The terms."""


def _display_state(engine_state: str, unlocked: bool, attempts: int) -> str:
    s = engine_state.lower().replace("_", " ").replace("-", " ")
    if "review" in s:
        return "review"
    if "master" in s:
        return "mastered"
    if "learn" in s or attempts:
        return "learning"
    return "ready" if unlocked else "locked"


def _run_real_lab(svc: Services, lab_id: str, solution: bool) -> Iterator[LabEvent]:
    """Run a lab through the one pipeline (tutor.labs.session: run, probes, checks), as
    `tutor lab check` does, translating its events. Imported here: the lab stack (pydantic
    specs, subprocess plumbing) is not needed before a lab runs."""
    import shutil

    try:
        from graders.labs.spec import load_lab
        from tutor.labs.runner import Finished, LogLine, Progress, tail
        from tutor.labs.session import Checking, LabResult, run_and_check_events
        from tutor.labs.workspace import workspace_for
        from tutor.paths import workspace_dir
    except Exception as exc:
        raise Unavailable(f"lab runner (tutor/labs): {exc}") from exc
    lab = svc.lab(lab_id)
    if not lab.exercise:
        raise Unavailable(f"{lab_id} has no runnable kit yet")
    lab_dir = svc._exercises_root() / lab.exercise
    spec = load_lab(lab_dir)
    source: Path | None
    if solution:
        base, source = workspace_dir() / ".solution-runs" / lab_id, None
    else:
        source = workspace_for(lab_id)
        if not source.is_dir():
            from tutor.app.strings import s

            raise Unavailable(s("labs.start_first", svc.lang))
        base = source
    out_dir, work = base / "out", base / ".run-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    final: Any = None
    result: Any = None

    def started(run: Any) -> None:
        svc.active_run = run

    try:
        from tutor.labs.session import RequirementsMissing

        events = run_and_check_events(spec, lab_dir, work=work, solution=solution,
                                      source=source, out_dir=out_dir, log_path=base / "run.log",
                                      on_start=started)
        for ev in events:
            if isinstance(ev, Progress):
                yield LabEvent("progress", ev.step, ev.total, ev.loss)
            elif isinstance(ev, LogLine):
                yield LabEvent("log", text=ev.text)
            elif isinstance(ev, Finished):
                final = ev
                if not ev.ok:
                    break  # a failed run is shown as an error, not checked here
                yield LabEvent("log", text=f"log: {ev.log_path}")
            elif isinstance(ev, Checking):
                from tutor.app.strings import s

                yield LabEvent("log", text=s("labs.checking", svc.lang))
            elif isinstance(ev, LabResult):
                result = ev
    except RequirementsMissing as exc:
        raise Unavailable(str(exc)) from None
    finally:
        svc.active_run = None
    if final is None or not final.ok or result is None:
        why = "no result"
        if final is not None:
            why = ("timed out" if final.timed_out else "cancelled" if final.cancelled
                   else f"exit code {final.returncode}" if final.returncode
                   else "no 'done' event")
            if final.timed_out:
                why += f" ({spec.time_budget_s} s budget)"
            lines = [ln for ln in tail(final.log_path, 40).splitlines()
                     if not ln.startswith('{"event"')]  # progress lines are on the bar already
            why += "\n" + "\n".join(lines[-12:])
        yield LabEvent("error", text=why)
        return
    results = result.results
    yield LabEvent("done", checks=[
        CheckView(r.id, r.bucket, float(r.points), float(r.max_points), r.status,
                  r.text(svc.lang)) for r in results
    ])


# ---------------------------------------------------------------------- fallback engine
@dataclass
class _State:
    p_known: float
    attempts: int = 0
    state: str = "not started"
    unlocked: bool = False


class _MemoryEngine:
    """Progress in memory only, used when tutor.engine cannot start (the app says so).

    Plain BKT with the course's parameters; a concept is ready when its hard concept
    prerequisites are mastered; a lab unlocks when its concepts are.
    """

    def __init__(self, course: Course) -> None:
        self.course = course
        self.states: dict[str, _State] = {}
        self.seen: set[tuple[str, str]] = set()

    def _st(self, cid: str) -> _State:
        if cid not in self.states:
            self.states[cid] = _State(self.course.bkt_for(cid).p_init)
        return self.states[cid]

    def mastery(self, learner: str) -> dict[str, _State]:
        ready = set(self.ready_concepts(learner))
        out = {cid: self._st(cid) for cid in self.course.concepts}
        for cid, st in out.items():
            st.unlocked = cid in ready or st.state == "mastered"
        return out

    def _mastered(self, cid: str) -> bool:
        return cid in self.states and self.states[cid].state == "mastered"

    def ready_concepts(self, learner: str) -> list[str]:
        cs = self.course.concepts
        return [c.id for c in cs.values()
                if all(self._mastered(r) for r in c.requires if r in cs)]

    def lab_status(self, learner: str) -> dict[str, tuple[bool, str]]:
        out = {}
        for lab in self.course.labs.values():
            missing = [c for c in lab.concepts if not self._mastered(c)]
            out[lab.id] = (not missing, "needs: " + ", ".join(missing) if missing else "")
        return out

    def record_attempt(self, learner: str, question_id: str, answer: str, verdict: Any,
                       hints_used: int, duration_s: float, seed: int | None) -> Any:
        q = self.course.questions[question_id]
        before_ready = set(self.ready_concepts(learner))
        correct = getattr(verdict, "status", "") == "correct" and hints_used == 0
        first = (learner, question_id) not in self.seen
        self.seen.add((learner, question_id))
        for cid in q.concepts:
            if cid not in self.course.concepts:
                continue
            st = self._st(cid)
            st.attempts += 1
            if first:
                b = self.course.bkt_for(cid)
                p = st.p_known
                if correct:
                    post = p * (1 - b.p_slip) / (p * (1 - b.p_slip) + (1 - p) * b.p_guess)
                else:
                    post = p * b.p_slip / (p * b.p_slip + (1 - p) * (1 - b.p_guess))
                st.p_known = post + (1 - post) * b.p_transit
                st.state = "mastered" if st.p_known >= b.threshold else "learning"
        after_ready = set(self.ready_concepts(learner))
        return _Res(sorted(after_ready - before_ready))

    def next_item(self, learner: str) -> Any:
        ready = self.ready_concepts(learner)
        todo = [c for c in ready if not self._mastered(c)]
        if not todo:
            return None
        todo.sort(key=lambda c: (self._st(c).p_known, list(self.course.concepts).index(c)))
        cid = todo[0]
        for q in sorted(self.course.questions.values(), key=lambda q: (q.level, q.id)):
            if cid in q.concepts and (learner, q.id) not in self.seen:
                return _Rec("question", q.id, cid, f"lowest mastery among ready concepts: {cid}")
        return _Rec("lesson", cid, cid, f"lowest mastery among ready concepts: {cid}")

    def due_reviews(self, learner: str) -> list[str]:
        return []

    def pacing(self, learner: str, today: date) -> Any:
        done = sum(1 for d in self.course.days
                   if d.concepts and all(self._mastered(c) for c in d.concepts))
        left = sum(d.theory_hours + d.practice_hours for d in self.course.days[done:])
        return PacingView(done + 1, 1, done, left)


@dataclass
class _Res:
    newly_unlocked: list[str]


@dataclass
class _Rec:
    kind: str
    id: str
    concept: str
    reason: str


def unicode_bar(fraction: float, width: int) -> str:
    """A bar of ``width`` cells filled to ``fraction`` with eighth blocks."""
    fraction = min(1.0, max(0.0, fraction if math.isfinite(fraction) else 0.0))
    eighths = round(fraction * width * 8)
    full, rem = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rem] if rem else ""
    return ("█" * full + partial).ljust(width, "·")[:width]


def elapsed(start: float) -> float:
    return time.perf_counter() - start


METHOD_SETUPS: dict[str, dict[str, Any]] = {
    "full": {"method": "full"},
    "lora": {"method": "lora"},
    "qlora": {"method": "qlora"},
    "zero1": {"method": "full", "zero": 1},
    "zero2": {"method": "full", "zero": 2},
    "zero3": {"method": "full", "zero": 3},
    "offload": {"method": "full", "zero": 3, "offload": "optimizer"},
}
"""The calculator's methods as graders.estimate.Setup fields."""


def _adapt_estimate(est: Any, *, params: float, method: str, gpus: int, precision: str,
                    rank: int, lang: str = "en") -> EstimateView:
    """Call graders.estimate.estimate(Setup(...)) and flatten the breakdown for display."""
    setup_cls = getattr(est, "Setup", None)
    fn = getattr(est, "estimate", None)
    if setup_cls is None or fn is None:
        raise Unavailable("graders.estimate has no Setup/estimate")
    fields = METHOD_SETUPS.get(method)
    if fields is None:
        raise ValueError(f"unknown method {method!r}")
    res = fn(setup_cls(params=params, gpus=gpus, precision=precision, rank=rank, **fields))
    terms: list[TermView] = []
    for term in res.terms:
        name = _text(getattr(term, "label", None) or getattr(term, "key", "?"), lang)
        if getattr(term, "device", "gpu") == "cpu":
            name += " (CPU)"
        terms.append(TermView(name, float(term.bytes), str(getattr(term, "formula", ""))))
    total = getattr(res, "gpu_bytes", None)
    if total is None:
        total = sum(t.bytes for t in terms)
    return EstimateView(float(total), terms)


def _advice_text(adv: Any, lang: str) -> str:
    if isinstance(adv, str):
        return adv
    parts = [_text(getattr(adv, "recommendation", ""), lang)]
    parts += [f"• {_text(r, lang)}" for r in getattr(adv, "reasons", []) or []]
    estimates = getattr(adv, "estimates", {}) or {}
    if estimates:
        parts.append("  " + " · ".join(f"{k}: {v:g} GB" for k, v in estimates.items()))
    return "\n".join(p for p in parts if p)
