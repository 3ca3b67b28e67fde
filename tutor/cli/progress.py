"""`tutor answer | next | progress | placement | export | reset`: the learner's progress.

Each handler opens the course and the progress store (``--db``, TUTOR_DB, else the user data
dir), builds a ``tutor.engine.Engine`` and prints text or ``--json``. Exit codes: 0 ok (a bad
answer is a result, not an error), 1 the course or database cannot be used, 2 a wrong command
line or an unknown id.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.engine import Engine
    from tutor.store import Store


def _learner_arg(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: `tutor --learner bob next` (top-level option) keeps working.
    p.add_argument("--learner", default=argparse.SUPPRESS, metavar="NAME",
                   help="learner profile (default: default)")


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands to the `tutor` parser."""
    p = sub.add_parser("answer", parents=parents, help="grade an answer and record it")
    p.add_argument("question_id", metavar="QUESTION_ID")
    p.add_argument("answer", metavar="ANSWER")
    _learner_arg(p)
    p.add_argument("--seed", type=int, default=None,
                   help="variant seed (default: the learner's own seed for the question)")
    p.add_argument("--hints", type=int, default=0, metavar="N",
                   help="hints seen before answering (counts against mastery)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="time spent on the question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guarded(_answer))

    p = sub.add_parser("next", parents=parents, help="the recommended next item and why")
    _learner_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guarded(_next))

    p = sub.add_parser("progress", parents=parents, help="mastery per concept and level, labs")
    _learner_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guarded(_progress))

    p = sub.add_parser("placement", parents=parents,
                       help="diagnostic for the external prerequisites")
    _learner_arg(p)
    p.add_argument("--skip", action="append", default=[], metavar="EXTERNAL_ID",
                   help="mark an external prerequisite as met without the diagnostic")
    p.add_argument("--answers", default=None, metavar="JSON",
                   help='answers as a JSON object {"question-id": "answer", ...} (no prompts)')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guarded(_placement))

    p = sub.add_parser("export", parents=parents, help="export the attempt log")
    _learner_arg(p)
    p.add_argument("--format", required=True, choices=["csv", "jsonl", "pybkt"])
    p.add_argument("--out", default=None, metavar="FILE", help="write here instead of stdout")
    p.set_defaults(handler=_guarded(_export))

    p = sub.add_parser("reset", parents=parents,
                       help="stop counting earlier attempts (they stay in the log)")
    _learner_arg(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--item", default=None, metavar="ID",
                   help="a question, concept or external prerequisite id")
    g.add_argument("--all", action="store_true", help="everything of this learner")
    p.add_argument("--yes", action="store_true", help="confirm")
    p.set_defaults(handler=_guarded(_reset))


