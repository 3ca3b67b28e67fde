"""The terminal app. Importing this package is free: Textual loads inside ``make_app``/``run_app``.

``make_app(...)`` builds a ``TutorApp`` with its dependencies passed in (tests pass fakes: a test
app is one line); ``run_app(args)`` is what `tutor` (no sub-command) calls.

How it is put together:

- ``app.py`` is a router: one Textual *mode* per top-level screen (home, map, plan, labs, report,
  calculators, settings), each module imported on first visit; lesson, quiz and help are pushed
  on top. App-level bindings have ids; their labels and tooltips come from ``strings.py`` and are
  rewritten on a live language switch.
- ``services.py`` is the only door to the rest of the tutor (course, engine + store, answer
  grader, lab runner and checks, memory estimator). Each dependency can be injected; missing or
  broken ones raise ``Unavailable`` and the screen says so in words.
- Start-up: the first screen paints before the course is loaded (pydantic + YAML cost ~0.7 s on
  an idle 2-core machine); a worker loads it after the first refresh and the screen re-renders.
  Sympy loads only in the quiz's preview/grading workers; torch & co. only in a lab's subprocess.
- Background work posts typed messages (``messages.py``): ``PreviewReady``, ``GradeFinished``,
  ``LabProgress`` (``can_replace``: floods collapse), ``LabLog``, ``LabFinished``.
- Screens render from ``compose()``; when the language or the progress version changed while a
  screen was hidden it recomposes on resume (``screens/base.py``).
- ``frozen=True`` (snapshots): no cursor blink, no animation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

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
