"""`tutor dev check`: every lab's starter fails its checks, every solution passes, no orphans.

Rustlings' ``dev check`` for our labs: for each exercise directory, the spec must load, every file
must be referenced by lab.yaml (or be README / lab.yaml), every starter file must carry a TODO,
the lab must be in the course and agree with the course's labs.yaml (id, concepts, gpu), lab.yaml
``params`` must match the constants the lab's code states (``PROFILES`` = ``params.profiles``),
every check must have a ``@check`` function, the starter run must fail at least one check and the
solution run must pass them all. Runs go through tutor.labs.session.run_and_check, the pipeline of
`tutor lab check` and the app.
"""

from __future__ import annotations

import ast
import importlib
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.labs.checks import CheckResult
from graders.labs.spec import COMMON_DIR, LabSpec, LabSpecError, find_labs, load_lab, orphan_files
from tutor.labs.messages import t
from tutor.labs.runner import LabRun, tail


@dataclass
class LabReport:
    """What dev check found for one lab."""

    lab_id: str
    """Lab id (or the directory name when the spec does not load)."""
    problems: list[str] = field(default_factory=list)
    """Everything wrong; empty when the lab is fine."""
    notes: list[str] = field(default_factory=list)
    """Informational lines (check counts, timings)."""


def run_and_check(spec: LabSpec, lab_dir: Path, *, solution: bool, seed: int = 0,
                  work: Path, source: Path | None = None,
                  on_event: Callable[[object], None] | None = None,
                  ) -> tuple[list[CheckResult], float, LabRun]:
    """Run the starter / solution / ``source`` copy in ``work`` and check it (the one pipeline,
    tutor.labs.session.run_and_check); (results, seconds, the run)."""
    from tutor.labs import session

    runs: list[LabRun] = []
    res = session.run_and_check(spec, lab_dir, work=work, solution=solution, source=source,
                                seed=seed, on_event=on_event, on_start=runs.append)
    return res.results, res.elapsed_s, runs[0]


def _constants(path: Path) -> dict[str, Any]:
    """Module-level ``NAME = literal`` assignments of a Python file (read with ast, not run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    out: dict[str, Any] = {}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id.isupper() and value is not None:
            try:
                out[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def param_mismatches(spec: LabSpec, lab_dir: Path) -> list[str]:
    """Where a constant of the lab's code and lab.yaml ``params`` state different values.

    A module-level ``NAME`` (or ``PREFIX_NAME``, e.g. ``LORA_R`` for ``r``) in a shared, common
    or solution file matches ``params[name.lower()]``.
    """
    files = [lab_dir / rel for rel in spec.shared if rel.endswith(".py")]
    files += [lab_dir / spec.solution_dir / rel for rel in spec.starter if rel.endswith(".py")]
    files += [lab_dir.parent / COMMON_DIR / rel for rel in spec.common if rel.endswith(".py")]
    out: list[str] = []
    for path in files:
        for name, value in _constants(path).items():
            low = name.lower()
            key = low if low in spec.params else low.split("_", 1)[-1]
            if key in spec.params and not _same(value, spec.params[key]):
                rel = path.relative_to(lab_dir.parent).as_posix()
                out.append(t("dev.param_mismatch", file=rel, name=name, param=key,
                             code=repr(value)[:80], yaml=repr(spec.params[key])[:80]))
    return out


def course_mismatches(spec: LabSpec, lab_dir: Path, course_lab: Any) -> list[str]:
    """Where the course's labs.yaml entry and lab.yaml disagree (id, exercise, concepts, gpu)."""
    out: list[str] = []
    if course_lab is None:
        return out
    if getattr(course_lab, "exercise", None) not in (None, lab_dir.name):
        out.append(t("dev.course_field", field="exercise", course=course_lab.exercise,
                     lab=lab_dir.name))
    if sorted(course_lab.concepts) != sorted(spec.concepts):
        out.append(t("dev.course_field", field="concepts", course=sorted(course_lab.concepts),
                     lab=sorted(spec.concepts)))
    if course_lab.gpu != spec.gpu_need:
        out.append(t("dev.course_field", field="gpu", course=course_lab.gpu, lab=spec.gpu_need))
    return out


def missing_check_functions(spec: LabSpec) -> list[str]:
    """Checks of lab.yaml without a ``@check`` function in a kit checker (legacy ``run``
    checkers are not inspected)."""
    try:
        module = importlib.import_module(f"graders.labs.{spec.checker}")
    except Exception as exc:  # noqa: BLE001 - any import failure is a problem of the lab
        return [t("dev.checker_import", checker=spec.checker, error=f"{type(exc).__name__}: {exc}")]
    if hasattr(module, "run"):
        return []
    from graders.labs.kit import registered

    table = registered(module.__name__)
    out = [t("dev.no_check_fn", check=c.id, checker=spec.checker)
           for c in spec.checks if c.id not in table]
    out += [t("dev.extra_check_fn", check=cid, checker=spec.checker)
            for cid in sorted(set(table) - {c.id for c in spec.checks})]
    return out


