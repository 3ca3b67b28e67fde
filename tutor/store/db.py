"""The progress database (stdlib ``sqlite3``).

Durability and concurrency, and why:

* ``journal_mode=WAL``: readers never block the writer and a process killed mid-write leaves the
  database consistent (the half-written transaction is simply not in the committed WAL).
* ``synchronous=NORMAL`` (default) with WAL: every transaction is atomic and consistent, and a
  committed transaction survives the *process* being killed (SIGKILL, crash, Ctrl-C) because it
  is already in the WAL file in the OS page cache; only an OS crash or power loss can roll back
  the last few commits (never corrupt the file). That costs no fsync per answer (recording stays
  well under 5 ms). ``Store(path, synchronous="FULL")`` (or ``TUTOR_DB_SYNC=FULL``) fsyncs every
  commit for machines where power loss matters more than latency.
* ``busy_timeout`` (5 s): a second process (the app and a ``tutor answer`` at the same time)
  waits for the write lock instead of failing with "database is locked"; every write is one short
  ``BEGIN IMMEDIATE`` transaction so lock upgrades never deadlock.

The attempt and event logs are append-only: this module has no UPDATE or DELETE on them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from tutor.store.migrations import LATEST_VERSION, MIGRATIONS

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
BUSY_TIMEOUT_MS = 5000
"""How long a writer waits for another process's write lock before giving up."""


def _text(value: str) -> str:
    """``value`` as storable UTF-8: lone surrogates (invalid UTF-8 from a command line, as
    Python decodes ``sys.argv``) become ``\\udcff`` escapes instead of failing the insert."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class StoreError(Exception):
    """The database cannot be used (newer schema, not a database, unwritable path)."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (fsrs requires UTC)."""
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat()


def parse_ts(text: str) -> datetime:
    """Parse a stored timestamp back into an aware UTC datetime."""
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LearnerRow:
    """A learner profile."""

    id: int
    """Row id."""
    name: str
    """Profile name (``default`` unless chosen)."""
    created_at: datetime
    """When the profile was created."""
    start_date: date
    """Day 1 of the learner's 20-day plan."""


@dataclass(frozen=True, slots=True)
class AttemptIn:
    """One graded answer, as handed to ``Store.append_attempt``."""

    item_id: str
    """Question id (or another gradable item id)."""
    concepts: Sequence[str]
    """Concept (or external) ids the item gives evidence on."""
    answer: str
    """The learner's raw answer text."""
    status: str
    """Verdict status: correct, partial, incorrect, undetermined, timeout."""
    score: float
    """Verdict score, 0..1."""
    hints_used: int = 0
    """Hints shown before answering."""
    duration_s: float | None = None
    """Seconds the learner spent, when known."""
    created_at: datetime | None = None
    """When it was answered (default: now, UTC)."""
    seed: int | None = None
    """Variant seed of a randomised question."""
    note: str | None = None
    """Answer note of the matched response-tree node."""


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One row of the attempt log."""

    id: int
    """Monotonic attempt id (global across learners)."""
    learner_id: int
    """Learner row id."""
    item_id: str
    """Question id."""
    concepts: tuple[str, ...]
    """Concept ids."""
    answer: str
    """Raw answer."""
    status: str
    """Verdict status."""
    score: float
    """Verdict score."""
    hints_used: int
    """Hints used before answering."""
    duration_s: float | None
    """Seconds spent."""
    created_at: datetime
    """When answered (UTC)."""
    seed: int | None
    """Variant seed."""
    note: str | None
    """Answer note."""


@dataclass(frozen=True, slots=True)
class EventRow:
    """A non-attempt event: placement, skip, reset."""

    id: int
    """Event id."""
    learner_id: int
    """Learner row id."""
    kind: str
    """``placement``, ``skip`` or ``reset``."""
    item_id: str | None
    """External id (placement/skip), reset target (question/concept id) or None (reset all)."""
    payload: dict[str, Any]
    """Kind-specific details."""
    created_at: datetime
    """When it happened."""
    after_attempt: int
    """The largest attempt id at the time: attempts with id <= this came before the event."""


@dataclass(frozen=True, slots=True)
class LabRunRow:
    """A recorded lab run."""

    id: int
    """Row id."""
    learner_id: int
    """Learner row id."""
    lab_id: str
    """Lab id."""
    status: str
    """How the run ended (``ok``, ``failed``, ``timeout`` ...)."""
    created_at: datetime
    """When it was recorded."""
    payload: dict[str, Any]
    """Run details (metrics, artifact paths)."""


@dataclass(frozen=True, slots=True)
class GradeReportRow:
    """A recorded lab grade report."""

    id: int
    """Row id."""
    learner_id: int
    """Learner row id."""
    lab_id: str
    """Lab id."""
    score: float
    """Score 0..1."""
    passed: bool
    """Whether the lab's checks passed."""
    created_at: datetime
    """When it was recorded."""
    payload: dict[str, Any]
    """The full report (JSON)."""


