"""The terminal app. Importing this package is free: Textual loads inside ``make_app``/``run_app``.

``make_app(...)`` builds a ``TutorApp`` with its dependencies passed in (tests pass fakes: a test
app is one line); ``run_app(args)`` is what `tutor` (no sub-command) calls.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.app.app import TutorApp
    from tutor.curriculum.models import Course

__all__ = ["make_app", "run_app"]


def make_app(
    course: Course | None = None,
    store: Any = None,
    lang: str = "en",
    learner: str = "default",
    clock: Callable[[], datetime] | None = None,
    grader: Any = None,
    *,
    engine: Any = None,
    lab_runner: Any = None,
    estimator: Any = None,
    db_path: str | None = None,
    curriculum: str | None = None,
    frozen: bool = False,
) -> TutorApp:
    """Build the app. Anything left None is loaded lazily from its package on first use.

    ``frozen`` makes the app deterministic for snapshots: no cursor blink, no animation.
    """
    from tutor.app.app import TutorApp
    from tutor.app.services import Services

    services = Services(
        course=course, store=store, engine=engine, grader=grader, lab_runner=lab_runner,
        estimator=estimator, learner=learner, clock=clock, db_path=db_path,
        curriculum=curriculum,
    )
    return TutorApp(services, lang=lang, frozen=frozen)


def run_app(args: argparse.Namespace) -> int:
    """Run the app for the `tutor` command (args: lang, db, curriculum, learner)."""
    app = make_app(
        lang=getattr(args, "lang", None) or "en",
        learner=getattr(args, "learner", None) or "default",
        db_path=getattr(args, "db", None),
        curriculum=getattr(args, "curriculum", None),
    )
    app.run()
    return int(app.return_code or 0)
