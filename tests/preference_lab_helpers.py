"""What tests/test_lab_1_7.py and tests/test_lab_1_8.py share: the checks of a lab run in this
process through the kit's public registry (the grader runs the same functions in a child process),
the probes as plain subprocesses, a file of exercises/_common imported by path, and the real lab
through the sandboxed grader."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, NamedTuple

from grading_helpers import grade_copy

from graders.labs.probing import run_local_probes
from graders.labs.spec import LabSpec

ROOT = Path(__file__).resolve().parents[1]
COMMON = ROOT / "exercises" / "_common"
DATA = ROOT / "content" / "data" / "preference"
HELDOUT = ROOT / "graders" / "labs" / "data" / "lab-1.7" / "heldout.jsonl"


class Verdict(NamedTuple):
    """One check's outcome."""

    status: str
    message: str
    details: dict[str, Any]


def common_module(name: str) -> Any:
    """A file of exercises/_common imported by path (the learner's run does the same)."""
    spec = importlib.util.spec_from_file_location(f"_test_pref_{name}", COMMON / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_lab_checks(spec: LabSpec, lab: Path, out: Path, sub: Path, tmp: Path, *,
                   probe: bool = True, only: str | None = None) -> dict[str, Verdict]:
    """The lab's checks (``only``: one of them) on ``out``; ``probe``: run the probes on ``sub``."""
    from graders.labs.kit import Context, Fail, registered

    runs = (run_local_probes(spec, lab, sub, tmp / "probes", env={"HF_HUB_OFFLINE": "1"})
            if probe else None)
    ctx = Context(spec=spec, out_dir=out, submission_dir=sub, seed=0, lab_dir=lab, data_dir=DATA,
                  heldout=HELDOUT, probe_seed=runs.seed if runs else None,
                  probes_dir=runs.dest if runs else None,
                  probe_status=dict(runs.status) if runs else {})
    module = f"graders.labs.{spec.checker}"
    importlib.import_module(module)
    table = registered(module)
    assert set(table) == {c.id for c in spec.checks}
    verdicts: dict[str, Verdict] = {}
    for cid, fn in table.items():
        if only is not None and cid != only:
            continue
        try:
            details = fn(ctx) or {}
        except Fail as exc:
            verdicts[cid] = Verdict("fail", exc.en, exc.details)
        except Exception as exc:  # noqa: BLE001 - the grader's error, as the worker reports it
            verdicts[cid] = Verdict("error", f"{type(exc).__name__}: {exc}", {})
        else:
            verdicts[cid] = Verdict("pass", str(details.get("message", {}).get("en", "")), details)
    return verdicts


def grade(src: Path, lab_id: str, tmp_path: Path) -> Any:
    """``src`` graded as a submission through the sandbox (seed 0)."""
    return grade_copy(src, lab_id, tmp_path)