def check_lab(lab_dir: Path, *, static: bool = False, course_labs: Any = None,
              question_ids: set[str] | None = None, concept_ids: set[str] | None = None,
              ) -> LabReport:
    """dev check of one exercise directory."""
    try:
        spec = load_lab(lab_dir)
    except LabSpecError as exc:
        return LabReport(lab_dir.name, [f"{lab_dir.name}: {p}" for p in exc.problems])
    rep = LabReport(spec.id)
    rep.problems += orphan_files(lab_dir, spec)
    differing = 0
    for rel in spec.starter:
        path, sol = lab_dir / spec.starter_dir / rel, lab_dir / spec.solution_dir / rel
        if not (path.is_file() and sol.is_file()) or path.read_bytes() == sol.read_bytes():
            continue  # missing files are reported above; identical ones need no TODO
        differing += 1
        if "TODO" not in path.read_text(encoding="utf-8", errors="replace"):
            rep.problems.append(t("dev.no_todo", file=f"{spec.starter_dir}/{rel}"))
    if not differing and not rep.problems:
        rep.problems.append(t("dev.starter_is_solution"))
    if course_labs is not None and spec.id not in course_labs:
        rep.problems.append(t("dev.not_in_course", lab=spec.id))
    elif isinstance(course_labs, dict):
        rep.problems += course_mismatches(spec, lab_dir, course_labs[spec.id])
    rep.problems += param_mismatches(spec, lab_dir)
    rep.problems += missing_check_functions(spec)
    if question_ids is not None:
        for q in spec.analysis:
            if q.prompt is None and q.id not in question_ids:
                rep.problems.append(t("dev.unknown_question", id=q.id))
    if concept_ids is not None:
        for c in spec.concepts:
            if c not in concept_ids:
                rep.problems.append(t("dev.unknown_concept", id=c))
    if static or rep.problems:
        return rep
    with tempfile.TemporaryDirectory(prefix=f"devcheck-{spec.id}-") as tmp:
        starter, _, _ = run_and_check(spec, lab_dir, solution=False, work=Path(tmp, "starter"))
        passed = sum(r.status == "pass" for r in starter)
        rep.notes.append(t("dev.starter_result", passed=passed, total=len(starter)))
        if passed == len(starter):
            rep.problems.append(t("dev.starter_passes"))
        solution, elapsed, run = run_and_check(spec, lab_dir, solution=True,
                                               work=Path(tmp, "solution"))
        passed = sum(r.status == "pass" for r in solution)
        rep.notes.append(t("dev.solution_result", passed=passed, total=len(solution),
                           elapsed=elapsed))
        for r in solution:
            if r.status != "pass":
                rep.problems.append(t("dev.solution_fails", check=r.id, message=r.text("en")))
        if passed != len(solution) and run.result is not None and not run.result.ok:
            rep.problems.append(tail(run.result.log_path, 8))
    return rep


def dev_check(exercises_root: Path, *, only: list[str] | None = None, static: bool = False,
              course_labs: Any = None, question_ids: set[str] | None = None,
              concept_ids: set[str] | None = None) -> list[LabReport]:
    """dev check of every exercise directory under ``exercises_root`` (or the ``only`` ids)."""
    reports: list[LabReport] = []
    dirs = sorted(p for p in exercises_root.iterdir() if p.is_dir()) if exercises_root.is_dir() \
        else []
    ids: dict[str, Path] = {}
    try:
        ids = {lab_id: d for lab_id, (d, _) in find_labs(exercises_root).items()}
    except LabSpecError:
        pass  # reported per directory below
    for d in dirs:
        if not (d / "lab.yaml").is_file():
            if d.name not in ("__pycache__", COMMON_DIR) and not only:
                reports.append(LabReport(d.name, [f"{d.name}: no lab.yaml (orphan directory)"]))
            continue
        if only:
            lab_id = next((i for i, p in ids.items() if p == d), d.name)
            if lab_id not in only:
                continue
        reports.append(check_lab(d, static=static, course_labs=course_labs,
                                 question_ids=question_ids, concept_ids=concept_ids))
    if isinstance(course_labs, dict) and not only:  # the course names a kit that is not there
        names = {d.name for d in dirs}
        for lab_id, lab in course_labs.items():
            exercise = getattr(lab, "exercise", None)
            if exercise and exercise not in names:
                reports.append(LabReport(lab_id, [t("dev.no_exercise", lab=lab_id,
                                                    exercise=exercise)]))
    return reports
