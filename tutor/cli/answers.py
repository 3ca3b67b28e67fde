"""`tutor questions` and `tutor check`: list questions, grade an answer without recording it."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graders.answers.schema import Question
    from graders.answers.verdict import Verdict

ASSUMPTIONS = ("positive", "integer", "real", "nonnegative", "nonzero")

_DASH_VALUE = re.compile(r"^-(?!-)")
"""Values such as ``-log(sigmoid(x))`` or ``-x``: one dash, not a long option."""


def _allow_dash_values(p: argparse.ArgumentParser) -> None:
    """Let values that start with a minus sign (``--answer "-x"``, ``check Q -x``) be values.

    argparse reads ``-x`` as an unknown short option unless it looks like a negative number;
    these parsers have no single-dash option but ``-h``, which argparse matches first, so any
    other single-dash word is an expression or an answer, never an option.
    """
    p._negative_number_matcher = _DASH_VALUE


def _learner_opt(p: argparse.ArgumentParser, help_text: str, dest: str = "learner") -> None:
    p.add_argument("--learner", dest=dest, default=argparse.SUPPRESS, metavar="NAME",
                   help=help_text)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands to the `tutor` parser."""
    p = sub.add_parser("questions", parents=parents,
                       help="list question ids, kinds, levels and concepts")
    p.add_argument("ids", nargs="*", metavar="QUESTION_ID",
                   help="show these questions in full: prompt, options, symbols")
    p.add_argument("--concept", metavar="ID", help="only questions on this concept")
    p.add_argument("--level", type=int, metavar="N", help="only questions of this level")
    _learner_opt(p, "show options in this learner's order (default: default)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_questions)

    p = sub.add_parser(
        "check", parents=parents, help="grade an answer (nothing is recorded)",
        description="tutor check QUESTION_ID ANSWER [--seed N], or "
        "tutor check --expected EXPR --answer EXPR [--symbols 'r d k'] [--assume positive,integer]",
    )
    p.add_argument("question_id", nargs="?", metavar="QUESTION_ID")
    p.add_argument("answer_text", nargs="?", metavar="ANSWER")
    p.add_argument("--seed", type=int, default=None, help="variant seed of a randomised question")
    p.add_argument("--hints", type=int, default=0, metavar="N",
                   help="hints used before answering (each costs its score)")
    p.add_argument("--expected", metavar="EXPR", help="compare against this expression")
    p.add_argument("--answer", dest="answer_opt", metavar="EXPR", help="the answer (with --expected)")
    p.add_argument("--symbols", metavar="'r d k'", help="symbols of --expected (default: its names)")
    p.add_argument("--assume", default="", metavar="positive,integer",
                   help=f"assumptions on the symbols: {', '.join(ASSUMPTIONS)}")
    p.add_argument("--timeout", type=float, default=2.0, metavar="S",
                   help="wall-clock bound of the check in seconds (default 2)")
    p.add_argument("--covered", default=None, metavar="POINTS",
                   help="text questions: the rubric points your answer covered, after comparing "
                   "it with the model answer (e.g. 1,3; 0 = none)")
    # its own dest: the top-level --learner (default "default") must not turn the shuffle on
    _learner_opt(p, "read option letters in this learner's order (default: the author's order)",
                 dest="order_learner")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _allow_dash_values(p)
    p.set_defaults(handler=cmd_check, _parser=p)


def load_questions(args: argparse.Namespace) -> dict[str, Question]:
    """The course's questions: through the course loader, or read directly if the course is broken.

    A course that does not validate (for example while lesson pages are still being written) must
    not stop `tutor check` from grading its questions, so the fallback reads questions/*.yaml with
    yaml.safe_load and the question schema.
    """
    from tutor.cli.common import course_dir, load_course_or_exit
    from tutor.i18n import t

    try:
        from tutor.curriculum import CourseError, load_course

        try:
            return dict(load_course(course_dir(args)).questions)
        except CourseError:
            pass
    except ImportError:  # the loader is missing: only the questions are needed
        pass
    qdir = course_dir(args) / "questions"
    if not qdir.is_dir():
        load_course_or_exit(args)  # prints the course's problems and exits 1
        raise SystemExit(1)
    import yaml
    from pydantic import ValidationError

    from graders.answers.schema import Question

    print(t("check.course_fallback"), file=sys.stderr)
    out: dict[str, Question] = {}
    for path in sorted(qdir.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            continue
        for raw in data.get("questions", []) if isinstance(data, dict) else []:
            try:
                q = Question.model_validate(raw)
            except ValidationError as exc:
                print(f"{path}: {exc.errors()[0].get('msg')}", file=sys.stderr)
                continue
            out[q.id] = q
    return out


def _full_text(q: Question, lang: str, learner: str) -> str:
    """A question as ``learner`` reads it: prompt, options in the learner's order, symbols."""
    from graders.answers.grading import render_prompt
    from graders.answers.shuffle import learner_options

    lines = [f"{q.id}  (L{q.level} · {q.kind} · {', '.join(q.concepts)})", "",
             render_prompt(q, None, lang), ""]
    lines += [f"  {o['label']}) {o['text']}" for o in learner_options(q, learner, lang)]
    if q.symbols:
        lines.append("  symbols: " + ", ".join(
            f"{name} ({', '.join(a) or '-'})" for name, a in q.symbols.items()))
    return "\n".join(lines).rstrip() + "\n"


def cmd_questions(args: argparse.Namespace) -> int:
    from graders.answers.grading import render_prompt
    from graders.answers.shuffle import learner_options
    from tutor.cli.common import print_json
    from tutor.i18n import t

    questions = load_questions(args)
    unknown = [i for i in args.ids if i not in questions]
    if unknown:
        print(t("check.unknown_question", id=unknown[0]), file=sys.stderr)
        return 2
    # every learner sees choice options (and ordering items) in an order of their own
    learner = str(getattr(args, "learner", None) or "default")
    if args.ids and not args.json:
        for qid in args.ids:
            print(_full_text(questions[qid], args.lang, learner))
        return 0
    rows: list[dict[str, Any]] = []
    for q in questions.values():
        if args.ids and q.id not in args.ids:
            continue
        if args.concept and args.concept not in q.concepts:
            continue
        if args.level is not None and q.level != args.level:
            continue
        row: dict[str, Any] = {
            "id": q.id, "kind": q.kind, "level": q.level, "concepts": q.concepts,
            "params": sorted(q.params), "prompt": render_prompt(q, None, args.lang)}
        if q.options:
            row["options"] = learner_options(q, learner, args.lang)
        rows.append(row)
    rows.sort(key=lambda r: (r["level"], r["id"]))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(t("questions.none"))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  L{r['level']}  {r['kind']:<10}  {', '.join(r['concepts'])}")
    print(t("questions.count", n=len(rows)))
    return 0


def _print_verdict(v: Verdict, as_json: bool) -> None:
    from tutor.cli.common import print_json
    from tutor.i18n import t

    if as_json:
        print_json(v.to_json())
        return
    print(t("check.status", status=t(f"check.status.{v.status}"), score=f"{v.score:.2f}"))
    if v.interpreted_as:
        print(t("check.read_as", text=v.interpreted_as))
    if v.feedback:
        print(t("check.feedback", text=v.feedback))
    for w in v.warnings:
        print(t("check.warning", text=w))
    if v.pitfall:
        print(t("check.pitfall", id=v.pitfall))
    print(t("check.note", note=v.note, ms=f"{v.elapsed_ms:.0f}"))


def cmd_check(args: argparse.Namespace) -> int:
    from graders.answers.api import check_expressions, grade
    from graders.answers.grading import QuestionError
    from tutor.i18n import t

    parser: argparse.ArgumentParser = args._parser
    if args.timeout <= 0 or args.timeout > 60:
        parser.error("--timeout must be in (0, 60]")
    if args.expected is not None:
        answer = args.answer_opt if args.answer_opt is not None else args.question_id
        if answer is None or args.answer_text is not None or (
            args.answer_opt is not None and args.question_id is not None
        ):
            parser.error(t("check.usage"))
        assume = [a.strip() for a in args.assume.replace(" ", ",").split(",") if a.strip()]
        for a in assume:
            if a not in ASSUMPTIONS:
                parser.error(t("check.bad_assumption", name=a, allowed=", ".join(ASSUMPTIONS)))
        symbols = args.symbols.replace(",", " ").split() if args.symbols else None
        try:
            v = check_expressions(args.expected, answer, symbols=symbols, assume=assume,
                                  timeout=args.timeout, lang=args.lang)
        except QuestionError as exc:
            print(t("check.bad_expected", error=str(exc)), file=sys.stderr)
            return 2
        _print_verdict(v, args.json)
        return 0
    if args.question_id is None or args.answer_text is None or args.answer_opt is not None:
        parser.error(t("check.usage"))
    questions = load_questions(args)
    q = questions.get(args.question_id)
    if q is None:
        print(t("check.unknown_question", id=args.question_id), file=sys.stderr)
        return 2
    learner = getattr(args, "order_learner", None)
    if learner is not None:  # the letters as this learner saw them; else the author's order
        from graders.answers.shuffle import for_learner

        q = for_learner(q, str(learner))
    if q.kind == "text" and args.covered is not None:  # self-assessed (docs/grading.md)
        from graders.answers.selfassess import parse_points, rubric_points, self_assess

        points = parse_points(args.covered, len(rubric_points(q, args.lang)))
        v = self_assess(q, [-1] if points is None else points, lang=args.lang,
                        hints_used=max(0, args.hints))
        _print_verdict(v, args.json)
        return 0
    try:
        v = grade(q, args.answer_text, seed=args.seed, lang=args.lang,
                  hints_used=max(0, args.hints), timeout=args.timeout)
    except QuestionError as exc:
        print(t("check.question_broken", error=str(exc)), file=sys.stderr)
        return 1
    _print_verdict(v, args.json)
    return 0
