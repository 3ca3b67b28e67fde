"""The `tutor` command: global options, then one sub-command module per area.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers, parents)``; a sub-command's
handler receives the parsed ``argparse.Namespace`` and returns the exit code. Handlers import
what they need inside their body so that `tutor --help` and the app start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "tutor.cli.course",  # validate, schema, graph, plan
    "tutor.cli.answers",  # questions, check
    "tutor.cli.progress",  # answer, next, progress, placement, export, reset
    "tutor.cli.labs",  # lab, grade, estimate, dev
)


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the sub-command (`tutor --lang en plan`, `tutor plan --lang en`)."""
    d = None if defaults else argparse.SUPPRESS
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--lang", choices=["en", "zh-TW"], default=d,
                   help="interface language (default: TUTOR_LANG, then the locale)")
    p.add_argument("--db", default=d, metavar="PATH",
                   help="progress database (default: the user data dir; TUTOR_DB overrides)")
    p.add_argument("--curriculum", default=d, metavar="PATH",
                   help="course directory (default: the shipped course)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Adaptive tutor and grader for core LLM-training techniques. "
        "Without a sub-command, launches the terminal app.",
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--learner", default="default", help="learner profile for the app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [_global_options(defaults=False)]
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, parents)
    return parser


def _launch_app(args: argparse.Namespace) -> int:
    from tutor.app import run_app

    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tutor.i18n import resolve_lang, set_lang

    args.lang = resolve_lang(args.lang)
    set_lang(args.lang)
    handler = getattr(args, "handler", None)
    if handler is None:
        return _launch_app(args)
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:  # `tutor graph | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
