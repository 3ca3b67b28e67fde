"""The engine facade: record attempts, report mastery, unlock, recommend, pace.

``Engine(course, store)`` keeps one derived ``LearnerState`` per learner in memory. Every public
call first compares the learner's log watermark in the store with the state's; new attempts and
placement/skip events (from this or another process) are applied incrementally, a reset triggers
a full rebuild. Recording an attempt is one INSERT in one transaction, then an incremental update
(readiness too: only the dependents of a newly mastered concept are re-checked).

What next (``next_item``), in priority order:

1. due reviews: mastered concepts whose fsrs card is due, and concepts whose last review failed
   (``needs_review``), most overdue first;
2. the plan: items of plan days 1..today (today = days since the learner's start date + 1) not
   done yet, earliest day first (catching up before today), concepts then labs of the day,
   only ready concepts and unlocked labs;
3. the ready, not yet mastered concept with the lowest P(known) that still has a fresh question
   (tie: course order);
4. an unlocked lab not yet passed; 5. placement when external prerequisites block concepts;
6. a ready, unmastered concept without fresh questions: re-read its lesson; 7. done.

Concepts without a fresh question are skipped in steps 2 and 3: recommending them again and
again would stall the learner on something that can no longer make progress.

A concept is turned into a question: the first question (level, then bank order) not yet
answered for that concept; for reviews, a fresh one or else the one answered longest ago.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from tutor.engine.index import CourseIndex, build_index
from tutor.engine.state import (
    COUNTED_STATUSES,
    LearnerState,
    MasteryState,
    Observation,
    make_scheduler,
    replay,
)
from tutor.i18n import Lang, get_lang, t
from tutor.store.db import AttemptIn, LearnerRow, Store

if TYPE_CHECKING:
    from tutor.curriculum.models import Course

RecommendationKind = Literal["review", "question", "lesson", "lab", "placement", "done"]


class VerdictLike(Protocol):
    """What the engine reads from a ``graders.answers`` Verdict."""

    @property
    def status(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def note(self) -> str | None: ...


class EngineError(Exception):
    """A request the engine cannot honour (unknown id); the message is localised."""


@dataclass(frozen=True)
class ConceptState:
    """A concept's mastery as the learner sees it."""

    concept: str
    """Concept id."""
    p_known: float
    """BKT probability that the concept is known."""
    state: MasteryState
    """not_started, learning, mastered or needs_review."""
    attempts: int
    """Number of BKT observations (first attempts at items)."""
    unlocked: bool
    """Whether the concept is ready (prerequisites and level gate met, or already mastered)."""
    due: datetime | None = None
    """When the next review is due (mastered concepts)."""
    retrievability: float | None = None
    """fsrs recall probability now (mastered concepts)."""


@dataclass(frozen=True)
class RecordResult:
    """What recording one attempt did."""

    recorded: bool
    """False for invalid input: nothing was logged and nothing changed."""
    attempt_id: int | None
    """Attempt id in the log."""
    mastery_before: dict[str, float]
    """Concept -> P(known) before."""
    mastery_after: dict[str, float]
    """Concept -> P(known) after."""
    state: dict[str, MasteryState]
    """Concept -> state after."""
    newly_unlocked: list[str]
    """Concepts that became ready."""
    newly_unlocked_labs: list[str]
    """Labs that unlocked."""
    newly_mastered: list[str]
    """Concepts mastered by this attempt."""
    counted: bool
    """Whether it was a first attempt (BKT evidence) for at least one concept."""
    practice_mode: bool
    """True when a concept of the item was still locked (the answer counts anyway)."""
    warnings: list[str]
    """Localised warnings (locked concepts, soft prerequisites)."""


