"""Handlers of `tutor lab list|start|run|check` and `tutor dev check` (parsers: tutor/cli/labs.py)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.labs.messages import t

if TYPE_CHECKING:
    from tutor.curriculum.models import Course
    from tutor.labs.catalogue import LabEntry
    from tutor.labs.session import LabResult


def _course_or_none(args: argparse.Namespace) -> Course | None:
    """The course, or None when it does not load (the catalogue then lists the exercises only)."""
    try:
        from tutor.cli.common import course_dir
        from tutor.curriculum import load_course

        course: Course = load_course(course_dir(args))
        return course
    except Exception:  # noqa: BLE001 - `tutor validate` reports course errors; labs still list
        return None


def _exercises_root(args: argparse.Namespace, course: Course | None) -> Path:
    from tutor.paths import exercises_dir

    if course is not None and getattr(args, "curriculum", None):
        return (Path(course.root) / course.meta.exercises_dir).resolve()
    return exercises_dir()


def _catalogue(args: argparse.Namespace) -> tuple[dict[str, LabEntry], Course | None] | None:
    from graders.labs.spec import LabSpecError
    from tutor.cli.common import course_dir
    from tutor.labs.catalogue import catalogue, course_labs_from_file

    course = _course_or_none(args)
    labs = list(course.labs.values()) if course is not None else \
        course_labs_from_file(course_dir(args))
    try:
        return catalogue(labs, _exercises_root(args, course)), course
    except LabSpecError as exc:
        print(t("lab.spec_error"), file=sys.stderr)
        for p in exc.problems:
            print(f"  {exc.path}: {p}", file=sys.stderr)
        return None


def _lab_states(args: argparse.Namespace, course: Course | None) -> dict[str, tuple[str, str]]:
    """{lab id: (state, reason)} from the learner database; empty when there is none."""
    from tutor.paths import default_db_path

    db = Path(getattr(args, "db", None) or default_db_path())
    if course is None or not db.is_file():
        return {}
    try:
        from tutor.engine import Engine
        from tutor.store import Store

        engine = Engine(course, Store(db), lang=args.lang)
        status = engine.lab_status(str(getattr(args, "learner", None) or "default"))
    except Exception:  # noqa: BLE001 - no engine / unreadable DB: the state is simply unknown
        return {}
    return {
        lab_id: ("passed" if s.passed else "unlocked" if s.unlocked else "locked", s.reason)
        for lab_id, s in status.items()
    }


def _entry(args: argparse.Namespace) -> tuple[LabEntry, Course | None] | int:
    """The lab named by ``args.lab_id`` with a runnable spec, or an exit code after a message."""
    found = _catalogue(args)
    if found is None:
        return 1
    labs, course = found
    entry = labs.get(args.lab_id)
    if entry is None:
        print(t("lab.unknown", lab=args.lab_id, known=", ".join(labs) or "-"), file=sys.stderr)
        return 2
    if entry.spec is None or entry.lab_dir is None:
        print(t("lab.no_exercise", lab=entry.id), file=sys.stderr)
        return 1
    return entry, course


def lab_list(args: argparse.Namespace) -> int:
    found = _catalogue(args)
    if found is None:
        return 1
    labs, course = found
    states = _lab_states(args, course)
    rows = []
    for e in labs.values():
        state, reason = states.get(e.id, ("unknown", ""))
        rows.append({
            "id": e.id, "title": e.title, "concepts": list(e.concepts), "state": state,
            "reason": reason, "exercise": e.lab_dir.name if e.lab_dir else None,
            "runnable": e.spec is not None,
            "gpu": e.spec.gpu if e.spec else None,
            "time_budget_s": e.spec.time_budget_s if e.spec else None,
        })
    if getattr(args, "json", False):
        from tutor.cli.common import print_json

        print_json(rows)
        return 0
    print(_row(t("lab.col.id"), t("lab.col.state"), t("lab.col.exercise"), t("lab.col.title")))
    for row, e in zip(rows, labs.values(), strict=True):
        print(_row(e.id, t(f"lab.state.{row['state']}"),
                   t("lab.exercise.yes" if e.spec else "lab.exercise.no"), e.title_in(args.lang)))
        print(" " * 10 + t("lab.concepts", ids=", ".join(e.concepts)))
    return 0


def _pad(text: str, width: int) -> str:
    """Left-justify to ``width`` terminal columns (CJK characters take two)."""
    import unicodedata

    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - cols)


def _row(lab_id: str, state: str, exercise: str, title: str) -> str:
    return _pad(lab_id, 10) + _pad(state, 10) + _pad(exercise, 10) + title


def lab_start(args: argparse.Namespace) -> int:
    from tutor.labs.workspace import WorkspaceExists, start_workspace, workspace_for

    got = _entry(args)
    if isinstance(got, int):
        return got
    entry, course = got
    assert entry.spec is not None and entry.lab_dir is not None
    state = _lab_states(args, course).get(entry.id)
    if state and state[0] == "locked":
        print(t("lab.locked_warning", lab=entry.id, reason=state[1]), file=sys.stderr)
    try:
        path = start_workspace(entry.spec, entry.lab_dir, force=args.force)
    except WorkspaceExists:
        print(t("lab.exists", path=workspace_for(entry.id), lab=entry.id), file=sys.stderr)
        return 1
    print(t("lab.started", lab=entry.id, path=path))
    return 0


class _Display:
    """A progress bar on a TTY, a line per 10 % otherwise (both on stderr)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last_decile = -1

    def progress(self, step: int, total: int, loss: float | None) -> None:
        loss_s = f"{loss:.4f}" if loss is not None else "-"
        if self.tty and total > 0:
            width = 30
            filled = int(width * min(step, total) / total)
            bar = "█" * filled + "·" * (width - filled)
            self.stream.write(f"\r{bar} {t('lab.progress', step=step, total=total, loss=loss_s)}")
            self.stream.flush()
            return
        decile = int(10 * step / total) if total > 0 else step // 10
        if decile != self.last_decile or step == total:
            self.last_decile = decile
            self.stream.write(t("lab.progress", step=step, total=total, loss=loss_s) + "\n")
            self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _recorder(args: argparse.Namespace, course: Course | None) -> Any:
    """``record(lab_id, results, passed, payload)`` through Engine.record_lab_result for
    ``--learner`` (default "default") in the learner DB; None without a course."""
    if course is None:
        return None

    def record(lab_id: str, results: list[Any], passed: bool, payload: dict[str, Any]) -> None:
        from tutor.engine import Engine
        from tutor.paths import default_db_path
        from tutor.store import Store

        db = Path(getattr(args, "db", None) or default_db_path())
        db.parent.mkdir(parents=True, exist_ok=True)
        engine = Engine(course, Store(db), lang=args.lang)
        checks = [{"id": r.id, "bucket": r.bucket, "points": r.points, "max_points": r.max_points,
                   "status": r.status, "message": r.text(args.lang)} for r in results]
        engine.record_lab_result(str(getattr(args, "learner", None) or "default"), lab_id, checks,
                                 passed=passed, score=float(payload.get("score", 0.0)),
                                 source="cli", extra={"run": payload.get("run", {})})

    return record


