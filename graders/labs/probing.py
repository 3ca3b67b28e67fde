"""Running a lab's probes: grader-owned scripts that call the learner's own code.

After the learner's run, each probe of lab.yaml ``probes:`` runs in a FRESH directory holding the
submitted files (as submitted, not what the run left behind: a run cannot plant modules for the
probe), the common/shared files and a grader-owned folder with the bootstrap, the probe script and
the grader's labcommon::

    python -I <folder>/_bootstrap.py --block <block> --probe <folder>/<script> -- \
        --submission . --out <out> --seed <S>

S is drawn with ``secrets`` at grading time and never shown to the learner's run. ``tutor grade``
runs it through graders.sandbox.run_sandboxed (same view and limits as the learner's run);
``tutor lab check`` runs it as a plain subprocess (the learner's own code on their own machine).
The outputs are copied out (graders.sandbox.snapshot_tree: no links, bounded) to
``<dest>/<probe id>/``, where the checks read them with ``ctx.probe(id)``.

A probe that could not be started at all (the sandbox failed) raises: the grader's error, never a
score. A probe whose run ends without a result (the learner's code exited or crashed it) leaves
no result.json: ``ctx.probe`` then fails the check (the submission's failure).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.labs.launch import RANKS_SOURCE, launch_argv
from graders.labs.spec import LabSpec, ProbeSpec, common_dir, copy_run_files

PROBES_DIR = Path(__file__).resolve().parent / "probes"
"""The grader's probe scripts (lab.yaml ``probes[].script`` is relative to graders/labs/)."""
BOOTSTRAP = PROBES_DIR / "_bootstrap.py"
"""Installs the blocks, then runs a probe."""
PROBE_ENV = {"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1"}
"""Set for every probe: no user site-packages (the run may have planted a .pth under HOME)."""


@dataclass
class ProbeRuns:
    """What the probes of one grading produced."""

    seed: int
    """The probe seed (secrets-drawn)."""
    dest: Path
    """``<dest>/<probe id>/`` holds each probe's outputs."""
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per probe: returncode, timed_out, stderr tail."""


def draw_seed() -> int:
    """A fresh probe seed (62 random bits; never derived from anything the submission sees)."""
    return secrets.randbits(62)


def script_path(probe: ProbeSpec) -> Path:
    """The probe script under graders/labs/."""
    path = Path(__file__).resolve().parent / probe.script
    if not path.is_file():
        raise FileNotFoundError(f"probe script {probe.script} not found under graders/labs/")
    return path


def _grader_labcommon(lab_dir: Path) -> Path:
    path = common_dir(lab_dir) / "labcommon.py"
    if path.is_file():
        return path
    raise FileNotFoundError(f"{path} not found (the probes write with the grader's labcommon)")


def prepare(spec: LabSpec, lab_dir: Path, submission: Path, workdir: Path,
            probe: ProbeSpec) -> tuple[str, dict[str, Path]]:
    """Fill ``workdir`` with the submitted files and the run files; return (the grader folder's
    name, ``{name: source}`` of the grader folder) for the caller to install read-only."""
    copy_run_files(spec, lab_dir, submission, workdir)
    folder = f"_probe_{secrets.token_hex(6)}"  # unpredictable: nothing can be waiting there
    files = {"_bootstrap.py": BOOTSTRAP, Path(probe.script).name: script_path(probe),
             "labcommon.py": _grader_labcommon(lab_dir)}
    if probe.ranks > 1 and spec.launcher == "spawn":
        files["_lab_ranks.py"] = RANKS_SOURCE
    return folder, files


def argv(spec: LabSpec, probe: ProbeSpec, folder: str, seed: int, python: str) -> list[str]:
    """The probe's command line, run in its work directory."""
    args = ["--block", ",".join(probe.block), "--probe", f"{folder}/{Path(probe.script).name}",
            "--", "--submission", ".", "--out", f"probe-out/{probe.id}", "--seed", str(seed)]
    cmd = launch_argv(spec, python, f"{folder}/_bootstrap.py", args, ranks=probe.ranks)
    if probe.ranks > 1 and spec.launcher == "spawn":  # the fresh copy, never the run's
        cmd[2] = f"{folder}/_lab_ranks.py"
    return cmd