@dataclass(frozen=True)
class Recommendation:
    """The next item and why."""

    kind: RecommendationKind
    """review, question, lesson, lab, placement or done."""
    id: str | None
    """Question id, lab id, lesson page, or external id (placement); None when done."""
    concept: str | None
    """The concept it is about."""
    reason: str
    """Why, in the learner's language."""
    reason_key: str
    """Message key of the reason (for re-localising)."""
    reason_fields: dict[str, str] = field(default_factory=dict)
    """Fields of the reason message."""
    day: int | None = None
    """Plan day the item comes from."""
    page: str | None = None
    """Lesson page of the concept."""
    warnings: list[str] = field(default_factory=list)
    """Soft-prerequisite warnings."""

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (used by `tutor next --json`)."""
        return {
            "kind": self.kind, "id": self.id, "concept": self.concept, "reason": self.reason,
            "reason_key": self.reason_key, "day": self.day, "page": self.page,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class DueReview:
    """A concept that should be reviewed now."""

    concept: str
    """Concept id."""
    due: datetime
    """When it became due."""
    retrievability: float
    """fsrs recall probability now."""
    failed: bool
    """Whether the last review failed (state needs_review)."""


class LabStatus(NamedTuple):
    """Whether a lab is unlocked, why (or why not), and whether it has been passed."""

    unlocked: bool
    """All its concepts mastered."""
    reason: str
    """Localised explanation."""
    passed: bool = False
    """A passing grade report exists."""


@dataclass(frozen=True)
class Pacing:
    """Where the learner is on the 20-day plan."""

    plan_day: int
    """First plan day not completed (the last day when all are done)."""
    expected_day: int
    """Plan day the calendar says (days since the start date + 1, within the plan)."""
    days_ahead: int
    """plan position minus expected day: positive ahead, negative behind."""
    hours_left: float
    """Planned theory + practice hours of the items not completed."""
    finished: bool
    """Every day of the plan is completed."""
    start_date: date
    """Day 1 of the learner's plan."""


@dataclass(frozen=True)
class LockReason:
    """One reason a concept is locked."""

    kind: Literal["prerequisite", "external", "level"]
    """Which rule."""
    ids: tuple[str, ...]
    """What is missing."""
    level: int | None = None
    """For the level rule: the gate level."""
    topic: str | None = None
    """For the level rule: the topic."""


@dataclass(frozen=True)
class _ReadyCache:
    """The ready set of one learner state, and what it was computed from."""

    state: LearnerState
    """The state object (a rebuild makes a new one)."""
    externals_version: int
    """``state.externals_version`` at the time."""
    mastered: int
    """``len(state.mastered_order)`` at the time."""
    ready: frozenset[str]
    """Ready concepts."""


def _pct(p: float) -> str:
    return f"{round(p * 100)}%"


