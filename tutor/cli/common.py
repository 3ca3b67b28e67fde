"""Helpers shared by the sub-command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.curriculum.models import Course


def course_dir(args: argparse.Namespace) -> Path:
    from tutor.paths import default_course_dir

    return Path(args.curriculum) if getattr(args, "curriculum", None) else default_course_dir()


def load_course_or_exit(args: argparse.Namespace) -> Course:
    """Load and validate the course; on failure print the problems and exit 1."""
    from tutor.curriculum.loader import CourseError, load_course
    from tutor.i18n import t

    try:
        return load_course(course_dir(args))
    except CourseError as exc:
        for problem in exc.problems[:20]:
            print(problem.format(), file=sys.stderr)
        print(t("error.course"), file=sys.stderr)
        raise SystemExit(1) from None


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
