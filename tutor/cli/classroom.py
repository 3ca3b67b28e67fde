"""`tutor autograder build|github` and `tutor class report|fit-bkt`: grading and reading a class.

Handlers import what they need inside their body; nothing here loads the ML stack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add `tutor autograder ...` and `tutor class ...`."""
    ag = sub.add_parser("autograder", parents=parents,
                        help="autograder bundles for Gradescope and GitHub Classroom")
    ag_sub = ag.add_subparsers(dest="autograder_command", metavar="ACTION", required=True)
    b = ag_sub.add_parser("build", parents=parents, help="write a Gradescope autograder zip")
    b.add_argument("--lab", required=True, metavar="ID", help="lab id, e.g. lab-1.1")
    b.add_argument("--course", metavar="DIR", help="an instructor's course directory to include")
    b.add_argument("-o", "--out", required=True, metavar="FILE", help="the zip to write")
    b.set_defaults(handler=_build)
    g = ag_sub.add_parser("github", parents=parents,
                          help="write a GitHub Classroom autograding workflow")
    g.add_argument("--lab", required=True, metavar="ID", help="lab id, e.g. lab-1.1")
    g.add_argument("--grader-repo", default="OWNER/GRADER-REPOSITORY", metavar="OWNER/NAME",
                   help="the private repository holding this grader and its held-out data")
    g.add_argument("--grader-ref", default="main", metavar="REF", help="branch or tag to use")
    g.add_argument("--course", metavar="PATH",
                   help="course directory inside the grader repository")
    g.add_argument("-o", "--out", metavar="FILE",
                   help="write here (default: standard output)")
    g.set_defaults(handler=_github)

    cl = sub.add_parser("class", parents=parents,
                        help="a class's mastery, item statistics and BKT fit")
    cl_sub = cl.add_subparsers(dest="class_command", metavar="ACTION", required=True)
    r = cl_sub.add_parser("report", parents=parents, help="the class report")
    r.add_argument("exports", nargs="+", metavar="EXPORT",
                   help="jsonl exports, pyBKT CSVs, folders of them, or a progress database")
    r.add_argument("--format", choices=["md", "html", "json", "text"], default="text",
                   help="output format (default: text, with plots)")
    r.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    r.set_defaults(handler=_report)
    f = cl_sub.add_parser("fit-bkt", parents=parents,
                          help="fit BKT parameters per concept from class data")
    f.add_argument("exports", nargs="+", metavar="EXPORT",
                   help="jsonl exports, pyBKT CSVs, folders of them, or a progress database")
    f.add_argument("--out", required=True, metavar="FILE", help="the bkt.yaml to write")
    f.add_argument("--min-learners", type=int, default=30, metavar="N",
                   help="fit only concepts with at least N learners (default 30)")
    f.add_argument("--min-observations", type=int, default=150, metavar="N",
                   help="fit only concepts with at least N observations (default 150)")
    f.set_defaults(handler=_fit)


def _lang(args: argparse.Namespace) -> str:
    return str(getattr(args, "lang", None) or "en")


def _write(text: str, out: str | None) -> int:
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _build(args: argparse.Namespace) -> int:
    from tutor.classroom.autograder import BundleError, build_gradescope

    course = getattr(args, "course", None) or getattr(args, "curriculum", None)
    try:
        info = build_gradescope(args.lab, Path(args.out),
                                course_dir=Path(course) if course else None, lang=_lang(args))
    except BundleError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"{info['bundle']}: {info['files']} files, {info['bytes'] / 1e6:.1f} MB "
          f"(Gradescope: upload as the autograder zip)")
    return 0


def _github(args: argparse.Namespace) -> int:
    from tutor.classroom.autograder import BundleError, github_workflow

    try:
        text = github_workflow(args.lab, grader_repo=args.grader_repo,
                               grader_ref=args.grader_ref, course=args.course)
    except BundleError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return _write(text, args.out)


def _load(args: argparse.Namespace) -> tuple[Any, Any] | None:
    """(course, class data), or None after printing why nothing could be read."""
    from tutor.classroom.data import ClassDataError, load_class
    from tutor.cli.common import load_course_or_exit

    course = load_course_or_exit(args)
    try:
        return course, load_class(args.exports, course=course)
    except ClassDataError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _report(args: argparse.Namespace) -> int:
    from tutor.classroom.report import build_report, render

    loaded = _load(args)
    if loaded is None:
        return 1
    course, data = loaded
    rep = build_report(data, course)
    for w in data.warnings[:10]:
        print(f"warning: {w}", file=sys.stderr)
    return _write(render(rep, args.format, _lang(args)), args.out)


def _fit(args: argparse.Namespace) -> int:
    from tutor.classroom.bkt_fit import fit_class, to_yaml

    loaded = _load(args)
    if loaded is None:
        return 1
    course, data = loaded
    fits = fit_class(data, min_learners=args.min_learners,
                     min_observations=args.min_observations)
    if not fits:
        print("no observations to fit", file=sys.stderr)
        return 1
    rc = _write(to_yaml(fits, threshold=course.meta.bkt.threshold), args.out)
    fitted = sum(f.skipped is None for f in fits)
    print(f"{fitted} concepts fitted, {len(fits) - fitted} skipped (too little data) → {args.out}")
    return rc
