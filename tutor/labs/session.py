"""One lab pipeline: run a lab, probe the learner's code, check the artifacts, record the result.

``run_and_check`` is what `tutor lab run/check`, the app's Labs screen and `tutor dev check` call,
so the three front ends run a lab the same way (requirements, run directory with the common files,
ranks, probes, checks) and a learner's checked run is recorded through
``Engine.record_lab_result`` whichever front end ran it.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.labs.checks import CheckResult, default_data_dir, run_checks
from graders.labs.spec import LabSpec
from tutor.labs.runner import Finished, LabEvent, LabRun
from tutor.labs.workspace import prepare_run_dir

PIP_EXTRA = "labs"
"""The pip extra that installs the lab stack: ``pip install 'llm-training-tutor[labs]'``."""


class RequirementsMissing(Exception):
    """lab.yaml ``requires`` is not met on this machine (``missing`` packages, ``gpu``)."""

    def __init__(self, lab_id: str, missing: list[str], gpu: bool = False) -> None:
        self.lab_id, self.missing, self.gpu = lab_id, missing, gpu
        what = ", ".join(missing) + ("; a CUDA GPU" if gpu else "")
        super().__init__(f"{lab_id} needs {what}: pip install 'llm-training-tutor[{PIP_EXTRA}]'")


def missing_requirements(spec: LabSpec) -> tuple[list[str], bool]:
    """(packages of ``requires.packages`` not installed, whether a required GPU is absent).

    Looked up without importing them (find_spec); the GPU question imports torch only for labs
    that declare ``gpu: required``.
    """
    missing = [p for p in spec.requires.packages if importlib.util.find_spec(p) is None]
    no_gpu = False
    if spec.gpu_need == "required" and "torch" not in missing:
        import torch

        no_gpu = not torch.cuda.is_available()
    return missing, no_gpu


@dataclass
class LabResult:
    """The outcome of one ``run_and_check``."""

    lab_id: str
    """The lab."""
    finished: Finished
    """How the run ended."""
    results: list[CheckResult] = field(default_factory=list)
    """The checks, in lab.yaml order (empty when ``check=False``)."""
    run_dir: Path = Path()
    """The directory the run executed in."""
    elapsed_s: float = 0.0
    """Run + probes + checks, in seconds."""
    solution: bool = False
    """The reference solution ran (never recorded as the learner's result)."""

    @property
    def points(self) -> tuple[float, float]:
        """(points earned, points available) over the checks."""
        return sum(r.points for r in self.results), sum(r.max_points for r in self.results)

    @property
    def passed(self) -> bool:
        """The run finished and every check passed."""
        return self.finished.ok and bool(self.results) and all(
            r.status == "pass" for r in self.results)


Recorder = Callable[[str, list[CheckResult], bool, dict[str, Any]], None]
"""``record(lab_id, results, passed, payload)``: typically ``Engine.record_lab_result`` bound to
a learner."""


@dataclass(frozen=True)
class Checking:
    """The run ended; probes and checks start (front ends say "checking ...")."""


def run_and_check_events(spec: LabSpec, lab_dir: Path, *, work: Path, solution: bool = False,
                         source: Path | None = None, seed: int = 0, out_dir: Path | None = None,
                         log_path: Path | None = None, check: bool = True,
                         on_start: Callable[[LabRun], None] | None = None,
                         record: Recorder | None = None, source_name: str = "cli",
                         timeout_s: float | None = None,
                         ) -> Iterator[LabEvent | Checking | LabResult]:
    """``run_and_check`` as a generator: the run's events as they come, ``Checking``, and last
    the ``LabResult`` (for front ends that show progress live, like the app's Labs screen)."""
    missing, no_gpu = missing_requirements(spec)
    if missing or no_gpu:
        raise RequirementsMissing(spec.id, missing, no_gpu)
    t0 = time.monotonic()
    run_dir = prepare_run_dir(spec, lab_dir, work / "run", solution=solution, source=source)
    out = out_dir or work / "out"
    run = LabRun(spec, run_dir, out, data_dir=default_data_dir(spec), seed=seed,
                 log_path=log_path or work / "run.log", timeout_s=timeout_s)
    if on_start is not None:
        on_start(run)
    final: Finished | None = None
    for ev in run.events():
        if isinstance(ev, Finished):
            final = ev
        yield ev
    assert final is not None
    result = LabResult(spec.id, final, run_dir=run_dir, solution=solution)
    if check and not final.cancelled:
        yield Checking()
        result.results = check_run(spec, lab_dir, out, run_dir, seed=seed, env=run.env,
                                   submission=_submission(spec, lab_dir, solution, source))
    result.elapsed_s = time.monotonic() - t0
    if record is not None and check and not solution and not final.cancelled:
        got, total = result.points
        record(spec.id, result.results, result.passed,
               {"source": source_name, "score": got / total if total else 0.0,
                "run": {"returncode": final.returncode, "done": final.done,
                        "timed_out": final.timed_out, "elapsed_s": round(final.elapsed_s, 2)}})
    yield result


def run_and_check(spec: LabSpec, lab_dir: Path, *, work: Path, solution: bool = False,
                  source: Path | None = None, seed: int = 0, out_dir: Path | None = None,
                  log_path: Path | None = None, check: bool = True,
                  on_event: Callable[[LabEvent], None] | None = None,
                  on_start: Callable[[LabRun], None] | None = None,
                  record: Recorder | None = None, source_name: str = "cli",
                  timeout_s: float | None = None) -> LabResult:
    """Run the lab (the solution, the starter, or ``source`` such as the learner's workspace) in
    ``work/run``; with ``check``, run its probes and checks; record the learner's checked run.

    Raises RequirementsMissing before anything runs when lab.yaml ``requires`` is not met.
    """
    result: LabResult | None = None
    for item in run_and_check_events(spec, lab_dir, work=work, solution=solution, source=source,
                                     seed=seed, out_dir=out_dir, log_path=log_path, check=check,
                                     on_start=on_start, record=record, source_name=source_name,
                                     timeout_s=timeout_s):
        if isinstance(item, LabResult):
            result = item
        elif on_event is not None and not isinstance(item, Checking):
            on_event(item)
    assert result is not None
    return result


def _submission(spec: LabSpec, lab_dir: Path, solution: bool, source: Path | None) -> Path:
    if source is not None:
        return source
    return lab_dir / (spec.solution_dir if solution else spec.starter_dir)


def check_run(spec: LabSpec, lab_dir: Path, out_dir: Path, run_dir: Path, *, seed: int,
              env: dict[str, str], submission: Path) -> list[CheckResult]:
    """Probes (as plain subprocesses: the learner's own code on their machine) and checks."""
    probes = None
    if spec.probes:
        from graders.labs.probing import run_local_probes

        probes = run_local_probes(spec, lab_dir, submission, run_dir.parent / "probes", env=env)
    return run_checks(spec, out_dir, run_dir, None, seed, lab_dir=lab_dir, probes=probes)
