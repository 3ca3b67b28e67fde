"""Class-scale grading on the platforms instructors already run: a Gradescope autograder bundle
and a GitHub Classroom workflow. Each runs ``tutor grade`` once per submission in its own
container, so a class of 200 × 8 labs is 1,600 parallel jobs on their machines, not ours.

Gradescope's layout (its "autograder specifications"): the zip holds ``setup.sh`` (run once when
the image is built) and ``run_autograder`` (run per submission, the submission in
``/autograder/submission``, the results to ``/autograder/results/results.json``). We add
``source/`` (this project, the lab's held-out data included — the bundle is the instructor's, never
the learners') and ``requirements.txt`` (the exact versions of the stack that built the bundle).
``AUTOGRADER_ROOT`` (default ``/autograder``) and ``AUTOGRADER_PYTHON`` relocate both, which is how
the tests run a bundle in a temporary directory.

Failing closed: when ``tutor grade`` exits non-zero (status ``grader_error``: the grader could not
perform the run), ``run_autograder`` writes NO results.json, prints the cause and exits 1;
Gradescope then shows the submission as an autograder failure for the instructor to rerun, and no
score is ever recorded for a run that did not happen.

GitHub Classroom: a workflow for the learner's repository (``.github/workflows/classroom.yml``)
that checks out the instructor's grader repository, installs it, runs ``tutor grade --format
gradescope`` and hands the points to ``classroom-resources/autograding-grading-reporter`` in its
runner format (base64 JSON ``{version, status, max_score, tests: [{name, status, score, ...}]}``).
A grader error fails the job before the reporter step, so no points are posted.
"""

from __future__ import annotations

import base64
import importlib.metadata as md
import json
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_PROJECT_FILES = ("pyproject.toml", "README.md", "constraints-cpu.txt")
_PROJECT_DIRS = ("tutor", "graders", "curriculum", "content", "exercises", "schema")
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git"}
_STACK = ("textual", "networkx", "pyyaml", "sympy", "pydantic", "fsrs", "platformdirs", "pint",
          "plotext", "torch", "transformers", "tokenizers", "peft", "trl", "accelerate",
          "datasets", "bitsandbytes", "deepspeed", "safetensors")
"""Distributions pinned in the bundle's requirements.txt (when installed where it is built)."""
_LAB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class BundleError(Exception):
    """The bundle could not be built (unknown lab, unreadable project, bad output path)."""


def project_root() -> Path:
    """The checkout (or installed tree) this tutor runs from: the directory with pyproject.toml."""
    here = Path(__file__).resolve().parents[2]
    if not (here / "pyproject.toml").is_file():
        raise BundleError(f"{here} has no pyproject.toml: build bundles from a checkout of the "
                          "project (pip install -e .)")
    return here


def requirements() -> str:
    """``name==version`` for every package of the stack installed here, torch's CPU build noted."""
    lines = ["# The versions that built this bundle; setup.sh installs exactly these."]
    for name in _STACK:
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            continue
        lines.append(f"{name}=={version.split('+')[0]}")
    return "\n".join(lines) + "\n"


def _walk(root: Path, rel: str) -> Iterator[tuple[Path, str]]:
    base = root / rel
    if base.is_file():
        yield base, rel
        return
    for p in sorted(base.rglob("*")):
        parts = p.relative_to(root).parts
        if _SKIP_PARTS & set(parts) or p.is_symlink() or not p.is_file():
            continue
        if "exercises" == parts[0] and "solution" in parts:  # graders never need solutions
            continue
        yield p, "/".join(parts)


_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source"
if ! command -v python3 >/dev/null || ! python3 -c 'import venv' 2>/dev/null; then
  apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --upgrade pip
# torch's CPU build (a CUDA build is several GB and a grading container has no GPU)
"$ROOT/venv/bin/pip" install "$(grep '^torch==' "$ROOT/requirements.txt")" \\
  --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