# -- helpers ------------------------------------------------------------------------------


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A database that fails mid-command (disk full, damaged file, locked for over 5 s) ends
    the command with a message and exit 1, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        import sqlite3

        from tutor.i18n import t
        from tutor.store import StoreError

        try:
            return handler(args)
        except (sqlite3.Error, StoreError) as exc:
            print(t("progress.db_error", error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
            return 1

    run.__doc__ = handler.__doc__
    return run



def _learner(args: argparse.Namespace) -> str:
    return str(getattr(args, "learner", None) or "default")


def _open_store(args: argparse.Namespace) -> Store:
    from tutor.i18n import t
    from tutor.paths import default_db_path
    from tutor.store import Store, StoreError

    path = getattr(args, "db", None) or default_db_path()
    try:
        return Store(path)
    except StoreError as exc:
        print(t("progress.db_error", error=str(exc)), file=sys.stderr)
        raise SystemExit(1) from None


def _open(args: argparse.Namespace) -> Engine:
    from tutor.cli.common import load_course_or_exit
    from tutor.engine import Engine

    course = load_course_or_exit(args)
    return Engine(course, _open_store(args), lang=args.lang)


def _verdict_dict(verdict: Any) -> dict[str, Any]:
    data = verdict.to_json()
    if isinstance(data, str):
        data = json.loads(data)
    return dict(data)


def _pct(p: float) -> str:
    return f"{round(p * 100)}%"


# -- answer -------------------------------------------------------------------------------


def _answer(args: argparse.Namespace) -> int:
    from tutor.engine import EngineError
    from tutor.i18n import t

    engine = _open(args)
    learner = _learner(args)
    question = engine.course.questions.get(args.question_id)
    if question is None:
        print(t("engine.unknown_question", id=args.question_id), file=sys.stderr)
        return 2
    if args.hints < 0:
        print(t("progress.bad_hints"), file=sys.stderr)
        return 2
    from graders.answers import QuestionError, grade

    seed = args.seed
    if seed is None and question.params:
        seed = engine.variant_seed(learner, question.id)
    try:
        verdict = grade(question, args.answer, seed=seed, lang=args.lang, hints_used=args.hints)
    except QuestionError as exc:  # the question itself is broken: the author's problem
        print(t("progress.question_error", id=question.id, error=str(exc)), file=sys.stderr)
        return 1
    try:
        result = engine.record_attempt(
            learner, question.id, args.answer, verdict, hints_used=args.hints,
            duration_s=args.duration, seed=seed,
        )
    except EngineError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        from tutor.cli.common import print_json

        obj = _verdict_dict(verdict)
        obj["recorded"] = result.recorded
        obj["attempt_id"] = result.attempt_id
        obj["mastery"] = {
            c: {"before": round(result.mastery_before[c], 4),
                "after": round(result.mastery_after[c], 4), "state": result.state[c]}
            for c in result.mastery_after
        }
        obj["unlocked"] = {"concepts": result.newly_unlocked, "labs": result.newly_unlocked_labs}
        obj["mastered"] = result.newly_mastered
        obj["practice_mode"] = result.practice_mode
        obj["engine_warnings"] = result.warnings
        print_json(obj)
        return 0
    v = _verdict_dict(verdict)
    print(t("progress.status_line", status=t("progress.status." + str(v.get("status"))),
            score=f"{float(v.get('score') or 0):.2f}"))
    if v.get("feedback"):
        print(v["feedback"])
    for w in v.get("warnings") or []:
        print(f"! {w}")
    if not result.recorded:
        print(t("progress.not_recorded"))
        return 0
    for w in result.warnings:
        print(f"! {w}")
    for c, after in result.mastery_after.items():
        title = engine.course.concepts[c].title.get(engine.lang)
        print(t("progress.mastery_line", concept=title, before=_pct(result.mastery_before[c]),
                after=_pct(after), state=t("engine.state." + result.state[c])))
    if not result.counted:
        print(t("progress.not_counted"))
    if result.newly_mastered:
        print(t("progress.mastered", ids=", ".join(result.newly_mastered)))
    if result.newly_unlocked:
        print(t("progress.unlocked", ids=", ".join(result.newly_unlocked)))
    if result.newly_unlocked_labs:
        print(t("progress.unlocked_labs", ids=", ".join(result.newly_unlocked_labs)))
    return 0


# -- next ---------------------------------------------------------------------------------


def _next(args: argparse.Namespace) -> int:
    from tutor.i18n import t

    engine = _open(args)
    learner = _learner(args)
    rec = engine.next_item(learner)
    if args.json:
        from tutor.cli.common import print_json

        obj = rec.to_json()
        obj["learner"] = learner
        print_json(obj)
        return 0
    kind = t("progress.kind." + rec.kind)
    print(t("progress.next_line", kind=kind, id=rec.id) if rec.id else kind)
    print(rec.reason)
    for w in rec.warnings:
        print(f"! {w}")
    return 0


# -- progress -----------------------------------------------------------------------------


def _progress(args: argparse.Namespace) -> int:
    from tutor.engine.engine import mastery_json
    from tutor.i18n import t

    engine = _open(args)
    learner = _learner(args)
    mastery = engine.mastery(learner)
    labs = engine.lab_status(learner)
    pacing = engine.pacing(learner)
    from tutor.labs.rubric import learner_rubric_for

    found = learner_rubric_for(engine, learner)  # the one formula (graders/rubric/formula.py)
    rubric = found.to_dict()
    rubric["concepts"]["mastered"] = len(engine.state(learner).ever_mastered & set(mastery))
    rubric["concepts"]["total"] = len(mastery)
    levels = engine.level_summary(learner)
    state = engine.state(learner)
    externals = {x: state.externals_met.get(x) for x in engine.placement_targets()}
    if args.json:
        from tutor.cli.common import print_json

        print_json({
            "learner": learner,
            "mastery": mastery_json(mastery),
            "levels": levels,
            "labs": {k: {"unlocked": s.unlocked, "passed": s.passed, "reason": s.reason}
                     for k, s in labs.items()},
            "externals": externals,
            "due_reviews": [d.concept for d in engine.due_reviews(learner)],
            "pacing": {
                "plan_day": pacing.plan_day, "expected_day": pacing.expected_day,
                "days_ahead": pacing.days_ahead, "hours_left": pacing.hours_left,
                "finished": pacing.finished, "start_date": pacing.start_date.isoformat(),
            },
            "rubric": rubric,
        })
        return 0
    print(t("progress.header", learner=learner))
    if pacing.days_ahead > 0:
        pace = t("progress.pace.ahead", n=pacing.days_ahead)
    elif pacing.days_ahead < 0:
        pace = t("progress.pace.behind", n=-pacing.days_ahead)
    else:
        pace = t("progress.pace.on_time")
    print(t("progress.pacing", plan_day=pacing.plan_day, expected=pacing.expected_day,
            pace=pace, hours=pacing.hours_left))
    for lv in levels:
        print(t("progress.level_line", level=lv["level"], title=lv["title"],
                mastered=lv["mastered"], total=lv["concepts"], mean=_pct(float(str(lv["mean_p_known"])))))
        for c, s in mastery.items():
            if engine.course.concepts[c].level != lv["level"]:
                continue
            lock = "" if s.unlocked else " [" + t("progress.locked") + "]"
            print(f"  {c:<28} {_pct(s.p_known):>5}  {t('engine.state.' + s.state)}{lock}")
    due = engine.due_reviews(learner)
    if due:
        print(t("progress.due", ids=", ".join(d.concept for d in due)))
    print(t("progress.labs"))
    for lab_id, s in labs.items():
        mark = t("progress.passed") if s.passed else (
            t("progress.open") if s.unlocked else t("progress.locked"))
        print(f"  {lab_id:<10} {mark}: {s.reason}")
    for x, how in externals.items():
        print(f"  {x}: {t('progress.external.' + (how or 'unmet'))}")
    c = rubric["concepts"]
    print(t("progress.rubric", score=_pct(float(c["score"] or 0)), points=c["points"],
            weight=c["weight"], mastered=c.get("mastered"), total=c.get("total")))
    parts = ", ".join(f"{b.id} {_pct(b.fraction)}" if b.evidence else f"{b.id} -"
                      for b in found.buckets)
    print(t("progress.rubric_total", total=f"{found.total:.1f}", parts=parts,
            graded=found.labs_graded, labs=found.labs_total))
    return 0


# -- placement ----------------------------------------------------------------------------


def _placement(args: argparse.Namespace) -> int:
    from tutor.engine import EngineError
    from tutor.i18n import t

    engine = _open(args)
    learner = _learner(args)
    report: dict[str, Any] = {"learner": learner, "skipped": [], "results": {}}
    for ext in args.skip:
        try:
            engine.skip_external(learner, ext)
        except EngineError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        report["skipped"].append(ext)
        if not args.json:
            print(t("placement.skipped", id=ext))
    answers: dict[str, str] | None = None
    if args.answers is not None:
        try:
            loaded = json.loads(args.answers)
        except json.JSONDecodeError as exc:
            print(t("placement.bad_json", error=str(exc)), file=sys.stderr)
            return 2
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            print(t("placement.bad_json", error="expected an object of strings"), file=sys.stderr)
            return 2
        answers = loaded
    if args.skip and answers is None:
        _finish_placement(args, report)
        return 0

    state = engine.state(learner)
    from graders.answers import QuestionError, grade

    for ext in engine.placement_targets():
        if ext in state.externals_met and answers is None:
            continue
        qids = engine.placement_questions(ext)
        if answers is not None:
            if not any(q in answers for q in qids):
                continue
        if not qids:
            report["results"][ext] = {"questions": 0, "passed": None}
            if not args.json:
                print(t("placement.no_questions", id=ext))
            continue
        title = engine.course.externals[ext].title.get(engine.lang)
        if not args.json:
            print(t("placement.header", title=title, n=len(qids)))
        correct = 0
        for qid in qids:
            q = engine.course.questions[qid]
            if answers is not None:
                text = answers.get(qid, "")
            else:
                # with --json, stdout carries only the JSON report: prompts go to stderr
                out = sys.stderr if args.json else sys.stdout
                print(file=out)
                print(_prompt(q, engine, learner), file=out)
                for o in q.options:
                    print(f"  {o.id}) {o.text.get(engine.lang)}", file=out)
                print("> ", end="", file=out, flush=True)
                line = sys.stdin.readline()
                text = line.rstrip("\n")
            if not text.strip():
                continue
            seed = engine.variant_seed(learner, qid) if q.params else None
            try:
                verdict = grade(q, text, seed=seed, lang=args.lang)
            except QuestionError as exc:
                print(t("progress.question_error", id=qid, error=str(exc)), file=sys.stderr)
                return 1
            engine.record_attempt(learner, qid, text, verdict, seed=seed)
            if verdict.status == "correct":
                correct += 1
            if not args.json:
                print(t("progress.status." + verdict.status))
        passed = engine.record_placement(learner, ext, correct, len(qids))
        report["results"][ext] = {"questions": len(qids), "correct": correct, "passed": passed}
        if not args.json:
            key = "placement.passed" if passed else "placement.failed"
            print(t(key, title=title, correct=correct, total=len(qids)))
    _finish_placement(args, report)
    return 0


def _prompt(q: Any, engine: Engine, learner: str) -> str:
    """The question's prompt with its variant's parameters filled in when the grader can."""
    try:
        from graders.answers import render_prompt

        seed = engine.variant_seed(learner, q.id) if q.params else None
        return str(render_prompt(q, seed, engine.lang))
    except Exception:  # a prompt without parameters still reads fine
        return str(q.prompt.get(engine.lang))


def _finish_placement(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if args.json:
        from tutor.cli.common import print_json

        print_json(report)


# -- export -------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    from tutor.engine.export import export_text
    from tutor.i18n import t

    engine = _open(args)
    text = export_text(engine, _learner(args), args.format)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            print(t("export.write_error", path=args.out, error=exc.strerror or str(exc)),
                  file=sys.stderr)
            return 1
    else:
        if sys.stdout.isatty():  # stored answers are raw learner text: no escapes to a terminal
            from graders.answers.syntax import visible

            text = visible(text)
        sys.stdout.write(text)
    return 0


# -- reset --------------------------------------------------------------------------------


def _reset(args: argparse.Namespace) -> int:
    from tutor.engine import EngineError
    from tutor.i18n import t

    if not args.yes:
        print(t("reset.refuse"), file=sys.stderr)
        return 2
    engine = _open(args)
    learner = _learner(args)
    item = None if args.all else args.item
    try:
        engine.reset(learner, item)
    except EngineError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(t("reset.done_all" if item is None else "reset.done_item", id=item, learner=learner))
    return 0