def _run(args: argparse.Namespace, entry: LabEntry, *, quiet: bool = False, check: bool = False,
         record: Any = None) -> tuple[LabResult, Path] | int:
    """Run the workspace copy (or the solution) with live progress through the one pipeline
    (tutor.labs.session.run_and_check); (result, run dir)."""
    from tutor.labs.runner import Progress
    from tutor.labs.session import RequirementsMissing, run_and_check
    from tutor.labs.workspace import workspace_for
    from tutor.paths import workspace_dir

    spec, lab_dir = entry.spec, entry.lab_dir
    assert spec is not None and lab_dir is not None
    if args.solution:
        base = workspace_dir() / ".solution-runs" / entry.id
        source = None
    else:
        source = workspace_for(entry.id)
        if not source.is_dir():
            print(t("lab.not_started", lab=entry.id), file=sys.stderr)
            return 1
        base = source
    shutil.rmtree(base / ".run-work", ignore_errors=True)  # ours: rebuilt for every run
    if getattr(args, "out", None):
        out_dir = Path(args.out)  # the learner's directory: written into, never deleted
    else:
        out_dir = base / "out"
        shutil.rmtree(out_dir, ignore_errors=True)
    what = t("lab.what.solution" if args.solution else "lab.what.workspace")
    err = sys.stderr
    if not quiet:
        print(t("lab.running", lab=entry.id, what=what, out=out_dir, log=base / "run.log"),
              file=err)
    display = _Display(err)

    def show(ev: object) -> None:
        if isinstance(ev, Progress) and not quiet:
            display.progress(ev.step, ev.total, ev.loss)

    try:
        res = run_and_check(spec, lab_dir, work=base / ".run-work", solution=args.solution,
                            source=source, seed=args.seed, out_dir=out_dir,
                            log_path=base / "run.log", check=check, on_event=show, record=record)
    except RequirementsMissing as exc:
        display.end()
        missing = ", ".join(exc.missing + (["CUDA GPU"] if exc.gpu else []))
        print(t("lab.no_stack", missing=missing), file=err)
        return 1
    display.end()
    final = res.finished
    if final.timed_out:
        print(t("lab.timeout", limit=spec.time_budget_s), file=err)
    elif final.returncode != 0:
        from tutor.labs.runner import tail

        print(t("lab.failed", code=final.returncode, elapsed=final.elapsed_s,
                tail=tail(final.log_path)), file=err)
    elif not final.done:
        print(t("lab.no_done"), file=err)
    elif not quiet:
        print(t("lab.done", elapsed=final.elapsed_s, out=out_dir), file=err)
    return res, res.run_dir