"$ROOT/venv/bin/pip" install -r "$ROOT/requirements.txt"
"$ROOT/venv/bin/pip" install --no-deps "$ROOT/source"
"$ROOT/venv/bin/python" -m tutor --version >/dev/null 2>&1 || "$ROOT/venv/bin/python" -c 'import tutor, graders'
"""

_RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it into results/results.json.
# Fail closed: a grader error leaves no results.json (no score), prints the cause, exits 1.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false TUTOR_LANG="${{TUTOR_LANG:-{lang}}}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
cd "$ROOT/source" || exit 1
tmp="$ROOT/results/.results.partial.json"
"$PY" -m tutor grade "$ROOT/submission" --lab {lab} {course}--format gradescope --out "$tmp"
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$tmp" ]; then
  mv "$tmp" "$ROOT/results/results.json"
  exit 0
fi
echo "grader error (tutor grade exited $rc): no score was recorded; rerun this submission." >&2
[ -s "$tmp" ] && cat "$tmp" >&2
rm -f "$tmp"
exit 1
"""


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_gradescope(lab_id: str, out: Path, *, course_dir: Path | None = None,
                     lang: str = "en") -> dict[str, Any]:
    """Write the Gradescope bundle for ``lab_id`` to ``out``; returns what went in.

    ``course_dir``: an instructor's own course (copied to ``source/course/<name>`` and passed as
    ``--curriculum``); default the shipped course. Raises ``BundleError``.
    """
    if not _LAB_ID.match(lab_id):
        raise BundleError(f"not a lab id: {lab_id!r}")
    root = project_root()
    from graders.grade import resolve_lab

    try:
        resolve_lab(lab_id, course_dir)
    except LookupError as exc:
        raise BundleError(f"{lab_id}: {exc}") from None
    course_arg = ""
    entries: list[tuple[Path, str]] = []
    for rel in (*_PROJECT_FILES, *_PROJECT_DIRS):
        if (root / rel).exists():
            entries += [(p, f"source/{r}") for p, r in _walk(root, rel)]
    if course_dir is not None:
        cdir = Path(course_dir).resolve()
        if not (cdir / "course.yaml").is_file():
            raise BundleError(f"{course_dir}: no course.yaml")
        name = re.sub(r"[^A-Za-z0-9._-]", "_", cdir.name) or "course"
        entries += [(p, f"source/course/{name}/{p.relative_to(cdir).as_posix()}")
                    for p in sorted(cdir.rglob("*"))
                    if p.is_file() and not p.is_symlink() and not _SKIP_PARTS & set(p.parts)]
        course_arg = f"--curriculum course/{name} "
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w") as zf:
            _add(zf, "setup.sh", _SETUP.encode(), executable=True)
            _add(zf, "run_autograder", _RUN.format(lab=lab_id, course=course_arg,
                                                   lang=lang).encode(), executable=True)
            _add(zf, "requirements.txt", requirements().encode())
            for path, name in entries:
                _add(zf, name, path.read_bytes())
    except OSError as exc:
        raise BundleError(f"cannot write {out}: {exc.strerror or exc}") from None
    return {"bundle": str(out), "lab": lab_id, "files": len(entries) + 3,
            "bytes": out.stat().st_size}


def unpack(bundle: Path, root: Path) -> None:
    """Unpack a bundle into ``root`` keeping the executable bits (what Gradescope does)."""
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root.resolve()):
                raise BundleError(f"unsafe path in bundle: {info.filename}")
            zf.extract(info, root)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


# ------------------------------------------------------------------------------------------
# GitHub Classroom
# ------------------------------------------------------------------------------------------

_WORKFLOW = """# GitHub Classroom autograding for {lab}, written by `tutor autograder github`.
# Put this file in the assignment's template repository as .github/workflows/classroom.yml.
# The grader (this project with its held-out data) lives in a private repository of the
# instructor's: set GRADER_REPOSITORY below and a read-only token as the secret TUTOR_GRADER_TOKEN.
name: Autograding Tests
"on":
  - push
  - repository_dispatch
  - workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
env:
  GRADER_REPOSITORY: {grader_repo}
  GRADER_REF: {grader_ref}
  HF_HUB_OFFLINE: "1"
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    timeout-minutes: {timeout}
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Check out the submission
        uses: actions/checkout@v4
        with:
          path: submission
      - name: Check out the grader
        uses: actions/checkout@v4
        with:
          repository: ${{{{ env.GRADER_REPOSITORY }}}}
          ref: ${{{{ env.GRADER_REF }}}}
          token: ${{{{ secrets.TUTOR_GRADER_TOKEN }}}}
          path: grader
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader (CPU build of torch)
        run: |
          pip install -c grader/constraints-cpu.txt "torch" --index-url https://download.pytorch.org/whl/cpu
          pip install -c grader/constraints-cpu.txt -e "grader[labs]"
      - name: Grade {lab}
        id: {runner}
        run: |
          tutor grade submission --lab {lab} {course}--format gradescope --out results.json
          python -m tutor.classroom.autograder classroom-result results.json >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {env_name}: "${{{{ steps.{runner}.outputs.result }}}}"
        with:
          runners: {runner}
"""


