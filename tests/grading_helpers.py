"""Grading a lab submission through the real sandboxed pipeline, as the lab tests do it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from graders.grade import grade_submission
from graders.rubric.report import Report


def grade_copy(src: Path, lab_id: str, tmp_path: Path, *, extras: Path | None = None,
               timeout: float = 900) -> Report:
    """A copy of ``src`` (plus the files of ``extras``) graded with seed 0, its temporary files in
    a private directory that is removed afterwards."""
    sub = tmp_path / src.name
    shutil.copytree(src, sub)
    for f in extras.iterdir() if extras is not None else ():
        shutil.copyfile(f, sub / f.name)
    root = Path(tempfile.mkdtemp(prefix=f"tutor-grading-{lab_id}-"))
    old = tempfile.tempdir
    tempfile.tempdir = str(root)
    try:
        # generous default: the labs' time budgets assume an idle 2-core machine
        return grade_submission(sub, lab_id, seed=0, timeout=timeout)
    finally:
        tempfile.tempdir = old
        shutil.rmtree(root, ignore_errors=True)