BOOTSTRAP_FAILED = 97
"""_bootstrap.py's exit code when it cannot install the blocks."""


def _bootstrap_ok(probe: ProbeSpec, returncode: int | None, stderr: str) -> None:
    """Raise when the bootstrap could not install the blocks: the grader's error (fail closed),
    never a score for a probe that ran without them."""
    if returncode == BOOTSTRAP_FAILED and "probe bootstrap:" in stderr:
        line = next((ln for ln in stderr.splitlines() if "probe bootstrap:" in ln), "")
        raise RuntimeError(f"probe {probe.id}: {line.strip()[:300]}")


def _stage(files: dict[str, Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        shutil.copyfile(src, dest / name)


def run_sandboxed_probes(spec: LabSpec, lab_dir: Path, submission: Path, dest: Path, *,
                         base: Path, env: dict[str, str], memory_mb: int,
                         hide: list[Path] | None = None) -> ProbeRuns:
    """Every probe of ``spec`` through the sandbox; raises SandboxError if one cannot start."""
    from graders.sandbox import Limits, run_sandboxed, snapshot_tree

    runs = ProbeRuns(seed=draw_seed(), dest=dest)
    dest.mkdir(parents=True, exist_ok=True)
    for probe in spec.probes:
        workdir = base / f"probe-{probe.id}"
        folder, files = prepare(spec, lab_dir, submission, workdir, probe)
        staging = base / f"probe-files-{probe.id}"
        _stage(files, staging)
        (workdir / "probe-out").mkdir(exist_ok=True)
        lim = Limits(wall_s=float(probe.timeout_s), memory_mb=memory_mb, disk_mb=256,
                     cpu_s=int(probe.timeout_s * (spec.cpu_threads + 1) * probe.ranks) + 5)
        res = run_sandboxed(argv(spec, probe, folder, runs.seed, sys.executable), workdir,
                            limits=lim, env={**env, **PROBE_ENV},
                            readonly_inputs={folder: staging}, hide=hide)
        _bootstrap_ok(probe, res.returncode, res.stderr)
        out = workdir / "probe-out" / probe.id
        if out.is_dir() and not out.is_symlink():
            snapshot_tree(out, dest / probe.id)
        runs.status[probe.id] = {"returncode": res.returncode, "timed_out": res.timed_out,
                                 "killed_reason": res.killed_reason,
                                 "stderr_tail": res.stderr[-1500:]}
    return runs


def run_local_probes(spec: LabSpec, lab_dir: Path, submission: Path, dest: Path, *,
                     env: dict[str, str], python: str = sys.executable) -> ProbeRuns:
    """Every probe as a plain subprocess (``tutor lab check`` on the learner's own code)."""
    runs = ProbeRuns(seed=draw_seed(), dest=dest)
    dest.mkdir(parents=True, exist_ok=True)
    for probe in spec.probes:
        with tempfile.TemporaryDirectory(prefix=f"{spec.id}-probe-") as tmp:
            workdir = Path(tmp)
            folder, files = prepare(spec, lab_dir, submission, workdir, probe)
            _stage(files, workdir / folder)
            (workdir / "probe-out").mkdir()
            proc = subprocess.Popen(argv(spec, probe, folder, runs.seed, python), cwd=workdir,
                                    env={**env, **PROBE_ENV}, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    errors="replace", start_new_session=True)
            timed_out = False
            try:
                _, stderr = proc.communicate(timeout=probe.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:  # every rank of the probe, not just the launcher
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if timed_out:
                _, stderr = proc.communicate()
            rc: int | None = None if timed_out else proc.returncode
            _bootstrap_ok(probe, rc, stderr)
            out = workdir / "probe-out" / probe.id
            if out.is_dir() and not out.is_symlink():
                shutil.copytree(out, dest / probe.id, symlinks=True, dirs_exist_ok=True)
            runs.status[probe.id] = {"returncode": rc, "timed_out": timed_out,
                                     "killed_reason": "timeout" if timed_out else None,
                                     "stderr_tail": stderr[-1500:]}
    return runs
