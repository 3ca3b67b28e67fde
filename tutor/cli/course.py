"""`tutor validate`, `tutor schema`, `tutor graph`, `tutor plan`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", parents=parents, help="check a course; file:line:col errors")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="course directories (default: --curriculum or the shipped course)")
    p.add_argument("--quick", action="store_true",
                   help="skip running every question's test cases through the grader")
    p.add_argument("--format", choices=["text", "json"], default="text", dest="output",
                   help="text: file:line:col lines; json: one JSON object per problem and line")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("new", parents=parents, help="create something new from a template")
    new_sub = p.add_subparsers(dest="new_what", metavar="WHAT", required=True)
    q = new_sub.add_parser("course", parents=parents,
                           help="scaffold a minimal valid bilingual course to start from")
    q.add_argument("directory", metavar="DIR",
                   help="directory to create (must not exist or be empty)")
    q.add_argument("--id", dest="course_id", metavar="ID",
                   help="course id (default: the directory name)")
    q.set_defaults(handler=cmd_new_course)

    p = sub.add_parser("schema", parents=parents, help="JSON Schema of the curriculum YAML")
    p.add_argument("--file", choices=["all", "course", "levels", "concepts", "plan", "labs",
                                      "pitfalls", "questions"], default="all",
                   help="schema of one file kind (default: any course file)")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("graph", parents=parents, help="the prerequisite graph")
    p.add_argument("--format", choices=["text", "json", "dot"], default="text")
    p.set_defaults(handler=cmd_graph)

    p = sub.add_parser("plan", parents=parents, help="the course's day-by-day study plan")
    p.add_argument("--day", type=int, metavar="N", help="one day only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_plan)


def cmd_validate(args: argparse.Namespace) -> int:
    from tutor.cli.common import course_dir
    from tutor.curriculum import validate_course
    from tutor.i18n import t

    paths = args.paths or [str(course_dir(args))]
    as_json = getattr(args, "output", "text") == "json"
    failed = 0
    for path in paths:
        course, problems = validate_course(path, run_question_tests=not args.quick)
        # further course-level checks (e.g. masterability) append to `problems` here
        for problem in problems:
            if as_json:  # JSON Lines: editors and CI read one problem per line
                print(json.dumps(problem.as_json(args.lang), ensure_ascii=False))
            else:
                print(problem.format(args.lang))
        errors = [p for p in problems if p.severity == "error"]
        if course is not None and not errors:  # mastery reachable after mistakes (engine rules)
            from tutor.engine.simulate import course_retry_problems

            errors = course_retry_problems(course)
            print(*(p.format() for p in errors), sep="\n", end="\n" if errors else "")
        if course is None or errors:
            failed += len(errors) or 1
            continue
        from tutor.curriculum.graph import build_graph

        g = build_graph(course)
        print(t("validate.ok", course=course.id, levels=len(course.levels),
                concepts=len(course.concepts), days=len(course.days), labs=len(course.labs),
                questions=len(course.questions), edges=g.number_of_edges()),
              file=sys.stderr if as_json else sys.stdout)
    if failed:
        print(t("validate.failed", count=failed), file=sys.stderr)
        return 1
    return 0


def cmd_new_course(args: argparse.Namespace) -> int:
    from tutor.curriculum.scaffold import ScaffoldError, new_course
    from tutor.i18n import t

    try:
        files = new_course(args.directory, args.course_id)
    except ScaffoldError as exc:
        key = "new.not_empty" if str(exc) == str(args.directory) else "new.bad_id"
        print(t(key, path=args.directory, id=str(exc)), file=sys.stderr)
        return 2
    print(t("new.created", path=args.directory, count=len(files)))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from tutor.curriculum.schema import schema_dict

    json.dump(schema_dict(args.file), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from tutor.cli.common import load_course_or_exit, print_json
    from tutor.curriculum.graph import build_graph, to_dot, to_node_link, to_text

    course = load_course_or_exit(args)
    g = build_graph(course)
    if args.format == "json":
        print_json(to_node_link(g))
    elif args.format == "dot":
        sys.stdout.write(to_dot(g, args.lang))
    else:
        sys.stdout.write(to_text(g, course, args.lang))
    return 0


def plan_rows(course: Any, lang: str) -> list[dict[str, Any]]:
    phases = {p.id: p for p in course.phases}
    rows = []
    for d in course.days:
        ph = phases.get(d.phase)
        rows.append({
            "day": d.day,
            "phase": d.phase,
            "phase_title": ph.title.get(lang) if ph else d.phase,
            "level": ph.level if ph else None,
            "title": d.title.get(lang),
            "theory_hours": d.theory_hours,
            "practice_hours": d.practice_hours,
            "concepts": d.concepts,
            "labs": d.labs,
            "activities": [a.get(lang) for a in d.activities],
        })
    return rows


def cmd_plan(args: argparse.Namespace) -> int:
    from tutor.cli.common import load_course_or_exit, print_json
    from tutor.i18n import t

    course = load_course_or_exit(args)
    rows = plan_rows(course, args.lang)
    if args.day is not None:
        if not 1 <= args.day <= len(rows):
            print(t("plan.no_day", day=args.day, last=len(rows)), file=sys.stderr)
            return 2
        rows = [rows[args.day - 1]]
    if args.json:
        print_json(rows[0] if args.day is not None else rows)
        return 0
    current = None
    for r in rows:
        if r["phase"] != current:
            current = r["phase"]
            print(f"\n== {r['phase_title']} (L{r['level']}) ==")
        hours = t("plan.hours", theory=r["theory_hours"], practice=r["practice_hours"])
        print(f"{t('plan.day', day=r['day']):>8}  {r['title']}  [{hours}]")
        if r["concepts"]:
            print(f"          {t('plan.items')}: {', '.join(r['concepts'])}")
        if r["labs"]:
            print(f"          {t('plan.labs')}: {', '.join(r['labs'])}")
        for a in r["activities"]:
            print(f"          - {a}")
    return 0
