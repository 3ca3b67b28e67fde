"""SQLite progress store: learners, the append-only attempt log, events, lab runs, grade reports.

Headless (stdlib ``sqlite3`` only). Public API: ``Store(path)`` and the row types; see
``tutor.store.db`` for the durability choices (WAL, ``synchronous=NORMAL``, ``busy_timeout``) and
``tutor.store.migrations`` for the schema history.
"""

from __future__ import annotations

from tutor.store.db import (
    AttemptIn,
    AttemptRow,
    EventRow,
    GradeReportRow,
    LabRunRow,
    LearnerRow,
    Store,
    StoreError,
)
from tutor.store.migrations import LATEST_VERSION

__all__ = [
    "LATEST_VERSION",
    "AttemptIn",
    "AttemptRow",
    "EventRow",
    "GradeReportRow",
    "LabRunRow",
    "LearnerRow",
    "Store",
    "StoreError",
]