def github_workflow(lab_id: str, *, grader_repo: str = "OWNER/GRADER-REPOSITORY",
                    grader_ref: str = "main", course: str | None = None,
                    timeout_minutes: int = 30) -> str:
    """The GitHub Classroom workflow YAML for ``lab_id``."""
    if not _LAB_ID.match(lab_id):
        raise BundleError(f"not a lab id: {lab_id!r}")
    if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", grader_repo):
        raise BundleError(f"not a repository (OWNER/NAME): {grader_repo!r}")
    if not re.match(r"^[A-Za-z0-9_./-]{1,100}$", grader_ref):
        raise BundleError(f"not a git ref: {grader_ref!r}")
    if course is not None and not re.match(r"^[A-Za-z0-9_./-]{1,200}$", course):
        raise BundleError(f"not a course path: {course!r}")
    runner = "grade-" + re.sub(r"[^a-z0-9]+", "-", lab_id.lower()).strip("-")
    return _WORKFLOW.format(
        lab=lab_id, runner=runner, env_name=runner.upper() + "_RESULTS",
        grader_repo=grader_repo, grader_ref=grader_ref, timeout=int(timeout_minutes),
        course=f"--curriculum grader/{course} " if course else "")


def classroom_result(results: dict[str, Any]) -> dict[str, Any]:
    """A Gradescope results.json as the classroom reporter's runner result (``max_score`` 100).

    The rubric total is weighted by bucket, so it is not the plain sum of the checks' points: each
    check keeps its pass/fail status and its points are scaled so the tests add up to the total.
    Raises ``ValueError`` when there is no total (a grader error must not become points).
    """
    total = results.get("score")
    if not isinstance(total, int | float) or isinstance(total, bool) or not 0 <= total <= 100:
        raise ValueError("results.json carries no score (grader error): nothing to report")
    tests_in = [t for t in results.get("tests", []) if isinstance(t, dict)]
    earned = [max(0.0, float(t.get("score") or 0)) for t in tests_in]
    scale = float(total) / sum(earned) if sum(earned) > 0 else 0.0
    tests = [{
        "name": str(t.get("name", ""))[:200],
        "status": "pass" if t.get("status") == "passed" else "fail",
        "score": round(e * scale, 4),
        "message": str(t.get("output", ""))[:1000],
        "line_no": 0, "execution_time": "", "test_code": "",
    } for t, e in zip(tests_in, earned, strict=True)]
    if not tests:
        tests = [{"name": "total", "status": "pass" if total >= 100 else "fail",
                  "score": round(float(total), 4), "message": "", "line_no": 0,
                  "execution_time": "", "test_code": ""}]
    return {"version": 1, "status": "pass" if float(total) >= 100 else "fail",
            "max_score": 100, "tests": tests}


def _main(argv: list[str]) -> int:
    """``python -m tutor.classroom.autograder classroom-result results.json``: print
    ``result=<base64>`` for $GITHUB_OUTPUT; exit 1 (no output) on a grader error."""
    import sys

    if len(argv) != 2 or argv[0] != "classroom-result":
        print("usage: python -m tutor.classroom.autograder classroom-result RESULTS.json",
              file=sys.stderr)
        return 2
    try:
        data = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        payload = classroom_result(data)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        print(f"grader error: {exc}", file=sys.stderr)
        return 1
    print("result=" + base64.b64encode(json.dumps(payload).encode()).decode())
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
