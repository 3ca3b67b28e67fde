"""A learner's derived state, computed by replaying the attempt and event logs.

Nothing here is stored: ``replay`` rebuilds it from the logs (``Engine.rebuild``) and
``LearnerState.apply_attempt`` advances it by one attempt (``Engine.record_attempt``), so the
two paths share one implementation and always agree.

Rules applied per (attempt, concept) pair, in log order:

* Only verdicts ``correct``, ``partial`` and ``incorrect`` count; ``undetermined`` and
  ``timeout`` (the grader could not decide) are logged but change nothing; ``invalid`` input is
  never logged.
* BKT: the first attempt at an item updates the concept (per (item, concept) pair); so does a
  *retry* of the pair while the concept is not mastered, when at least ``RETRY_SPACING`` (one
  hour) has passed since the learner's latest attempt at that pair (a retry round: see
  docs/engine.md). An immediate repeat changes nothing and restarts the hour, so answering the
  same question again right away cannot farm mastery. An observation is "correct" only when
  the status is ``correct`` and no hint was used.
* Once P(known) reaches the concept's threshold the concept is *mastered*: a fsrs card is created
  with a ``Good`` review at that moment. A later counted attempt on the concept (first or
  repeated item) is a review of that card when the card is due, when the concept needs review,
  or when the answer fails: ``Good`` (correct, no hint), ``Hard`` (correct with a hint, or
  partial), ``Again`` (incorrect). A passing answer before the due date is not a review (it would
  only stretch the interval on a memory that was never tested by time). ``Again`` makes the state
  *needs review*; the next passing review makes it *mastered* again.
* Resets (events) void earlier pairs: ``reset --all`` voids everything before it, ``reset --item
  Q`` the attempts at question Q, ``reset --item C`` the pairs of concept C, ``reset --item X``
  the placement results and skips of external prerequisite X. Voided pairs and events are
  skipped as if they never happened (they stay in the logs).
* Placement and skip events meet external prerequisites; the latest placement result counts.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from fsrs import Card, Rating

from tutor.engine.bkt import bkt_update

if TYPE_CHECKING:
    from fsrs import ReviewLog, Scheduler

    from tutor.engine.index import CourseIndex, GroupKey
    from tutor.store.db import AttemptRow, EventRow

COUNTED_STATUSES = frozenset({"correct", "partial", "incorrect"})
"""Verdict statuses that are evidence about the learner (others are the grader's failures)."""

MasteryState = Literal["not_started", "learning", "mastered", "needs_review"]

RETRY_SPACING = timedelta(hours=1)
"""A repeated question counts again for a concept not yet mastered only this long after the
learner's latest attempt at it: long enough that the answer is recalled from understanding (the
lesson was reread meanwhile), not from the feedback seen a minute ago (spaced retrieval)."""


def card_id_for(concept_id: str) -> int:
    """A stable fsrs card id for a concept (fsrs would otherwise sleep 1 ms to make one)."""
    return zlib.crc32(concept_id.encode("utf-8")) + 1


def make_scheduler() -> Scheduler:
    """The review scheduler: desired retention 0.9, deterministic, day-granular.

    No learning steps (mastery was already established by BKT over several items, so the first
    review goes straight to a multi-day interval) and no fuzzing (a rebuild must reproduce the
    exact due dates).
    """
    from fsrs import Scheduler

    return Scheduler(
        desired_retention=0.9, learning_steps=(), relearning_steps=(), enable_fuzzing=False
    )


@dataclass
class Voids:
    """Which (attempt, concept) pairs and events resets have voided."""

    all_before: int = 0
    """Attempts with id <= this are void (``reset --all``)."""
    all_before_event: int = 0
    """Events with id < this are void (``reset --all``)."""
    item_before: dict[str, int] = field(default_factory=dict)
    """Question or concept id -> attempts with id <= this are void for it."""
    external_before_event: dict[str, int] = field(default_factory=dict)
    """External id -> placement/skip events with id < this are void."""

    def any(self) -> bool:
        """Whether any reset is in force (the replay skips the checks otherwise)."""
        return bool(self.all_before or self.item_before)

    def attempt_void(self, attempt_id: int, item_id: str) -> bool:
        """Whether the whole attempt is void."""
        return attempt_id <= self.all_before or attempt_id <= self.item_before.get(item_id, 0)

    def pair_void(self, attempt_id: int, concept: str) -> bool:
        """Whether the attempt's evidence on ``concept`` is void."""
        return attempt_id <= self.item_before.get(concept, 0)


def collect_voids(events: list[EventRow]) -> Voids:
    """The voids implied by the reset events."""
    v = Voids()
    for e in events:
        if e.kind != "reset":
            continue
        if e.item_id is None:
            v.all_before = max(v.all_before, e.after_attempt)
            v.all_before_event = max(v.all_before_event, e.id)
        else:
            v.item_before[e.item_id] = max(v.item_before.get(e.item_id, 0), e.after_attempt)
            v.external_before_event[e.item_id] = e.id
    return v


@dataclass
class Observation:
    """What one attempt did to one concept (for ``RecordResult`` and the pyBKT export)."""

    attempt_id: int
    """Attempt id."""
    concept: str
    """Concept id."""
    counted: bool
    """Whether it updated BKT (first attempt at the item for this concept, or a spaced retry)."""
    correct: bool
    """The BKT observation (correct and no hint)."""
    p_before: float
    """P(known) before."""
    p_after: float
    """P(known) after."""
    review: int | None
    """fsrs rating of the review it made (1 Again .. 4 Easy), or None."""
    newly_mastered: bool
    """Whether this pair mastered the concept."""


@dataclass
class LearnerState:
    """Everything derived about one learner."""

    learner_id: int
    """Learner row id."""
    index: CourseIndex
    """The course's lookup tables."""
    scheduler: Scheduler
    """fsrs scheduler."""
    p_known: dict[str, float] = field(default_factory=dict)
    """Concept -> P(known) (absent: the concept's p_init)."""
    observations: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Concept -> number of BKT observations."""
    counted_pairs: set[tuple[str, str]] = field(default_factory=set)
    """(item, concept) pairs with at least one counted attempt (a later one is a retry)."""
    seen: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    """Concept -> item -> time of its latest counted attempt (for choosing questions)."""
    cards: dict[str, Card] = field(default_factory=dict)
    """Concept -> fsrs card (mastered concepts only)."""
    failed: set[str] = field(default_factory=set)
    """Concepts whose latest review was ``Again`` (state needs review)."""
    ever_mastered: set[str] = field(default_factory=set)
    """Concepts mastered at some point (unlocking never relocks)."""
    group_mastered: dict[GroupKey, int] = field(default_factory=lambda: defaultdict(int))
    """(topic, level) -> number of its concepts in ``ever_mastered``."""
    mastered_at: dict[str, datetime] = field(default_factory=dict)
    """Concept -> when it was first mastered."""
    review_logs: list[tuple[str, ReviewLog]] = field(default_factory=list)
    """(concept, fsrs review log) in order."""
    externals_met: dict[str, str] = field(default_factory=dict)
    """External id -> how it was met: ``placement`` or ``skip``."""
    placement_results: dict[str, dict[str, object]] = field(default_factory=dict)
    """External id -> payload of its latest placement event."""
    attempted_items: dict[str, datetime] = field(default_factory=dict)
    """Question id -> time of its latest non-void attempt."""
    last_attempt_id: int = 0
    """Largest attempt id applied."""
    last_event_id: int = 0
    """Largest event id applied."""
    version: int = 0
    """Bumped on every change."""
    mastered_order: list[str] = field(default_factory=list)
    """``ever_mastered`` in the order concepts were mastered (incremental unlock updates)."""
    externals_version: int = 0
    """Bumped when ``externals_met`` may have changed (readiness must be recomputed)."""
    voids: Voids = field(default_factory=Voids)
    """Resets in force."""

    def p(self, concept: str) -> float:
        """P(known) of ``concept``."""
        got = self.p_known.get(concept)
        return self.index.bkt[concept].p_init if got is None else got

    def state_of(self, concept: str) -> MasteryState:
        """The concept's mastery state."""
        if concept in self.cards:
            return "needs_review" if concept in self.failed else "mastered"
        return "learning" if self.observations.get(concept, 0) else "not_started"

    def apply_attempt(self, a: AttemptRow) -> list[Observation]:
        """Advance the state by one logged attempt; returns what it did per concept."""
        out: list[Observation] = []
        self.apply(a.id, a.item_id, a.concepts, a.status, a.hints_used, a.created_at, out)
        return out

    def apply(
        self,
        aid: int,
        item: str,
        concepts: tuple[str, ...],
        status: str,
        hints_used: int,
        ts: datetime,
        out: list[Observation] | None = None,
    ) -> None:
        """Advance the state by one attempt given as fields (the replay hot path: about 1 s
        per 100,000 attempts, so locals are bound and observations only built when asked)."""
        if aid > self.last_attempt_id:
            self.last_attempt_id = aid
        self.version += 1
        if status not in COUNTED_STATUSES:
            return
        voids = self.voids
        has_voids = voids.any()
        if has_voids and voids.attempt_void(aid, item):
            return
        self.attempted_items[item] = ts
        correct = status == "correct" and hints_used == 0
        if correct:
            rating = Rating.Good
        elif status == "correct" or status == "partial":
            rating = Rating.Hard
        else:
            rating = Rating.Again
        index = self.index
        bkt = index.bkt
        p_known = self.p_known
        counted_pairs = self.counted_pairs
        cards = self.cards
        failed = self.failed
        for c in concepts:
            params = bkt.get(c)
            if params is None or (has_voids and voids.pair_void(aid, c)):
                continue
            key = (item, c)
            got = p_known.get(c)
            before = params.p_init if got is None else got
            after = before
            card = cards.get(c)
            counted = key not in counted_pairs
            if not counted and card is None:
                # a retry round: spaced from the latest attempt at this pair, mastery not reached
                last = self.seen[c].get(item)
                counted = last is not None and ts - last >= RETRY_SPACING
            if counted:
                counted_pairs.add(key)
                after = bkt_update(before, correct, params)
                p_known[c] = after
                self.observations[c] += 1
            self.seen[c][item] = ts
            review: int | None = None
            newly = False
            if card is not None:
                if rating == Rating.Again or c in failed or card.due <= ts:
                    card, log = self.scheduler.review_card(card, rating, ts)
                    cards[c] = card
                    self.review_logs.append((c, log))
                    review = int(rating)
                    if rating == Rating.Again:
                        failed.add(c)
                    else:
                        failed.discard(c)
            elif after >= params.threshold:
                card, log = self.scheduler.review_card(
                    Card(card_id=card_id_for(c)), Rating.Good, ts
                )
                cards[c] = card
                self.review_logs.append((c, log))
                self.mastered_at.setdefault(c, ts)
                review = int(Rating.Good)
                newly = c not in self.ever_mastered
                if newly:
                    self.ever_mastered.add(c)
                    self.mastered_order.append(c)
                    self.group_mastered[index.group[c]] += 1
            if out is not None:
                out.append(Observation(aid, c, counted, correct, before, after, review, newly))

    def apply_event(self, e: EventRow) -> None:
        """Apply a placement or skip event (resets are applied through ``voids`` by replay)."""
        self.last_event_id = max(self.last_event_id, e.id)
        self.version += 1
        self.externals_version += 1
        if e.kind not in ("placement", "skip") or e.item_id is None:
            return
        if e.id < self.voids.all_before_event:
            return
        if e.id < self.voids.external_before_event.get(e.item_id, 0):
            return
        if e.kind == "skip":
            self.externals_met[e.item_id] = "skip"
            return
        self.placement_results[e.item_id] = dict(e.payload)
        if e.payload.get("passed"):
            self.externals_met[e.item_id] = "placement"
        else:
            self.externals_met.pop(e.item_id, None)


ReplayRow = tuple[int, str, tuple[str, ...], str, int, datetime]
"""(attempt id, item id, concepts, status, hints used, time): what the replay reads."""


def replay_rows(attempts: Iterable[AttemptRow]) -> list[ReplayRow]:
    """``AttemptRow``s as replay rows."""
    return [(a.id, a.item_id, a.concepts, a.status, a.hints_used, a.created_at) for a in attempts]


def replay(
    learner_id: int,
    index: CourseIndex,
    attempts: Sequence[ReplayRow],
    events: list[EventRow],
    scheduler: Scheduler | None = None,
    on_observation: list[Observation] | None = None,
) -> LearnerState:
    """Rebuild a learner's state from the logs (events interleave after ``after_attempt``).

    ``attempts`` come from ``Store.replay_rows`` (or ``replay_rows(store.attempts(...))``).
    """
    state = LearnerState(learner_id=learner_id, index=index, scheduler=scheduler or make_scheduler())
    state.voids = collect_voids(events)
    pending = sorted(events, key=lambda e: (e.after_attempt, e.id))
    j = 0
    n_pending = len(pending)
    apply = state.apply
    for aid, item, concepts, status, hints, ts in attempts:
        while j < n_pending and pending[j].after_attempt < aid:
            state.apply_event(pending[j])
            j += 1
        apply(aid, item, concepts, status, hints, ts, on_observation)
    while j < n_pending:
        state.apply_event(pending[j])
        j += 1
    return state
