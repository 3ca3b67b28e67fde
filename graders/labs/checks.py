"""Running a lab's automatic checks on a finished run's artifacts.

``run_checks`` runs in the grader's process after every process of the submission is dead. The lab's
checker module (``graders.labs.<spec.checker>``) recomputes every number from the artifacts
(safetensors and JSON only; nothing submitted is imported, executed or unpickled here: the
learner's own functions run only in probes, inside the sandbox) and cross-checks what the
submission reports. A check that cannot pass because of the submission is a ``fail``; a
check that could not be evaluated because the grader itself broke is an ``error``.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field

from graders.labs.spec import CheckSpec, LabSpec
from graders.schema_base import Model, Text

Status = Literal["pass", "fail", "error"]
"""pass: full points; fail: the submission does not meet the check; error: the grader broke."""

_PKG_DIR = Path(__file__).resolve().parent


class CheckResult(Model):
    """The outcome of one lab check."""

    id: str
    """Check id from lab.yaml."""
    bucket: str
    """Rubric bucket (implementation, analysis, innovation)."""
    points: float = Field(ge=0)
    """Points earned."""
    max_points: float = Field(ge=0)
    """Points available."""
    status: Status
    """pass, fail or error."""
    message: Text | str
    """What was found, in both languages."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Recomputed numbers, claimed numbers, tolerances, offending tensors."""

    def text(self, lang: str) -> str:
        """The message in ``lang``."""
        return self.message.get(lang) if isinstance(self.message, Text) else self.message


@dataclass
class CheckContext:
    """Everything a checker may look at."""

    spec: LabSpec
    """The lab."""
    out_dir: Path
    """OUTDIR the run wrote its artifacts into."""
    submission_dir: Path
    """The submitted files (read as text at most; never imported)."""
    heldout: Path | None
    """The grader's held-out file (None: the lab's default under graders/labs/data)."""
    seed: int
    """The seed the run was started with."""
    data_dir: Path | None = None
    """The training-data directory the run was given (for validation-split recomputation)."""
    lab_dir: Path | None = None
    """The lab's directory (the grader's common files are beside it)."""
    probes: Any = None
    """graders.labs.probing.ProbeRuns of this grading (None: no probes were run)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Checker-specific options (tests use it to shorten timeouts)."""


class Checker(Protocol):
    def run(self, ctx: CheckContext) -> dict[str, CheckResult]: ...


def grader_data_dir() -> Path:
    """The grader's own data (held-out splits): graders/labs/data."""
    return _PKG_DIR / "data"


def content_data_dir() -> Path | None:
    """content/data of a checkout or of an installed wheel (without importing tutor)."""
    root = _PKG_DIR.parents[1]
    for cand in (root / "content" / "data", root / "tutor" / "_data" / "content" / "data"):
        if cand.is_dir():
            return cand
    return None


def default_heldout(spec: LabSpec) -> Path | None:
    """The lab's held-out file under graders/labs/data, if it declares one and it exists."""
    if spec.heldout is None:
        return None
    path = grader_data_dir() / spec.heldout
    return path if path.is_file() else None


def default_data_dir(spec: LabSpec) -> Path | None:
    """The lab's training-data directory under content/data."""
    base = content_data_dir()
    if spec.data is None or base is None:
        return None
    path = base / spec.data
    return path if path.is_dir() else None


def make_result(
    check: CheckSpec, status: Status, message: Text | str, details: dict[str, Any] | None = None
) -> CheckResult:
    """A result for ``check``: full points on pass, none otherwise."""
    return CheckResult(
        id=check.id, bucket=check.bucket, points=check.points if status == "pass" else 0.0,
        max_points=check.points, status=status, message=message, details=_jsonable(details or {}),
    )


def text(en: str, zh: str) -> Text:
    """A localised message."""
    return Text.model_validate({"en": en, "zh-TW": zh})