class Engine:
    """Mastery, unlocking, review and pacing over a course and a progress store."""

    def __init__(self, course: Course, store: Store, *, lang: Lang | None = None) -> None:
        """``lang``: language of reasons and warnings (default: the current language)."""
        self.course = course
        self.store = store
        self.lang: Lang = lang or get_lang()
        self.index: CourseIndex = build_index(course)
        self.scheduler = make_scheduler()
        self._states: dict[str, LearnerState] = {}
        self._learners: dict[str, LearnerRow] = {}
        self._ready_cache: dict[str, _ReadyCache] = {}

    # -- learners and state -----------------------------------------------------------------

    def _t(self, key: str, **fields: object) -> str:
        return t(key, self.lang, **fields)

    def learner(self, name: str) -> LearnerRow:
        """The learner profile, created on first use."""
        row = self._learners.get(name)
        if row is None:
            row = self.store.learner(name)
            self._learners[name] = row
        return row

    def set_start_date(self, learner: str, start: date) -> None:
        """Set day 1 of the learner's plan (pacing and the plan's "today")."""
        row = self.learner(learner)
        self.store.set_start_date(row.id, start)
        self._learners[learner] = LearnerRow(row.id, row.name, row.created_at, start)

    def variant_seed(self, learner: str, question_id: str) -> int:
        """The learner's stable variant seed for a randomised question."""
        return zlib.crc32(f"{learner}\0{question_id}".encode()) % 1_000_000

    def rebuild(self, learner: str) -> LearnerState:
        """Recompute the learner's whole state from the logs (and cache it)."""
        row = self.learner(learner)
        with self.store.snapshot():  # attempts and events from the same moment
            rows = self.store.replay_rows(row.id)
            events = self.store.events(row.id)
        state = replay(row.id, self.index, rows, events, self.scheduler)
        self._states[learner] = state
        return state

    def state(self, learner: str) -> LearnerState:
        """The learner's derived state, brought up to date with the store."""
        return self._refresh(learner)[0]

    def _refresh(self, learner: str) -> tuple[LearnerState, list[Observation]]:
        row = self.learner(learner)
        state = self._states.get(learner)
        if state is None:
            return self.rebuild(learner), []
        a, e = self.store.watermark(row.id)
        if e != state.last_event_id:
            new_events = self.store.events(row.id, after_id=state.last_event_id)
            # placement / skip after everything we replayed: apply in place; a reset (or an
            # event that interleaves with attempts we have not seen) needs a full rebuild
            if any(ev.kind == "reset" or ev.after_attempt != state.last_attempt_id
                   for ev in new_events):
                return self.rebuild(learner), []
            for ev in new_events:
                state.apply_event(ev)
        obs: list[Observation] = []
        if a != state.last_attempt_id:
            for attempt in self.store.attempts(row.id, after_id=state.last_attempt_id):
                obs.extend(state.apply_attempt(attempt))
        return state, obs

    # -- unlocking --------------------------------------------------------------------------

    def _ready_set(self, state: LearnerState, learner: str) -> frozenset[str]:
        """Ready concepts, maintained incrementally: readiness only grows when a concept is
        mastered (then only its dependents can change) and is recomputed in full when external
        prerequisites change or the state was rebuilt."""
        cached = self._ready_cache.get(learner)
        if (
            cached is not None
            and cached.state is state
            and cached.externals_version == state.externals_version
        ):
            if cached.mastered == len(state.mastered_order):
                return cached.ready
            new = state.mastered_order[cached.mastered:]
            grown = set(cached.ready).union(new)
            for m in new:
                for d in self.index.dependents.get(m, ()):
                    if d not in grown and self._is_ready(state, d):
                        grown.add(d)
            ready = frozenset(grown)
        else:
            ready = frozenset(c for c in self.course.concepts if self._is_ready(state, c))
        self._ready_cache[learner] = _ReadyCache(
            state, state.externals_version, len(state.mastered_order), ready
        )
        return ready

    def _is_ready(self, state: LearnerState, c: str) -> bool:
        idx = self.index
        if c in state.ever_mastered:
            return True
        for r in idx.concept_prereqs[c]:
            if r not in state.ever_mastered:
                return False
        for x in idx.external_prereqs[c]:
            if x not in state.externals_met:
                return False
        gate = idx.gate[c]
        return gate is None or state.group_mastered.get(gate, 0) >= idx.group_size[gate]

    def lock_reasons(self, learner: str, concept: str) -> list[LockReason]:
        """Why ``concept`` is locked (empty when it is ready)."""
        state = self.state(learner)
        return self._lock_reasons(state, concept)

    def _lock_reasons(self, state: LearnerState, c: str) -> list[LockReason]:
        idx = self.index
        if c in state.ever_mastered:
            return []
        out: list[LockReason] = []
        missing = tuple(r for r in idx.concept_prereqs[c] if r not in state.ever_mastered)
        if missing:
            out.append(LockReason("prerequisite", missing))
        ext = tuple(x for x in idx.external_prereqs[c] if x not in state.externals_met)
        if ext:
            out.append(LockReason("external", ext))
        gate = idx.gate[c]
        if gate is not None and state.group_mastered.get(gate, 0) < idx.group_size[gate]:
            members = tuple(
                m for m, g in idx.group.items() if g == gate and m not in state.ever_mastered
            )
            out.append(LockReason("level", members, level=gate[1], topic=gate[0]))
        return out

    def describe_lock(self, reasons: Iterable[LockReason]) -> str:
        """A localised sentence for lock reasons."""
        parts = []
        for r in reasons:
            ids = ", ".join(r.ids)
            if r.kind == "prerequisite":
                parts.append(self._t("engine.lock.prereq", ids=ids))
            elif r.kind == "external":
                parts.append(self._t("engine.lock.external", ids=ids))
            else:
                parts.append(self._t("engine.lock.level", level=r.level, topic=r.topic, ids=ids))
        return "; ".join(parts)

    def soft_warnings(self, learner: str, concept: str) -> list[str]:
        """Warnings for soft prerequisites not yet mastered / met."""
        return self._soft_warnings(self.state(learner), concept)

    def _soft_warnings(self, state: LearnerState, c: str) -> list[str]:
        missing = [
            r for r in self.index.soft_prereqs.get(c, ())
            if r not in state.ever_mastered and r not in state.externals_met
        ]
        return [self._t("engine.warn.soft", concept=c, ids=", ".join(missing))] if missing else []

    def is_unlocked(self, learner: str, concept: str) -> bool:
        """Whether ``concept`` is ready (or already mastered)."""
        state = self.state(learner)
        return concept in self._ready_set(state, learner)

    def ready_concepts(self, learner: str, *, include_mastered: bool = False) -> list[str]:
        """Concepts the learner may study now, in course order (mastered ones only if asked)."""
        state = self.state(learner)
        ready = self._ready_set(state, learner)
        return sorted(
            (c for c in ready if include_mastered or c not in state.ever_mastered),
            key=self.index.order.__getitem__,
        )

    def passed_labs(self, learner: str) -> set[str]:
        """Labs with a passing grade report."""
        return {r.lab_id for r in self.store.grade_reports(self.learner(learner).id) if r.passed}

    def lab_status(self, learner: str) -> dict[str, LabStatus]:
        """Every lab: unlocked (its concepts mastered), why, and whether it has been passed."""
        state = self.state(learner)
        passed = self.passed_labs(learner)
        out: dict[str, LabStatus] = {}
        for lab_id, lab in self.course.labs.items():
            missing = [c for c in lab.concepts if c not in state.ever_mastered]
            if missing:
                reason = self._t("engine.lock.lab", ids=", ".join(missing))
            else:
                reason = self._t("engine.lab.unlocked", ids=", ".join(lab.concepts))
            out[lab_id] = LabStatus(not missing, reason, lab_id in passed)
        return out

    # -- mastery and reviews ----------------------------------------------------------------

    def mastery(self, learner: str, *, now: datetime | None = None) -> dict[str, ConceptState]:
        """Every concept's mastery, in course order."""
        state = self.state(learner)
        ready = self._ready_set(state, learner)
        now = now or datetime.now(UTC)
        out: dict[str, ConceptState] = {}
        for c in sorted(self.course.concepts, key=self.index.order.__getitem__):
            card = state.cards.get(c)
            out[c] = ConceptState(
                concept=c, p_known=state.p(c), state=state.state_of(c),
                attempts=state.observations.get(c, 0), unlocked=c in ready,
                due=card.due if card else None,
                retrievability=self.scheduler.get_card_retrievability(card, now) if card else None,
            )
        return out

    def due_reviews(self, learner: str, *, now: datetime | None = None) -> list[DueReview]:
        """Concepts to review now: failed reviews first, then the most overdue."""
        return self._due(self.state(learner), now or datetime.now(UTC))

    def _due(self, state: LearnerState, now: datetime) -> list[DueReview]:
        out = []
        for c, card in state.cards.items():
            failed = c in state.failed
            if failed or card.due <= now:
                r = self.scheduler.get_card_retrievability(card, now)
                out.append(DueReview(c, card.due, r, failed))
        out.sort(key=lambda d: (not d.failed, d.due, self.index.order[d.concept]))
        return out

    def _first_due(self, state: LearnerState, now: datetime) -> list[DueReview]:
        best: tuple[bool, datetime, int] | None = None
        best_c = ""
        order = self.index.order
        failed = state.failed
        for c, card in state.cards.items():
            is_failed = c in failed
            if is_failed or card.due <= now:
                key = (not is_failed, card.due, order[c])
                if best is None or key < best:
                    best, best_c = key, c
        if best is None:
            return []
        card = state.cards[best_c]
        r = self.scheduler.get_card_retrievability(card, now)
        return [DueReview(best_c, card.due, r, best_c in failed)]

    # -- recording --------------------------------------------------------------------------

    def record_attempt(
        self,
        learner: str,
        question_id: str,
        answer: str,
        verdict: VerdictLike,
        hints_used: int = 0,
        duration_s: float | None = None,
        seed: int | None = None,
        *,
        now: datetime | None = None,
    ) -> RecordResult:
        """Log a graded answer and update mastery, reviews and unlocks.

        Invalid input (status ``invalid``) is not logged and changes nothing. Raises
        ``EngineError`` for an unknown question id.
        """
        question = self.course.questions.get(question_id)
        if question is None:
            raise EngineError(self._t("engine.unknown_question", id=question_id))
        concepts = [c for c in question.concepts if c in self.course.concepts]
        state, _ = self._refresh(learner)
        before = {c: state.p(c) for c in concepts}
        if verdict.status == "invalid":
            return RecordResult(
                False, None, before, dict(before), {c: state.state_of(c) for c in concepts},
                [], [], [], False, False, [],
            )
        ready_before = self._ready_set(state, learner)
        labs_before = {lab for lab, s in self._lab_unlocked(state).items() if s}
        warnings: list[str] = []
        practice = False
        for c in concepts:
            if c not in ready_before:
                practice = True
                warnings.append(
                    self._t("engine.warn.practice", concept=c,
                            reason=self.describe_lock(self._lock_reasons(state, c)))
                )
            warnings.extend(self._soft_warnings(state, c))
        row = self.learner(learner)
        attempt_id = self.store.append_attempt(
            row.id,
            AttemptIn(
                item_id=question_id, concepts=tuple(question.concepts), answer=answer,
                status=verdict.status, score=float(verdict.score), hints_used=hints_used,
                duration_s=duration_s, created_at=now or datetime.now(UTC), seed=seed,
                note=verdict.note,
            ),
        )
        # Apply what is new in the log (ours, and any other process's) without re-checking the
        # event watermark: an event written meanwhile triggers a rebuild on the next call.
        obs: list[Observation] = []
        for attempt in self.store.attempts(row.id, after_id=state.last_attempt_id):
            obs.extend(state.apply_attempt(attempt))
        mine = [o for o in obs if o.attempt_id == attempt_id]
        ready_after = self._ready_set(state, learner)
        labs_after = {lab for lab, s in self._lab_unlocked(state).items() if s}
        return RecordResult(
            recorded=True,
            attempt_id=attempt_id,
            mastery_before=before,
            mastery_after={c: state.p(c) for c in concepts},
            state={c: state.state_of(c) for c in concepts},
            newly_unlocked=sorted(ready_after - ready_before - state.ever_mastered,
                                  key=self.index.order.__getitem__),
            newly_unlocked_labs=sorted(labs_after - labs_before),
            newly_mastered=[o.concept for o in mine if o.newly_mastered],
            counted=any(o.counted for o in mine) and verdict.status in COUNTED_STATUSES,
            practice_mode=practice,
            warnings=warnings,
        )

    def _lab_unlocked(self, state: LearnerState) -> dict[str, bool]:
        return {
            lab_id: all(c in state.ever_mastered for c in lab.concepts)
            for lab_id, lab in self.course.labs.items()
        }

    # -- placement, skip, reset -------------------------------------------------------------

    def placement_targets(self) -> list[str]:
        """External prerequisites a learner must meet (hard, or named in a concept's requires)."""
        named = {x for xs in self.index.external_prereqs.values() for x in xs}
        out = list(self.index.hard_externals)
        out += sorted(named - set(out))
        return out

    def placement_questions(self, external: str) -> list[str]:
        """Question ids of the placement diagnostic for ``external``."""
        return list(self.index.placement_questions.get(external, ()))

    def record_lab_result(
        self,
        learner: str,
        lab_id: str,
        checks: list[dict[str, Any]],
        *,
        passed: bool,
        score: float,
        source: str = "cli",
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Record a checked run of the learner's own lab work (any front end: `tutor lab check`,
        the app's Labs screen): a lab run and a grade report with ``checks`` (each
        ``{id, bucket, points, max_points, status, message}``) and ``score`` in 0..1. ``passed``
        marks the lab passed for pacing and `tutor progress`. Returns the report's row id;
        raises ``EngineError`` for a lab the course does not have."""
        if lab_id not in self.course.labs:
            raise EngineError(self._t("engine.unknown_lab", id=lab_id))
        row = self.learner(learner)
        payload = {"source": source, "checks": checks, **(extra or {})}
        self.store.add_lab_run(row.id, lab_id, "passed" if passed else "failed", payload)
        return self.store.add_grade_report(row.id, lab_id, min(1.0, max(0.0, float(score))),
                                           passed, payload)

    def record_placement(
        self, learner: str, external: str, correct: int, total: int, *, pass_fraction: float = 0.6
    ) -> bool:
        """Log a placement result; passed when correct/total >= ``pass_fraction``."""
        self._check_external(external)
        passed = total > 0 and correct / total >= pass_fraction
        self.store.append_event(
            self.learner(learner).id, "placement", external,
            {"correct": correct, "total": total, "passed": passed},
        )
        return passed

    def skip_external(self, learner: str, external: str) -> None:
        """Mark an external prerequisite as met without a diagnostic (the learner's choice)."""
        self._check_external(external)
        self.store.append_event(self.learner(learner).id, "skip", external, {})

    def _check_external(self, external: str) -> None:
        if external not in self.course.externals or external not in self.placement_targets():
            raise EngineError(
                self._t("engine.unknown_external", id=external,
                        known=", ".join(self.placement_targets()))
            )

    def reset(self, learner: str, item: str | None) -> int:
        """Append a reset event: earlier evidence on ``item`` (or everything) stops counting.

        ``item`` may be a question, concept or external id. Nothing is deleted: the attempts stay
        in the log (and in exports); the derived state is rebuilt without them.
        """
        if item is not None and not (
            item in self.course.questions or item in self.course.concepts
            or item in self.course.externals
        ):
            raise EngineError(self._t("engine.unknown_item", id=item))
        event_id = self.store.append_event(self.learner(learner).id, "reset", item, {})
        self.rebuild(learner)
        return event_id

    # -- what next --------------------------------------------------------------------------

    def _question_for(
        self, state: LearnerState, c: str, *, review: bool = False
    ) -> str | None:
        qs = self.index.questions_by_concept.get(c, ())
        seen = state.seen.get(c, {})
        for q in qs:
            if q not in seen:
                return q
        if review and qs:
            return min(qs, key=lambda q: seen[q])
        return None

    def _concept_item(
        self, state: LearnerState, c: str, key: str, plan_day: int | None, **fields: object
    ) -> Recommendation:
        title = self.course.concepts[c].title.get(self.lang)
        page = self.course.concepts[c].page
        warnings = self._soft_warnings(state, c)
        q = self._question_for(state, c)
        all_fields = {"concept": title, **{k: str(v) for k, v in fields.items()}}
        if q is None:
            has_any = bool(self.index.questions_by_concept.get(c))
            lkey = "engine.reason.lesson_no_fresh" if has_any else "engine.reason.lesson_no_questions"
            return Recommendation(
                "lesson", page, c, self._t(lkey, concept=title), lkey, {"concept": title},
                plan_day, page, warnings,
            )
        return Recommendation(
            "question", q, c, self._t(key, **all_fields), key, all_fields, plan_day, page,
            warnings,
        )

    def next_item(
        self, learner: str, *, now: datetime | None = None, today: date | None = None
    ) -> Recommendation:
        """The recommended next item and why (see the module docstring for the order)."""
        now = now or datetime.now(UTC)
        state = self.state(learner)
        ready = self._ready_set(state, learner)
        concepts = self.course.concepts

        # 1. due reviews (only the first is needed: no retrievability for the others)
        for d in self._first_due(state, now):
            title = concepts[d.concept].title.get(self.lang)
            key = "engine.reason.review_failed" if d.failed else "engine.reason.review_due"
            fields = {"concept": title, "r": _pct(d.retrievability)}
            q = self._question_for(state, d.concept, review=True)
            page = concepts[d.concept].page
            if q is None:
                return Recommendation("lesson", page, d.concept, self._t(key, **fields), key,
                                      fields, None, page)
            return Recommendation("review", q, d.concept, self._t(key, **fields), key, fields,
                                  None, page)

        # 2. the plan, days 1..today
        passed: set[str] | None = None
        expected = self._expected_day(self.learner(learner), today or now.date())
        for day in self.course.days[:expected]:
            behind = expected - day.day
            for c in day.concepts:
                # a concept with no fresh question cannot progress: it waits for step 5
                if (c in concepts and c not in state.ever_mastered and c in ready
                        and self._question_for(state, c) is not None):
                    if behind:
                        return self._concept_item(state, c, "engine.reason.plan_behind", day.day,
                                                  day=day.day, behind=behind)
                    return self._concept_item(state, c, "engine.reason.plan_today", day.day,
                                              day=day.day)
            if day.labs:
                if passed is None:
                    passed = self.passed_labs(learner)
                for lab_id in day.labs:
                    lab = self.course.labs.get(lab_id)
                    if lab is None or lab_id in passed:
                        continue
                    if all(c in state.ever_mastered for c in lab.concepts):
                        fields = {"day": str(day.day), "lab": lab.title.get(self.lang)}
                        return Recommendation(
                            "lab", lab_id, None, self._t("engine.reason.plan_lab", **fields),
                            "engine.reason.plan_lab", fields, day.day,
                        )

        # 3. the ready concept with the lowest mastery
        best: tuple[float, int, str] | None = None
        best_stale: tuple[float, int, str] | None = None
        for c in ready:
            if c in state.ever_mastered:
                continue
            cand = (state.p(c), self.index.order[c], c)
            if self._question_for(state, c) is not None:
                if best is None or cand < best:
                    best = cand
            elif best_stale is None or cand < best_stale:
                best_stale = cand
        if best is not None:
            return self._concept_item(state, best[2], "engine.reason.lowest", None,
                                      p=_pct(best[0]))

        # 4. labs unlocked but not passed
        if passed is None:
            passed = self.passed_labs(learner)
        for lab_id, lab in self.course.labs.items():
            if lab_id not in passed and all(c in state.ever_mastered for c in lab.concepts):
                fields = {"lab": lab.title.get(self.lang)}
                return Recommendation("lab", lab_id, None, self._t("engine.reason.lab", **fields),
                                      "engine.reason.lab", fields)

        # 5. placement when external prerequisites block concepts
        unmet = [x for x in self.placement_targets() if x not in state.externals_met]
        blocked = [c for c in concepts if c not in state.ever_mastered]
        if blocked and unmet:
            fields = {"externals": ", ".join(unmet)}
            return Recommendation("placement", unmet[0], None,
                                  self._t("engine.reason.placement", **fields),
                                  "engine.reason.placement", fields)
        # 6. a ready concept without fresh questions: re-read its lesson; 7. done
        if best_stale is not None:
            return self._concept_item(state, best_stale[2], "engine.reason.lowest", None,
                                      p=_pct(best_stale[0]))
        if blocked:
            fields = {"n": str(len(blocked))}
            return Recommendation("done", None, None, self._t("engine.reason.stuck", **fields),
                                  "engine.reason.stuck", fields)
        return Recommendation("done", None, None, self._t("engine.reason.done"),
                              "engine.reason.done")

    # -- pacing -----------------------------------------------------------------------------

    def _expected_day(self, row: LearnerRow, today: date) -> int:
        n = len(self.course.days)
        return min(max((today - row.start_date).days + 1, 1), n)

    def pacing(self, learner: str, today: date | None = None) -> Pacing:
        """Plan day, expected day, days ahead/behind and hours left (see docs/engine.md)."""
        row = self.learner(learner)
        state = self.state(learner)
        today = today or datetime.now(UTC).date()
        calendar_day = (today - row.start_date).days + 1
        passed = self.passed_labs(learner)
        first_open: int | None = None
        hours_left = 0.0
        all_done_so_far = True
        for day in self.course.days:
            items = [c for c in day.concepts if c in self.course.concepts] + list(day.labs)
            done_items = sum(
                1 for c in day.concepts if c in state.ever_mastered
            ) + sum(1 for lab in day.labs if lab in passed)
            if items:
                frac = done_items / len(items)
                complete = frac >= 1.0
            else:  # a day of free activities: complete once the calendar has passed it
                complete = all_done_so_far and calendar_day > day.day
                frac = 1.0 if complete else 0.0
            hours_left += (day.theory_hours + day.practice_hours) * (1.0 - frac)
            if not complete and first_open is None:
                first_open = day.day
            all_done_so_far = all_done_so_far and complete
        n = len(self.course.days)
        expected = self._expected_day(row, today)
        position = first_open if first_open is not None else n + 1
        return Pacing(
            plan_day=min(position, n), expected_day=expected, days_ahead=position - expected,
            hours_left=round(hours_left, 2), finished=first_open is None,
            start_date=row.start_date,
        )

    # -- summaries --------------------------------------------------------------------------

    def rubric_estimate(self, learner: str) -> dict[str, dict[str, float | int | None]]:
        """Rubric buckets the engine can estimate: concepts (mean P(known)) and implementation
        (mean best lab grade over the course's labs); analysis and innovation are None."""
        state = self.state(learner)
        ids = list(self.course.concepts)
        mean_p = sum(state.p(c) for c in ids) / len(ids) if ids else 0.0
        best: dict[str, float] = {}
        for r in self.store.grade_reports(self.learner(learner).id):
            best[r.lab_id] = max(best.get(r.lab_id, 0.0), r.score)
        labs = list(self.course.labs)
        impl = sum(best.get(lab, 0.0) for lab in labs) / len(labs) if labs else None
        out: dict[str, dict[str, float | int | None]] = {}
        for b in self.course.meta.rubric.buckets:
            score: float | None
            if b.id == "concepts":
                score = mean_p
            elif b.id == "implementation":
                score = impl
            else:
                score = None
            out[b.id] = {
                "weight": b.weight,
                "score": None if score is None else round(score, 4),
                "points": None if score is None else round(score * b.weight, 2),
            }
        out["concepts"]["mastered"] = len(state.ever_mastered & set(ids))
        out["concepts"]["total"] = len(ids)
        return out

    def level_summary(self, learner: str) -> list[dict[str, object]]:
        """Per level: number of concepts, mastered, mean P(known)."""
        state = self.state(learner)
        out = []
        for lv in self.course.levels:
            ids = [c for c, m in self.course.concepts.items() if m.level == lv.number]
            out.append({
                "level": lv.number, "id": lv.id, "title": lv.title.get(self.lang),
                "concepts": len(ids),
                "mastered": sum(1 for c in ids if c in state.ever_mastered),
                "mean_p_known": round(sum(state.p(c) for c in ids) / len(ids), 4) if ids else 0.0,
            })
        return out


def observations_for_export(
    engine: Engine, learner: str
) -> tuple[LearnerState, list[Observation]]:
    """Replay the learner's logs and return every per-concept observation (pyBKT export)."""
    row = engine.learner(learner)
    obs: list[Observation] = []
    state = replay(row.id, engine.index, engine.store.replay_rows(row.id),
                   engine.store.events(row.id), engine.scheduler, on_observation=obs)
    return state, obs


def mastery_json(states: Mapping[str, ConceptState]) -> dict[str, dict[str, object]]:
    """JSON-ready mastery map."""
    return {
        c: {
            "p_known": round(s.p_known, 4), "state": s.state, "attempts": s.attempts,
            "unlocked": s.unlocked, "due": s.due.isoformat() if s.due else None,
            "retrievability": None if s.retrievability is None else round(s.retrievability, 4),
        }
        for c, s in states.items()
    }
