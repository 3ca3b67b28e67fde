"""Schema history of the progress database: forward-only migrations.

Each migration is a list of SQL statements applied in one transaction together with its row in
``schema_version``; a database is brought to ``LATEST_VERSION`` when a ``Store`` opens it. Never
edit a released migration: append a new one. A database newer than this code is refused (the
older tutor would not know the newer tables' invariants).
"""

from __future__ import annotations

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE learners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            start_date TEXT NOT NULL
        )""",
        # The attempt log is append-only: no UPDATE or DELETE anywhere in the code. Derived state
        # (mastery, review cards) is rebuilt from it. ``concepts`` is a JSON array of ids.
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            item_id TEXT NOT NULL,
            concepts TEXT NOT NULL,
            answer TEXT NOT NULL,
            status TEXT NOT NULL,
            score REAL NOT NULL,
            hints_used INTEGER NOT NULL DEFAULT 0,
            duration_s REAL,
            created_at TEXT NOT NULL,
            seed INTEGER,
            note TEXT
        )""",
        "CREATE INDEX attempts_learner ON attempts(learner_id, id)",
        # Events: placement results, explicit skips of external prerequisites, resets. Also
        # append-only; ``after_attempt`` orders an event against the attempt log.
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            kind TEXT NOT NULL,
            item_id TEXT,
            payload TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            after_attempt INTEGER NOT NULL
        )""",
        "CREATE INDEX events_learner ON events(learner_id, id)",
    ],
    2: [
        """CREATE TABLE lab_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            lab_id TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX lab_runs_learner ON lab_runs(learner_id, lab_id)",
        """CREATE TABLE grade_reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            lab_id TEXT NOT NULL,
            score REAL NOT NULL,
            passed INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX grade_reports_learner ON grade_reports(learner_id, lab_id)",
    ],
}
"""version -> statements. Version 1: learners, attempts, events. Version 2: lab runs, grade reports."""

LATEST_VERSION = max(MIGRATIONS)
"""The schema version this code writes."""
