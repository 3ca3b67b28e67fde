"""Learner workspaces (``tutor lab start``) and the directories a run executes in."""

from __future__ import annotations

import shutil
from pathlib import Path

from graders.labs.launch import launcher_files
from graders.labs.spec import LabSpec, copy_run_files, run_files


class WorkspaceExists(Exception):
    """The learner already has work for this lab and --force was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


class NotStarted(Exception):
    """There is no workspace for this lab yet."""


def workspace_for(lab_id: str, root: Path | None = None) -> Path:
    """The learner's workspace of ``lab_id`` (TUTOR_WORKSPACE overrides the user data dir)."""
    from tutor.paths import workspace_dir

    return (root or workspace_dir()) / lab_id


def start_workspace(spec: LabSpec, lab_dir: Path, *, root: Path | None = None,
                    force: bool = False) -> Path:
    """Copy the starter and shared files into the learner's workspace.

    Existing work is never overwritten unless ``force``; then only the lab's own files are
    replaced (other files the learner created stay).
    """
    dest = workspace_for(spec.id, root)
    files = _lab_files(spec, lab_dir, solution=False)
    if not force and dest.exists() and any(dest.iterdir()):
        raise WorkspaceExists(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for rel, src in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def _lab_files(spec: LabSpec, lab_dir: Path, *, solution: bool) -> dict[str, Path]:
    """{relative name: source file} of the starter (or solution) plus the shared and common
    files (exercises/_common, lab.yaml ``common:``)."""
    src_dir = lab_dir / (spec.solution_dir if solution else spec.starter_dir)
    files = {rel: src_dir / rel for rel in spec.starter}
    files.update(run_files(spec, lab_dir))
    return files


def prepare_run_dir(spec: LabSpec, lab_dir: Path, dest: Path, *, solution: bool = False,
                    source: Path | None = None) -> Path:
    """Fill ``dest`` with exactly what a run may see: the allowed submission files (from the
    solution, the starter, or ``source`` such as the learner's workspace) plus the shared and
    common files and the rank launcher, which always come from the course itself. Returns
    ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if source is not None:
        copy_run_files(spec, lab_dir, source, dest)
    else:
        for rel, src in _lab_files(spec, lab_dir, solution=solution).items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    for rel, src in launcher_files(spec).items():
        shutil.copyfile(src, dest / rel)
    return dest
