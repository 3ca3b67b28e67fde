"""The labs screen with the real lab stack (tutor.labs runner, workspaces, graders.labs checks).

The functional loop in test_app_flow.py uses a fake runner; these tests run Lab-1.1 for real.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_app_support import FakeGrader, build_course, fixed_clock
from textual.widgets import ProgressBar, Static

REPO = Path(__file__).resolve().parent.parent
LAB_DIR = REPO / "exercises" / "lab-1.1-peft-lora"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LAB_DIR.is_dir(), reason="Lab-1.1 kit not present"),
]


def _app(tmp_path: Path) -> Any:
    from tutor.app import make_app
    from tutor.store import Store

    course = build_course(tmp_path)
    meta = course.meta.model_copy(update={"exercises_dir": str(REPO / "exercises")})
    labs = dict(course.labs)
    labs["lab-1.1"] = labs["lab-1.1"].model_copy(update={"exercise": LAB_DIR.name})
    course = course.model_copy(update={"meta": meta, "labs": labs})
    return make_app(course=course, store=Store(":memory:"), clock=fixed_clock,
                    grader=FakeGrader(), frozen=True)


async def _wait_run(app: Any, labs: Any, limit_s: float) -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    while labs.running is not None:
        assert loop.time() - t0 < limit_s, "lab run did not finish"
        await asyncio.sleep(0.5)
    await app.workers.wait_for_complete()
    await asyncio.sleep(0.1)


def test_workspace_starter_run_fails_with_its_log(tmp_path: Path) -> None:
    """w copies the starter into the workspace (never twice); y runs it; the failure shows."""
    app = _app(tmp_path)

    async def main() -> None:
        async with app.run_test(size=(100, 32), notifications=True) as pilot:
            await pilot.press("l")
            await pilot.pause()
            labs = app.screen
            assert "LoRA" in labs.query_one("#lab-readme").source
            await pilot.press("w")
            await pilot.pause()
            ws = Path(os.environ["TUTOR_WORKSPACE"]) / "lab-1.1"
            assert (ws / "lora_layer.py").is_file() or any(ws.iterdir())
            await pilot.press("w")  # second time: refused, nothing overwritten
            await pilot.pause()
            assert any("not overwritten" in n.message for n in app._notifications)
            await pilot.press("y")
            await pilot.pause()
            await _wait_run(app, labs, 120)
            assert labs.outcome is not None and not labs.outcome.ok
            assert "exit code" in (labs.outcome.error or "")
            text = str(labs.query_one("#lab-checks", Static).render())
            assert "The run failed" in text

    asyncio.run(main())


@pytest.mark.serial
def test_solution_runs_to_the_end_with_progress_and_checks(tmp_path: Path) -> None:
    """u runs the reference solution: live progress to 100 %, then every check passes."""
    app = _app(tmp_path)

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.press("l")
            await pilot.pause()
            labs = app.screen
            await pilot.press("u")
            await pilot.pause()
            await _wait_run(app, labs, 600)
            assert labs.outcome is not None and labs.outcome.ok, labs.outcome.error
            bar = labs.query_one("#lab-progress", ProgressBar)
            assert bar.total and bar.progress == bar.total
            assert labs.outcome.checks and all(c.status == "pass" for c in labs.outcome.checks)
            assert labs.outcome.solution
            assert "do not count" in str(labs.query_one("#lab-checks", Static).render())
            report = app.services.report("en")
            impl = next(b for b in report if b.bucket_id == "implementation")
            assert impl.fraction is None  # the reference solution never counts for the learner

            # the learner's own finished work (the solution files copied over the starter)
            await pilot.press("w")
            await pilot.pause()
            ws = Path(os.environ["TUTOR_WORKSPACE"]) / "lab-1.1"
            for f in (LAB_DIR / "solution").iterdir():
                if f.is_file():
                    shutil.copyfile(f, ws / f.name)
            await pilot.press("y")
            await pilot.pause()
            await _wait_run(app, labs, 600)
            assert labs.outcome.ok and not labs.outcome.solution, labs.outcome.error
            assert all(c.status == "pass" for c in labs.outcome.checks)
            report = app.services.report("en")
            impl = next(b for b in report if b.bucket_id == "implementation")
            assert impl.fraction == 1.0
            assert "lab-1.1" in app.services.engine.passed_labs("default")

    asyncio.run(main())
