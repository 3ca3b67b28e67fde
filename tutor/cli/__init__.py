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
    "tutor.cli.classroom",  # autograder, class
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
        description="Adaptive tutor and grader for any course written as YAML (default: the "
        "shipped course). Without a sub-command, launches the terminal app.",
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--learner", default="default", help="learner profile for the app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [_global_options(defaults=False)]
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, parents)
    return parser


def _early_lang(argv: Sequence[str]) -> str:
    """The language before parsing, so that --help and usage errors come out localised."""
    from tutor.i18n import resolve_lang

    value = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
    return resolve_lang(value if value in ("en", "zh-TW") else None)


def _walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                out.extend(_walk(sub))
    return out


def help_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every help/description string of the parser tree, in order, without duplicates."""
    seen: dict[str, None] = {}
    for p in _walk(parser):
        if p.description:
            seen[p.description] = None
        for action in p._actions:
            if action.help and action.help != argparse.SUPPRESS:
                seen[action.help] = None
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if choice.help:
                        seen[choice.help] = None
    return list(seen)


def localise(parser: argparse.ArgumentParser) -> None:
    """Show the parser tree's help in Traditional Chinese (argparse's own strings: see main)."""
    from tutor.cli.help_zh import HELP_ZH

    for p in _walk(parser):
        if p.description:
            p.description = HELP_ZH.get(p.description, p.description)
        for action in p._actions:
            if action.help and action.help != argparse.SUPPRESS:
                action.help = HELP_ZH.get(action.help, action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if choice.help:
                        choice.help = HELP_ZH.get(choice.help, choice.help)


def _launch_app(args: argparse.Namespace) -> int:
    from tutor.app import run_app

    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    zh = _early_lang(argv) == "zh-TW"
    gettext = argparse._  # type: ignore[attr-defined]
    if zh:
        from tutor.cli.help_zh import ARGPARSE_ZH

        # argparse looks its own messages up through this module-level alias, both while the
        # parser is built ("options") and when it reports an error; restored below.
        argparse._ = lambda message: ARGPARSE_ZH.get(message, message)  # type: ignore[attr-defined]
    try:
        parser = build_parser()
        if zh:
            localise(parser)
        args = parser.parse_args(argv)
    finally:
        argparse._ = gettext  # type: ignore[attr-defined]
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
    except Exception as exc:  # a bug of ours: one clear line, the traceback only on request
        import os

        if os.environ.get("TUTOR_DEBUG"):
            raise
        print(f"tutor: internal error: {type(exc).__name__}: {exc} "
              "(set TUTOR_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
