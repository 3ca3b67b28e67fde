"""Functional tests: drive the real app headless with Pilot through the learner's whole loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from test_app_support import FakeGrader, FakeLabRunner, make_test_app
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, ProgressBar, Static

from tutor.app.messages import GradeFinished, LabFinished, LabProgress, PreviewReady


def drive(app: Any, script: Callable[[Pilot[Any]], Awaitable[None]],
          size: tuple[int, int] = (100, 32), messages: list[Any] | None = None) -> None:
    async def main() -> None:
        hook = messages.append if messages is not None else None
        async with app.run_test(size=size, message_hook=hook) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and their messages be handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def answer(pilot: Pilot[Any], text: str) -> None:
    inp = pilot.app.screen.query_one("#answer", Input)
    inp.value = ""
    inp.focus()
    await pilot.press(*list(text))
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_whole_learning_loop(tmp_path: Path) -> None:
    """Lesson -> wrong then right answer -> mastery and unlock -> lab run -> report."""
    runner = FakeLabRunner(steps=50)
    grader = FakeGrader()
    app = make_test_app(tmp_path, runner=runner, grader=grader)
    messages: list[Any] = []

    async def script(pilot: Pilot[Any]) -> None:
        svc = app.services
        assert type(app.screen).__name__ == "HomeScreen"
        assert "q-basics-1" in text_of(app.screen, "#next-text")
        assert svc.mastery()["lora"].state == "locked"

        # map -> lesson
        await pilot.press("m")
        await pilot.pause()
        assert type(app.screen).__name__ == "MapScreen"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "LessonScreen"
        assert app.screen.concept_id == "basics"
        md = app.screen.query_one("#lesson-md", Markdown)
        assert "Lesson: basics" in md.source
        assert "It's only compute" in app.screen.query_one("#lesson-pitfalls", Markdown).source

        # quiz: live preview, then wrong, then right
        await pilot.press("x")
        await pilot.pause()
        quiz = app.screen
        assert type(quiz).__name__ == "QuizScreen"
        assert quiz.question_id == "q-basics-1"
        await pilot.press("1", "5")
        await settle(pilot)
        assert "Read as: 15" in text_of(quiz, "#preview")
        assert any(isinstance(m, PreviewReady) for m in messages)
        await pilot.press("enter")
        await settle(pilot)
        assert any(isinstance(m, GradeFinished) for m in messages)
        assert quiz.last_verdict.status == "incorrect"
        assert quiz.last_recorded.after < quiz.last_recorded.before
        assert "Not quite." in text_of(quiz, "#feedback")
        wrong_p = svc.mastery()["basics"].p_known

        await answer(pilot, "16")
        assert quiz.last_verdict.status == "correct"
        assert svc.mastery()["basics"].p_known == pytest.approx(wrong_p)  # only first attempts count

        # the engine picks the next questions; mastering basics unlocks lora and zero
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert quiz.question_id == "q-basics-2"
        await answer(pilot, "2")
        assert svc.mastery()["basics"].p_known > wrong_p
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert quiz.question_id == "q-basics-3"
        await answer(pilot, "4")
        assert svc.mastery()["basics"].state == "mastered"
        assert {"lora", "zero"} <= set(quiz.last_recorded.unlocked)
        assert "Unlocked: LoRA, ZeRO" in text_of(quiz, "#feedback")
        assert svc.mastery()["lora"].state == "ready"

        # back to the map: it re-renders with the new states
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "MapScreen"
        ol = app.screen.query_one("#map-list")
        prompts = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert any("● Training basics" in p for p in prompts)
        assert any("○ LoRA" in p for p in prompts)

        # labs: run the (fake) solution to the end with progress
        await pilot.press("l")
        await pilot.pause()
        labs = app.screen
        assert type(labs).__name__ == "LabsScreen"
        assert labs.selected == "lab-1.1"
        assert "Train a tiny LoRA" in labs.query_one("#lab-readme", Markdown).source
        await pilot.press("u")  # the reference solution: shown, never counted
        await settle(pilot)
        assert labs.outcome is not None and labs.outcome.ok and labs.outcome.solution
        assert "do not count" in text_of(labs, "#lab-checks")
        assert app.services.report("en")[1].fraction is None
        await pilot.press("w", "y")  # the learner's own work: graded
        await settle(pilot)
        assert runner.started == ["lab-1.1"]
        assert any(isinstance(m, LabProgress) for m in messages)
        assert any(isinstance(m, LabFinished) for m in messages)
        assert labs.outcome is not None and labs.outcome.ok
        bar = labs.query_one("#lab-progress", ProgressBar)
        assert bar.total == 50 and bar.progress == 50
        checks = text_of(labs, "#lab-checks")
        assert "trainable-params" in checks and "15/20" in checks

        # report: concepts from mastery, implementation from the lab checks, export
        await pilot.press("r")
        await pilot.pause()
        report = app.screen
        assert type(report).__name__ == "ReportScreen"
        impl = text_of(report, "#bucket-implementation .bucket-head")
        assert "22.5 / 30" in impl
        assert report.total > 22.5
        await pilot.press("e")
        await pilot.pause()
        assert all(p.is_file() for p in report.exported)
        assert '"implementation"' in report.exported[0].read_text(encoding="utf-8")

    drive(app, script, messages=messages)
    # progress floods collapse: far fewer LabProgress messages handled than steps sent is allowed,
    # but at least the last one arrives
    assert [m.step for m in messages if isinstance(m, LabProgress)][-1] == 50
    assert grader.calls[:2] == [("q-basics-1", "15"), ("q-basics-1", "16")]


def test_invalid_answer_is_not_counted(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        quiz = app.screen
        await pilot.press("(", "(", "(")
        await settle(pilot)
        assert "Cannot read it yet" in text_of(quiz, "#preview")
        await pilot.press("enter")
        await settle(pilot)
        assert quiz.last_verdict.status == "invalid"
        assert quiz.last_recorded is None
        assert "Not counted" in text_of(quiz, "#feedback")
        assert app.services.mastery()["basics"].attempts == 0

    drive(app, script)


def test_hints_cost_and_show(tmp_path: Path) -> None:
    grader = FakeGrader()
    app = make_test_app(tmp_path, grader=grader)

    async def script(pilot: Pilot[Any]) -> None:
        app.open_quiz(question_id="q-basics-1", concept_id="basics")
        await pilot.pause()
        quiz = app.screen
        assert "Hint 1/2 (−10%)" in str(quiz.query_one("#hint").label)
        await pilot.press("f3")
        await pilot.pause()
        assert quiz.hints_used == 1
        assert "Hint 1" in text_of(quiz, "#hints")
        await answer(pilot, "16")
        assert quiz.last_verdict.score == pytest.approx(0.9)

    drive(app, script)


def test_language_switches_live(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        titles = [str(w.render()) for w in app.screen.query(".panel-title").results(Static)]
        assert "Recommended next" in titles
        await pilot.press("f2")
        await pilot.pause()
        await pilot.pause()
        assert app.lang == "zh-TW"
        titles = [str(w.render()) for w in app.screen.query(".panel-title").results(Static)]
        assert "建議的下一步" in titles
        assert app.title == "迷你課程"  # the course's own title, in the new language
        # footer labels follow
        descs = {b.description for _, b in app._bindings}
        assert "說明" in descs
        # another screen renders in zh-TW on first visit, and back in en after switching
        await pilot.press("p")
        await pilot.pause()
        assert "天" in str(app.screen.query_one("#plan-table").columns[next(iter(
            app.screen.query_one("#plan-table").columns))].label)
        await pilot.press("s")
        await pilot.pause()
        app.lang = "en"
        await pilot.pause()
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        titles = [str(w.render()) for w in app.screen.query(".panel-title").results(Static)]
        assert "Recommended next" in titles

    drive(app, script)


def test_failed_lab_run_is_reported(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, runner=FakeLabRunner(steps=10, fail=True))

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("l")
        await pilot.pause()
        labs = app.screen
        await pilot.press("u")
        await settle(pilot)
        assert labs.outcome is not None and not labs.outcome.ok
        assert "CUDA out of memory" in text_of(labs, "#lab-checks")
        assert labs.running is None
        assert not labs.query_one("#lab-run-solution").disabled

    drive(app, script)


class BrokenGrader(FakeGrader):
    def grade(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("worker pool died")


def test_broken_grader_is_a_message_not_a_crash(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, grader=BrokenGrader())

    async def script(pilot: Pilot[Any]) -> None:
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        await answer(pilot, "16")
        assert "worker pool died" in text_of(app.screen, "#feedback")
        assert app.services.mastery()["basics"].attempts == 0

    drive(app, script)


def test_every_screen_at_small_sizes_and_resizing(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        for size in ((80, 24), (60, 20), (140, 45), (80, 24)):
            await pilot.resize_terminal(*size)
            for key in "hmplrcs":
                await pilot.press(key)
                await pilot.pause()
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"
            await pilot.press("escape")
            await pilot.pause()
            assert type(app.screen).__name__ == "SettingsScreen"

    drive(app, script, size=(80, 24))


def test_calculators_use_the_estimator(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("c")
        await pilot.pause()
        calc = app.screen
        result = text_of(calc, "#calc-result")
        assert "per GPU" in result and "GB" in result
        assert "70B" in text_of(calc, "#calc-plot-size")
        assert "r=64" in text_of(calc, "#plot-lora")
        advice = text_of(calc, "#adv-result")
        assert "ZeRO-3" in advice  # 13B in the mini course's tree
        calc.query_one("#calc-params", Input).value = "not a number"
        calc.compute()
        assert "positive numbers" in text_of(calc, "#calc-result")

    drive(app, script)


def test_command_palette_finds_lessons(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        from tutor.app.commands import TutorCommands

        provider = TutorCommands(app.screen)
        hits = [h async for h in provider.search("lora")]
        texts = [h.text for h in hits]
        assert any("Lesson: LoRA" in (t or "") for t in texts)
        assert any("q-lora-1" in (t or "") for t in texts)
        lesson = next(h for h in hits if "Lesson: LoRA" in (h.text or ""))
        lesson.command()
        await pilot.pause()
        assert type(app.screen).__name__ == "LessonScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"

    drive(app, script)


def test_placement_skip_unlocks_the_first_concepts(tmp_path: Path) -> None:
    """With a hard external prerequisite, Home offers the diagnostic or a skip."""
    from test_app_support import build_course

    from tutor.app import make_app
    from tutor.store import Store

    course = build_course(tmp_path)
    ext = course.meta.model_validate({**course.meta.model_dump(by_alias=True), "externals": [
        {"id": "llm-fundamentals", "relation": "prerequisite", "strength": "hard",
         "title": {"en": "LLM fundamentals", "zh-TW": "LLM 基礎"},
         "reason": {"en": "needed", "zh-TW": "需要"}}]})
    course = course.model_copy(update={"meta": ext})
    course.concepts["basics"].requires.append("llm-fundamentals")
    app = make_app(course=course, store=Store(":memory:"), grader=FakeGrader(), frozen=True,
                   lab_runner=FakeLabRunner())

    async def script(pilot: Pilot[Any]) -> None:
        home = app.screen
        assert "Placement" in text_of(home, "#next-text")
        assert app.services.mastery()["basics"].state == "locked"
        await pilot.click("#placement-skip")
        await pilot.pause()
        await pilot.pause()
        assert app.services.mastery()["basics"].state == "ready"
        assert "q-basics-1" in text_of(app.screen, "#next-text")

    drive(app, script)


def test_progress_and_lab_grades_persist_across_restarts(tmp_path: Path) -> None:
    """A second app on the same database sees the answers and the graded lab run."""
    from tutor.store import Store

    db = tmp_path / "progress.sqlite3"
    app = make_test_app(tmp_path, store=Store(db))

    async def first(pilot: Pilot[Any]) -> None:
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        await answer(pilot, "16")
        await pilot.press("escape", "l")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.outcome.ok

    drive(app, first)
    again = make_test_app(tmp_path, store=Store(db))

    async def second(pilot: Pilot[Any]) -> None:
        assert again.services.mastery()["basics"].attempts == 1
        await pilot.press("r")
        await pilot.pause()
        assert "22.5 / 30" in text_of(again.screen, "#bucket-implementation .bucket-head")

    drive(again, second)


def test_mouse_buttons_submit_and_next(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.click("#go-next")  # Home: open the recommended question
        await pilot.pause()
        quiz = app.screen
        assert quiz.question_id == "q-basics-1"
        quiz.query_one("#answer", Input).value = "16"
        await pilot.click("#submit")
        await settle(pilot)
        assert quiz.last_verdict.status == "correct"
        assert app.services.answered == {"q-basics-1"}  # the session's set, typed on Services
        await pilot.click("#next")
        await settle(pilot)
        assert quiz.question_id == "q-basics-2"  # the fresh question, not the answered one
        await pilot.click("#to-lesson")
        await pilot.pause()
        assert type(app.screen).__name__ == "LessonScreen"

    drive(app, script)


def test_a_course_that_does_not_load_is_explained_not_a_crash(tmp_path: Path) -> None:
    from tutor.app import make_app
    from tutor.store import Store

    broken = tmp_path / "broken-course"
    broken.mkdir()
    (broken / "course.yaml").write_text("format_version: 1\nmodule: [not, a, mapping]\n")
    app = make_app(curriculum=str(broken), store=Store(":memory:"), frozen=True)

    async def script(pilot: Pilot[Any]) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert app.services.load_error
        msg = text_of(app.screen, "#course-error")
        assert "tutor validate" in msg and "course.yaml" in msg
        for key in "mplrcs":  # every screen says the same, none crashes
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.query("#course-error")

    drive(app, script)


def test_nav_bar_clicks_and_draft_survives_language_switch(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        nav = str(app.screen.query_one("#nav", Static).render())
        await pilot.click("#nav", offset=(nav.index("Map") + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "MapScreen"
        await pilot.click("#nav", offset=(nav.index("Plan") + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "PlanScreen"
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        await pilot.press("1", "6")
        await pilot.press("f2")
        await pilot.pause()
        await pilot.pause()
        assert app.lang == "zh-TW"
        assert app.screen.query_one("#answer", Input).value == "16"
        assert "（中）" in text_of(app.screen, "#prompt")

    drive(app, script)


class SlowGrader(FakeGrader):
    def __init__(self) -> None:
        import threading

        super().__init__()
        self.release = threading.Event()

    def grade(self, *args: Any, **kwargs: Any) -> Any:
        self.release.wait(5)
        return super().grade(*args, **kwargs)


def test_leaving_while_grading_still_records_the_attempt(tmp_path: Path) -> None:
    grader = SlowGrader()
    app = make_test_app(tmp_path, grader=grader)

    async def script(pilot: Pilot[Any]) -> None:
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        app.screen.query_one("#answer", Input).value = "16"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")  # leave before the verdict arrives
        await pilot.pause()
        grader.release.set()
        for _ in range(50):  # the screen's worker was cancelled with it; its thread goes on
            await asyncio.sleep(0.05)
            if app.services.mastery()["basics"].attempts:
                break
        assert app.services.mastery()["basics"].attempts == 1

    drive(app, script)


def test_unusable_database_falls_back_to_memory_with_a_warning(tmp_path: Path) -> None:
    from test_app_support import FakeGrader, build_course, fixed_clock

    from tutor.app import make_app

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app = make_app(course=build_course(tmp_path), db_path=str(blocker / "progress.sqlite3"),
                   clock=fixed_clock, grader=FakeGrader(), frozen=True)

    async def script(pilot: Pilot[Any]) -> None:
        warning = [str(w.render()) for w in app.screen.query(".warning").results(Static)]
        assert any("kept in memory only" in w for w in warning)
        app.open_quiz(concept_id="basics")
        await pilot.pause()
        await answer(pilot, "16")
        assert app.services.mastery()["basics"].attempts == 1

    drive(app, script)


def test_open_lab_selects_it_and_a_lab_without_kit_cannot_run(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def script(pilot: Pilot[Any]) -> None:
        app.open_lab("lab-1.2")
        await pilot.pause()
        await pilot.pause()
        labs = app.screen
        assert labs.selected == "lab-1.2"
        assert labs.query_one("#lab-run-solution").disabled
        assert "no runnable kit" in labs.query_one("#lab-readme", Markdown).source
        await pilot.press("u")
        await pilot.pause()
        assert labs.running is None and labs.outcome is None
        await pilot.press("h")
        await pilot.pause()
        app.open_lab("lab-1.1")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is labs and labs.selected == "lab-1.1"
        assert not labs.query_one("#lab-run-solution").disabled

    drive(app, script)
