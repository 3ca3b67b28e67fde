"""`tutor lab ...`, `tutor dev check`, `tutor grade`, `tutor estimate`.

Two engineers share this file; each owns separate registration functions called from
``register``:
- labs framework: ``_register_lab`` (``tutor lab list|start|run|check``) and ``_register_dev``
  (``tutor dev check``), handlers ``_lab_*`` / ``_dev_*``;
- grading: ``_register_grade`` (``tutor grade``) and ``_register_estimate`` (``tutor estimate``).

Handlers import what they need inside their body (torch & co. never load for `tutor --help`).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands to the `tutor` parser."""
    _register_lab(sub, parents)
    _register_dev(sub, parents)
    _register_grade(sub, parents)
    _register_estimate(sub, parents)


# --------------------------------------------------------------------------------------------
# lab + dev (labs framework)
# --------------------------------------------------------------------------------------------


def _register_lab(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor lab list|start|run|check`."""
    p = sub.add_parser("lab", parents=parents, help="list, start, run and check the labs")
    lab_sub = p.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    ls = lab_sub.add_parser("list", parents=parents, help="the lab catalogue")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_lab_list)

    st = lab_sub.add_parser("start", parents=parents, help="copy a lab's starter files")
    st.add_argument("lab_id", metavar="ID")
    st.add_argument("--force", action="store_true", help="overwrite existing work")
    st.set_defaults(handler=_lab_start)

    rn = lab_sub.add_parser("run", parents=parents, help="run your workspace copy of a lab")
    rn.add_argument("lab_id", metavar="ID")
    rn.add_argument("--solution", action="store_true", help="run the reference solution")
    rn.add_argument("--seed", type=int, default=0)
    rn.add_argument("--out", metavar="DIR", help="output directory (default: a fresh one)")
    rn.set_defaults(handler=_lab_run)

    ck = lab_sub.add_parser("check", parents=parents, help="run a lab and check its artifacts")
    ck.add_argument("lab_id", metavar="ID")
    ck.add_argument("--solution", action="store_true", help="check the reference solution")
    ck.add_argument("--seed", type=int, default=0)
    ck.add_argument("--json", action="store_true", help="print JSON")
    ck.set_defaults(handler=_lab_check)


def _register_dev(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor dev check`."""
    p = sub.add_parser("dev", parents=parents, help="maintainer tools")
    dev_sub = p.add_subparsers(dest="dev_command", metavar="ACTION", required=True)
    ck = dev_sub.add_parser(
        "check", parents=parents,
        help="every lab starter fails its checks, every solution passes, no orphan files",
    )
    ck.add_argument("--lab", action="append", metavar="ID", help="only these labs")
    ck.add_argument("--static", action="store_true", help="skip running starters/solutions")
    ck.set_defaults(handler=_dev_check)


def _lab_list(args: argparse.Namespace) -> int:
    from tutor.labs.cli import lab_list

    return lab_list(args)


def _lab_start(args: argparse.Namespace) -> int:
    from tutor.labs.cli import lab_start

    return lab_start(args)


def _lab_run(args: argparse.Namespace) -> int:
    from tutor.labs.cli import lab_run

    return lab_run(args)


def _lab_check(args: argparse.Namespace) -> int:
    from tutor.labs.cli import lab_check

    return lab_check(args)


def _dev_check(args: argparse.Namespace) -> int:
    from tutor.labs.cli import dev_check

    return dev_check(args)


# --------------------------------------------------------------------------------------------
# grade + estimate (grading engineer)
# --------------------------------------------------------------------------------------------


def _register_grade(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor grade` (owned by the grading engineer; replace this body)."""


def _register_estimate(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor estimate` (owned by the grading engineer; replace this body)."""