def _jsonable(obj: Any) -> Any:
    """Details must serialise to JSON: non-finite floats become strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def run_checks(
    spec: LabSpec,
    out_dir: Path,
    submission_dir: Path,
    heldout: Path | None,
    seed: int,
    *,
    data_dir: Path | None = None,
    extra: dict[str, Any] | None = None,
    lab_dir: Path | None = None,
    probes: Any = None,
) -> list[CheckResult]:
    """Every check of ``spec`` on the artifacts in ``out_dir``, in lab.yaml order.

    A checker written with graders.labs.kit (``@check`` functions, no ``run``) runs in a child
    process under ``params.checker_timeout_s`` (``extra["timeout_s"]`` overrides); ``probes`` are
    the outputs of graders.labs.probing. Never raises for a bad submission; a checker that breaks
    yields ``error`` results.
    """
    ctx = CheckContext(
        spec=spec, out_dir=Path(out_dir), submission_dir=Path(submission_dir),
        heldout=Path(heldout) if heldout else default_heldout(spec), seed=seed,
        data_dir=Path(data_dir) if data_dir else default_data_dir(spec), extra=dict(extra or {}),
        lab_dir=Path(lab_dir) if lab_dir else None, probes=probes,
    )
    try:
        module = importlib.import_module(f"graders.labs.{spec.checker}")
        if hasattr(module, "run"):
            found: dict[str, CheckResult] = module.run(ctx)
        else:
            found = _run_kit(ctx)
    except Exception as exc:  # the grader broke: say so for every check, never crash the report
        msg = text(f"grader error: {type(exc).__name__}: {exc}",
                   f"評分器錯誤：{type(exc).__name__}: {exc}")
        return [make_result(c, "error", msg) for c in spec.checks]
    out: list[CheckResult] = []
    for c in spec.checks:
        res = found.get(c.id)
        if res is None:
            res = make_result(c, "error", text("the checker produced no result for this check",
                                               "評分器沒有產生此項檢查的結果"))
        out.append(res)
    return out


def _run_kit(c: CheckContext) -> dict[str, CheckResult]:
    """A kit checker: build its Context, run it in the child process, map the verdicts."""
    from graders.labs.kit.core import Context
    from graders.labs.kit.worker import run_kit

    if c.spec.probes and c.probes is None:
        raise RuntimeError("this lab has probes but none were run")
    ctx = Context(spec=c.spec, out_dir=c.out_dir, submission_dir=c.submission_dir, seed=c.seed,
                  lab_dir=c.lab_dir or _find_lab_dir(c.spec), data_dir=c.data_dir,
                  heldout=c.heldout,
                  probe_seed=c.probes.seed if c.probes is not None else None,
                  probes_dir=c.probes.dest if c.probes is not None else None,
                  probe_status=dict(c.probes.status) if c.probes is not None else {},
                  extra=dict(c.extra))
    limit = c.extra.get("timeout_s", c.spec.params.get("checker_timeout_s", 120))
    timeout = float(limit) if isinstance(limit, int | float) and limit > 0 else 120.0
    verdicts = run_kit(ctx, timeout)
    out: dict[str, CheckResult] = {}
    for check in c.spec.checks:
        v = verdicts[check.id]
        msg = v.get("message") or {}
        out[check.id] = make_result(check, v["status"], text(str(msg.get("en") or "-"),
                                                                str(msg.get("zh-TW") or "-")),
                                    v.get("details") or {})
    return out


def _find_lab_dir(spec: LabSpec) -> Path | None:
    """The lab's directory in a checkout or an installed wheel (for the grader's common files)."""
    root = _PKG_DIR.parents[1]
    for base in (root / "exercises", root / "tutor" / "_data" / "exercises"):
        for lab_yaml in sorted(base.glob("*/lab.yaml")) if base.is_dir() else []:
            try:
                head = lab_yaml.read_text(encoding="utf-8")[:4000]
            except OSError:
                continue
            if f"id: {spec.id}\n" in head:
                return lab_yaml.parent
    return None


def summarise(results: list[CheckResult]) -> dict[str, Any]:
    """Totals for a report: points earned / available per bucket, and the pass count."""
    buckets: dict[str, dict[str, float]] = {}
    for r in results:
        b = buckets.setdefault(r.bucket, {"points": 0.0, "max_points": 0.0})
        b["points"] += r.points
        b["max_points"] += r.max_points
    return {
        "passed": sum(r.status == "pass" for r in results),
        "total": len(results),
        "errors": sum(r.status == "error" for r in results),
        "buckets": buckets,
    }


def results_json(results: list[CheckResult]) -> str:
    """Results as a JSON array (message as {en, zh-TW})."""
    return json.dumps([r.model_dump(by_alias=True) for r in results], ensure_ascii=False, indent=2)
