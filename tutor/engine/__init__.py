"""The adaptive engine: BKT mastery, unlocking, fsrs spaced review, what-next and pacing.

Headless: imports neither Textual nor the ML stack (fsrs is imported on first use). Public API::

    from tutor.engine import Engine
    from tutor.store import Store
    engine = Engine(course, Store(path))
    engine.record_attempt(learner, question_id, answer, verdict, hints_used, duration_s, seed)
    engine.mastery(learner); engine.ready_concepts(learner); engine.lab_status(learner)
    engine.next_item(learner); engine.due_reviews(learner); engine.pacing(learner, today)
    engine.rebuild(learner)
    from tutor.engine.export import export_text   # csv / jsonl / pybkt
    from tutor.engine.simulate import run_learner, course_retry_problems  # scripted learners

The rules are documented in docs/engine.md and in the docstrings of ``engine``, ``index`` and
``state``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConceptState",
    "DueReview",
    "Engine",
    "EngineError",
    "LabStatus",
    "LockReason",
    "Pacing",
    "Recommendation",
    "RecordResult",
    "bkt_update",
]


def __getattr__(name: str) -> Any:  # PEP 562: `import tutor.engine` stays cheap
    if name == "bkt_update":
        from tutor.engine.bkt import bkt_update

        return bkt_update
    if name in __all__:
        from tutor.engine import engine

        return getattr(engine, name)
    raise AttributeError(name)
