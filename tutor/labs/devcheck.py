"""`tutor dev check`: every lab's starter fails its checks, every solution passes, no orphans.

Rustlings' ``dev check`` for our labs: for each exercise directory, the spec must load, every file
must be referenced by lab.yaml (or be README / lab.yaml), every starter file must carry a TODO,
the lab must be in the course, the starter run must fail at least one check and the solution run
must pass them all.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.labs.checks import CheckResult, default_data_dir, run_checks
from graders.labs.spec import LabSpec, LabSpecError, find_labs, load_lab, orphan_files
from tutor.labs.messages import t
from tutor.labs.runner import LabRun, tail
from tutor.labs.workspace import prepare_run_dir


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
    """Run the starter / solution / ``source`` copy in ``work`` and check its artifacts."""
    run_dir = prepare_run_dir(spec, lab_dir, work / "run", solution=solution, source=source)
    out_dir = work / "out"
    run = LabRun(spec, run_dir, out_dir, data_dir=default_data_dir(spec), seed=seed,
                 log_path=work / "run.log")
    t0 = time.monotonic()
    for ev in run.events():
        if on_event is not None:
            on_event(ev)
    elapsed = time.monotonic() - t0
    results = run_checks(spec, out_dir, run_dir, None, seed)
    return results, elapsed, run


def check_lab(lab_dir: Path, *, static: bool = False, course_labs: set[str] | None = None,
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
              course_labs: set[str] | None = None, question_ids: set[str] | None = None,
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
            if d.name != "__pycache__" and not only:
                reports.append(LabReport(d.name, [f"{d.name}: no lab.yaml (orphan directory)"]))
            continue
        if only:
            lab_id = next((i for i, p in ids.items() if p == d), d.name)
            if lab_id not in only:
                continue
        reports.append(check_lab(d, static=static, course_labs=course_labs,
                                 question_ids=question_ids, concept_ids=concept_ids))
    return reports