def lab_run(args: argparse.Namespace) -> int:
    got = _entry(args)
    if isinstance(got, int):
        return got
    res = _run(args, got[0])
    if isinstance(res, int):
        return res
    return 0 if res[0].finished.ok else 1


def lab_check(args: argparse.Namespace) -> int:
    """Run, probe, check; the learner's own run is recorded (Engine.record_lab_result)."""
    from graders.labs.checks import summarise

    got = _entry(args)
    if isinstance(got, int):
        return got
    entry, course = got
    assert entry.spec is not None
    record = None if args.solution else _recorder(args, course)
    res = _run(args, entry, quiet=bool(args.json), check=True, record=record)
    if isinstance(res, int):
        return res
    lab_res, _ = res
    final, results = lab_res.finished, lab_res.results
    summary = summarise(results)
    if args.json:
        from tutor.cli.common import print_json

        print_json({
            "lab": entry.id, "run": {"returncode": final.returncode, "done": final.done,
                                     "timed_out": final.timed_out,
                                     "elapsed_s": round(final.elapsed_s, 2),
                                     "log": str(final.log_path)},
            "checks": [r.model_dump(by_alias=True) for r in results], "summary": summary,
        })
    else:
        marks = {"pass": "✓", "fail": "✗", "error": "!"}
        for r in results:
            title = entry.spec.check(r.id).title.get(args.lang)
            print(t("lab.check.line", mark=marks[r.status], title=title, points=r.points,
                    max_points=r.max_points, message=r.text(args.lang)))
        print(t("lab.check.total", passed=summary["passed"], total=summary["total"],
                points=sum(r.points for r in results),
                max_points=sum(r.max_points for r in results)))
    return 0 if summary["passed"] == summary["total"] else 1


def dev_check(args: argparse.Namespace) -> int:
    from tutor.labs.devcheck import dev_check as run_dev_check

    course = _course_or_none(args)
    root = _exercises_root(args, course)
    course_labs = dict(course.labs) if course is not None else None
    reports = run_dev_check(
        root, only=args.lab, static=args.static, course_labs=course_labs,
        question_ids=set(course.questions) if course is not None else None,
        concept_ids=set(course.concepts) if course is not None else None,
    )
    problems = 0
    for rep in reports:
        status = t("dev.ok") if not rep.problems else f"{len(rep.problems)} ✗"
        print(t("dev.lab", lab=rep.lab_id, status=status))
        for note in rep.notes:
            print("  " + note)
        for p in rep.problems:
            print(t("dev.problem", problem=p))
        problems += len(rep.problems)
    if problems:
        print(t("dev.summary_failed", count=problems))
        return 1
    print(t("dev.summary_ok", count=len(reports)))
    return 0



def dev_new(args: argparse.Namespace) -> int:
    """`tutor dev new lab-N.M NAME`: write a lab skeleton (tutor/labs/scaffold.py)."""
    import graders.labs
    from tutor.labs.scaffold import ScaffoldError, new_lab

    course = _course_or_none(args)
    root = _exercises_root(args, course)
    repo_tests = Path(graders.labs.__file__).resolve().parents[2] / "tests"
    try:
        made = new_lab(args.lab_id, args.name, exercises=root,
                       graders_labs=Path(graders.labs.__file__).resolve().parent,
                       tests=repo_tests if repo_tests.is_dir() else None,
                       course_lab=course.labs.get(args.lab_id) if course is not None else None,
                       force=args.force)
    except ScaffoldError as exc:
        print(t("dev.new_error", error=str(exc)), file=sys.stderr)
        return 2
    print(t("dev.new_done", lab=made.lab_dir, checker=made.checker,
            test=made.test or "-", id=args.lab_id))
    return 0