_ATTEMPT_COLS = (
    "id, learner_id, item_id, concepts, answer, status, score, hints_used, duration_s, "
    "created_at, seed, note"
)


_concepts_cache: dict[str, tuple[str, ...]] = {}


def _concepts(text: str) -> tuple[str, ...]:
    # The same few thousand concept lists repeat across a log; decoding each once halves the
    # cost of reading 100,000 attempts.
    got = _concepts_cache.get(text)
    if got is None:
        got = tuple(json.loads(text))
        if len(_concepts_cache) < 100_000:
            _concepts_cache[text] = got
    return got


def _attempt(row: tuple[Any, ...]) -> AttemptRow:
    return AttemptRow(
        id=row[0], learner_id=row[1], item_id=row[2], concepts=_concepts(row[3]),
        answer=row[4], status=row[5], score=row[6], hints_used=row[7], duration_s=row[8],
        created_at=parse_ts(row[9]), seed=row[10], note=row[11],
    )


def _event(row: tuple[Any, ...]) -> EventRow:
    return EventRow(
        id=row[0], learner_id=row[1], kind=row[2], item_id=row[3], payload=json.loads(row[4]),
        created_at=parse_ts(row[5]), after_attempt=row[6],
    )


class Store:
    """The progress database of all learner profiles on this machine."""

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: Synchronous | None = None
    ) -> None:
        """Open (creating and migrating when needed) the database at ``path``.

        ``synchronous`` defaults to TUTOR_DB_SYNC, then NORMAL (see the module docstring).
        Raises ``StoreError`` with a readable message when the file cannot be used.
        """
        self.path = Path(path)
        self._lock = threading.RLock()
        sync = synchronous or os.environ.get("TUTOR_DB_SYNC", "NORMAL").upper()
        if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"TUTOR_DB_SYNC must be NORMAL or FULL, not {sync!r}")
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the progress database {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot create the progress database {self.path}: {exc}") from None

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: take the write lock up front).

        Threads sharing this Store take turns (the app records from worker threads)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: reads inside see one consistent state of the database (WAL)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            finally:
                self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if current > LATEST_VERSION:
                raise StoreError(
                    f"the progress database {self.path} has schema version {current}, newer than "
                    f"this tutor ({LATEST_VERSION}); upgrade the tutor"
                )
            for version in range(current + 1, LATEST_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version(version, applied_at) VALUES (?, ?)",
                    (version, _iso(utcnow())),
                )

    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a healthy file."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- learners ---------------------------------------------------------------------------

    def learner(self, name: str, *, create: bool = True, today: date | None = None) -> LearnerRow:
        """The profile called ``name``, created (start date ``today``) when missing and ``create``.

        Raises KeyError when it does not exist and ``create`` is false.
        """
        name = _text(name)
        row = self._db.execute(
            "SELECT id, name, created_at, start_date FROM learners WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            if not create:
                raise KeyError(name)
            now = utcnow()
            start = today or now.date()
            with self.transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO learners(name, created_at, start_date) VALUES (?, ?, ?)",
                    (name, _iso(now), start.isoformat()),
                )
            row = self._db.execute(
                "SELECT id, name, created_at, start_date FROM learners WHERE name = ?", (name,)
            ).fetchone()
        return LearnerRow(row[0], row[1], parse_ts(row[2]), date.fromisoformat(row[3]))

    def learners(self) -> list[LearnerRow]:
        """All profiles, oldest first."""
        rows = self._db.execute(
            "SELECT id, name, created_at, start_date FROM learners ORDER BY id"
        ).fetchall()
        return [LearnerRow(r[0], r[1], parse_ts(r[2]), date.fromisoformat(r[3])) for r in rows]

    def set_start_date(self, learner_id: int, start: date) -> None:
        """Move day 1 of the learner's plan (profile metadata, not part of the logs)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE learners SET start_date = ? WHERE id = ?", (start.isoformat(), learner_id)
            )

    # -- attempts ---------------------------------------------------------------------------

    def append_attempt(self, learner_id: int, attempt: AttemptIn) -> int:
        """Append one attempt in its own transaction; returns its id once committed."""
        with self.transaction() as db:
            return self.insert_attempt(db, learner_id, attempt)

    def insert_attempt(self, db: sqlite3.Connection, learner_id: int, attempt: AttemptIn) -> int:
        """Insert inside a transaction the caller holds (``with store.transaction() as db``)."""
        cur = db.execute(
            f"INSERT INTO attempts({_ATTEMPT_COLS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                learner_id, _text(attempt.item_id), json.dumps(list(attempt.concepts)),
                _text(attempt.answer), attempt.status, float(attempt.score),
                int(attempt.hints_used), attempt.duration_s, _iso(attempt.created_at or utcnow()),
                attempt.seed, None if attempt.note is None else _text(attempt.note),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def attempts(self, learner_id: int, *, after_id: int = 0) -> list[AttemptRow]:
        """The learner's attempts with id > ``after_id``, in log order."""
        rows = self._db.execute(
            f"SELECT {_ATTEMPT_COLS} FROM attempts WHERE learner_id = ? AND id > ? ORDER BY id",
            (learner_id, after_id),
        ).fetchall()
        return [_attempt(r) for r in rows]

    def replay_rows(
        self, learner_id: int
    ) -> list[tuple[int, str, tuple[str, ...], str, int, datetime]]:
        """(id, item, concepts, status, hints used, time) of the learner's attempts, in order:
        only what the engine's replay reads (a third of the cost of full ``AttemptRow``s)."""
        rows = self._db.execute(
            "SELECT id, item_id, concepts, status, hints_used, created_at FROM attempts "
            "WHERE learner_id = ? ORDER BY id",
            (learner_id,),
        ).fetchall()
        return [(r[0], r[1], _concepts(r[2]), r[3], r[4], parse_ts(r[5])) for r in rows]

    def attempt(self, attempt_id: int) -> AttemptRow | None:
        """One attempt by id (the naive per-row access the benchmark compares against)."""
        row = self._db.execute(
            f"SELECT {_ATTEMPT_COLS} FROM attempts WHERE id = ?", (attempt_id,)
        ).fetchone()
        return _attempt(row) if row else None

    def attempt_ids(self, learner_id: int) -> list[int]:
        """Ids of the learner's attempts, in order."""
        rows = self._db.execute(
            "SELECT id FROM attempts WHERE learner_id = ? ORDER BY id", (learner_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def count_attempts(self, learner_id: int | None = None) -> int:
        """Number of logged attempts (of one learner, or all)."""
        if learner_id is None:
            return int(self._db.execute("SELECT count(*) FROM attempts").fetchone()[0])
        return int(
            self._db.execute(
                "SELECT count(*) FROM attempts WHERE learner_id = ?", (learner_id,)
            ).fetchone()[0]
        )

    def watermark(self, learner_id: int) -> tuple[int, int]:
        """(largest attempt id, largest event id) of the learner: changes on every append."""
        a = self._db.execute(
            "SELECT coalesce(max(id), 0) FROM attempts WHERE learner_id = ?", (learner_id,)
        ).fetchone()[0]
        e = self._db.execute(
            "SELECT coalesce(max(id), 0) FROM events WHERE learner_id = ?", (learner_id,)
        ).fetchone()[0]
        return int(a), int(e)

    # -- events -----------------------------------------------------------------------------

    def append_event(
        self,
        learner_id: int,
        kind: str,
        item_id: str | None = None,
        payload: dict[str, Any] | None = None,
        *,
        created_at: datetime | None = None,
    ) -> int:
        """Append a placement / skip / reset event; returns its id once committed."""
        with self.transaction() as db:
            after = db.execute(
                "SELECT coalesce(max(id), 0) FROM attempts WHERE learner_id = ?", (learner_id,)
            ).fetchone()[0]
            cur = db.execute(
                "INSERT INTO events(learner_id, kind, item_id, payload, created_at, after_attempt)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (learner_id, kind, item_id, json.dumps(payload or {}, ensure_ascii=False),
                 _iso(created_at or utcnow()), after),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def events(self, learner_id: int, *, after_id: int = 0) -> list[EventRow]:
        """The learner's events with id > ``after_id``, in order."""
        rows = self._db.execute(
            "SELECT id, learner_id, kind, item_id, payload, created_at, after_attempt "
            "FROM events WHERE learner_id = ? AND id > ? ORDER BY id",
            (learner_id, after_id),
        ).fetchall()
        return [_event(r) for r in rows]

    # -- labs -------------------------------------------------------------------------------

    def _learner_id(self, learner: int | str) -> int:
        """A learner row id, from an id or a profile name (created when missing)."""
        return learner if isinstance(learner, int) else self.learner(learner).id

    def add_lab_run(
        self,
        learner: int | str,
        lab_id: str,
        status: str,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Record a lab run of ``learner`` (row id or profile name); ``status`` is how it ended
        (``ok``, ``failed``, ``timeout`` ...), ``payload`` any JSON details."""
        if not isinstance(status, str):
            raise TypeError("add_lab_run(learner, lab_id, status: str, payload: dict)")
        learner_id = self._learner_id(learner)
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO lab_runs(learner_id, lab_id, status, created_at, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                (learner_id, lab_id, status, _iso(utcnow()),
                 json.dumps(payload or {}, ensure_ascii=False, default=str)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def lab_runs(self, learner: int | str, lab_id: str | None = None) -> list[LabRunRow]:
        """The learner's lab runs (of one lab, or all), oldest first."""
        learner_id = self._learner_id(learner)
        sql = "SELECT id, learner_id, lab_id, status, created_at, payload FROM lab_runs "
        sql += "WHERE learner_id = ?" + (" AND lab_id = ?" if lab_id else "") + " ORDER BY id"
        params: tuple[Any, ...] = (learner_id, lab_id) if lab_id else (learner_id,)
        return [
            LabRunRow(r[0], r[1], r[2], r[3], parse_ts(r[4]), json.loads(r[5]))
            for r in self._db.execute(sql, params).fetchall()
        ]

    def add_grade_report(
        self,
        learner: int | str,
        lab_id: str,
        score: float,
        passed: bool,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Record a lab grade report of ``learner`` (row id or profile name): score 0..1,
        whether the lab's checks passed (unlocks "done" in pacing), the report as JSON."""
        learner_id = self._learner_id(learner)
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO grade_reports(learner_id, lab_id, score, passed, created_at, payload)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (learner_id, lab_id, float(score), int(bool(passed)), _iso(utcnow()),
                 json.dumps(payload or {}, ensure_ascii=False, default=str)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def grade_reports(
        self, learner: int | str, lab_id: str | None = None
    ) -> list[GradeReportRow]:
        """The learner's grade reports (of one lab, or all), oldest first."""
        learner_id = self._learner_id(learner)
        sql = "SELECT id, learner_id, lab_id, score, passed, created_at, payload FROM grade_reports "
        sql += "WHERE learner_id = ?" + (" AND lab_id = ?" if lab_id else "") + " ORDER BY id"
        params: tuple[Any, ...] = (learner_id, lab_id) if lab_id else (learner_id,)
        return [
            GradeReportRow(r[0], r[1], r[2], r[3], bool(r[4]), parse_ts(r[5]), json.loads(r[6]))
            for r in self._db.execute(sql, params).fetchall()
        ]
