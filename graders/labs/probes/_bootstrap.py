"""Grader-owned start of every probe: make the ``block`` list unavailable, then run the probe.

    python -I _bootstrap.py --block peft,torch.distributed.all_reduce --probe lab_1_1_lora.py \
        -- --submission RUN_DIR --out OUT_DIR --seed S

It runs inside the sandbox, before any learner code is imported (the probe imports the learner's
module after this has run, so the learner cannot "import first"). Stdlib only.

What a block means:
- a module (``peft``): a meta-path finder at the front of ``sys.meta_path`` refuses it and its
  submodules; an audit hook (which cannot be removed: PEP 578) refuses the ``import`` event for
  it and any ``open`` of a file inside its package, so removing the finder, deleting
  ``sys.modules`` entries, ``importlib.reload`` or ``spec_from_file_location`` on peft's files all
  fail too;
- a dotted attribute (``torch.distributed.all_reduce``): every module attribute bound to that
  object is replaced by a function that raises;
- always: starting processes (``subprocess``, ``os.system``, ``exec*``, ``fork``) is refused, so
  the learner's code cannot run a fresh interpreter without the hooks.

After the probe returns, the bootstrap checks that nothing blocked was loaded and every stub is
still in place; otherwise it replaces result.json with ``{"error": ...}``. It then leaves with
``os._exit`` so no ``atexit`` handler of the learner's code runs after that check.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import runpy
import sys
from typing import Any

BOOTSTRAP_FAILED = 97
"""Exit code when the blocks cannot be installed (a grader error, never the learner's fail)."""
BLOCKED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                  "os.fork", "os.forkpty", "pty.spawn")
"""Audit events that start a process (a new interpreter would have none of these hooks)."""


class Blocked(ImportError):
    """A blocked module was asked for."""


class _Refuse:
    """Meta-path finder that refuses the blocked modules (and their submodules)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if _is_blocked(fullname, self.names):
            raise Blocked(f"{fullname} is not available in this check: write it yourself")
        return None


def _is_blocked(name: str, names: list[str]) -> bool:
    return any(name == n or name.startswith(n + ".") for n in names)


def _module_dirs(names: list[str]) -> list[str]:
    """Directories (or files) of the blocked modules, found without importing them."""
    out: list[str] = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        for loc in list(spec.submodule_search_locations or []) + [spec.origin or ""]:
            if loc and os.path.exists(loc):
                real = os.path.realpath(loc)
                out.append(real)
                if os.path.isfile(real):  # a one-file module: its cached bytecode too
                    stem = os.path.splitext(os.path.basename(real))[0]
                    out.append(os.path.join(os.path.dirname(real), "__pycache__", stem + "."))
    return sorted(set(out))


def _stub(name: str) -> Any:
    def blocked(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"{name} is not available in this check: write it yourself")

    blocked.__name__ = name.rsplit(".", 1)[-1]
    blocked.__qualname__ = name
    return blocked


def _owner(dotted: str) -> tuple[Any, str]:
    """(the object holding the last name, that name): the longest importable module prefix,
    then attributes (``torch.distributed.all_reduce``, ``trl.DPOTrainer.dpo_loss``)."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:-1]:
            obj = getattr(obj, name)
        return obj, parts[-1]
    raise ImportError(f"cannot resolve {dotted}")


def _block_attribute(dotted: str) -> tuple[str, Any, list[tuple[Any, str]]]:
    """Replace ``dotted`` (and every module attribute bound to the same object) by a stub."""
    owner, attr = _owner(dotted)
    original = getattr(owner, attr)
    stub = _stub(dotted)
    setattr(owner, attr, stub)  # TypeError for a built-in type: the caller fails closed
    places: list[tuple[Any, str]] = [(owner, attr)]
    for m in list(sys.modules.values()):
        d = getattr(m, "__dict__", None)
        if not isinstance(d, dict):
            continue
        for key, value in list(d.items()):
            if value is original:
                setattr(m, key, stub)
                places.append((m, key))
    return dotted, stub, places


def _split(block: str) -> tuple[list[str], list[str]]:
    """(modules, dotted attributes): a name that is an importable module is a module."""
    modules: list[str] = []
    attrs: list[str] = []
    for name in filter(None, (b.strip() for b in block.split(","))):
        is_module = False
        try:
            is_module = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError, AttributeError):
            is_module = False
        (modules if is_module or "." not in name else attrs).append(name)
    return modules, attrs


def install(block: str) -> tuple[list[str], list[tuple[str, Any, list[tuple[Any, str]]]]]:
    """Install every guard for the comma-separated ``block`` list; returns what to verify."""
    modules, attrs = _split(block)
    stubs = [_block_attribute(a) for a in attrs]
    dirs = _module_dirs(modules)
    for name in list(sys.modules):
        if _is_blocked(name, modules):
            del sys.modules[name]
    sys.meta_path.insert(0, _Refuse(modules))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "import" and args and isinstance(args[0], str) and _is_blocked(args[0], modules):
            raise Blocked(f"{args[0]} is not available in this check: write it yourself")
        if event == "open" and args and isinstance(args[0], str | bytes) and dirs:
            path = os.fsdecode(args[0])
            real = os.path.realpath(path)
            if any(real == d or real.startswith(d if d.endswith(".") else d.rstrip("/") + "/")
                   for d in dirs):
                raise PermissionError(f"{path}: blocked in this check")
        if event.startswith(BLOCKED_EVENTS):
            raise PermissionError(f"{event} is not allowed while the probe runs your code")

    sys.addaudithook(hook)
    return modules, stubs


def violations(modules: list[str], stubs: list[tuple[str, Any, list[tuple[Any, str]]]]) -> list[str]:
    """What the learner's code undid (empty: every guard held)."""
    out = [f"blocked module {n} was loaded" for n in list(sys.modules) if _is_blocked(n, modules)]
    if not any(isinstance(f, _Refuse) for f in sys.meta_path):
        out.append("the import guard was removed")
    for dotted, stub, places in stubs:
        for m, key in places:
            if getattr(m, key, None) is not stub:
                out.append(f"{dotted} was restored")
                break
    return out


def main() -> None:
    """Entry point (see the module docstring)."""
    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    p = argparse.ArgumentParser(prog="_bootstrap.py")
    p.add_argument("--block", default="")
    p.add_argument("--probe", required=True)
    opts = p.parse_args(args[:cut])
    probe_args = args[cut + 1:]
    q = argparse.ArgumentParser(add_help=False)
    q.add_argument("--out", required=True)
    out_dir = q.parse_known_args(probe_args)[0].out
    here = os.path.dirname(os.path.abspath(opts.probe))
    sys.path.insert(0, here)
    import labcommon  # noqa: F401 - the grader's copy, cached before the learner's dir is on the path

    try:
        modules, stubs = install(opts.block)
    except Exception as exc:  # noqa: BLE001 - a lab.yaml block that cannot hold: the grader's fault
        print(f"probe bootstrap: cannot block {opts.block}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        sys.stderr.flush()
        os._exit(BOOTSTRAP_FAILED)
    sys.argv = [opts.probe, *probe_args]
    code = 0
    try:
        runpy.run_path(opts.probe, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 - a probe bug or the learner's code escaping
        print(f"probe failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 3
    bad = violations(modules, stubs)
    if bad:
        os.makedirs(out_dir, exist_ok=True)
        result = os.path.join(out_dir, "result.json")
        if os.path.lexists(result):
            os.unlink(result)
        with open(result, "w", encoding="utf-8") as fh:
            json.dump({"error": "; ".join(bad)[:500]}, fh)
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
