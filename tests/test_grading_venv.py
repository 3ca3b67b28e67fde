"""`tutor grade` from a Python install the grader did not choose: a venv inside a HOME whose
directories are 0700 (issue 9, item 1), and the same install with the sandbox made unable to
start (item 2: fail closed). Trains Lab-1.1 twice: serial and slow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.1-peft-lora"
EXTRAS = Path(__file__).parent / "fixtures" / "grading_lab" / "lab-1.1-extras"

pytestmark = [
    pytest.mark.serial,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux" or not (LAB / "lab.yaml").is_file(),
                       reason="needs Linux and exercises/lab-1.1-peft-lora"),
]

BREAK_SANDBOX = (
    "import sys\n"
    "from pathlib import Path\n"
    "import graders.sandbox.runner as runner\n"
    "runner._INIT = Path('/nonexistent/tutor-sandbox-init.py')  # the sandbox cannot start\n"
    "from tutor.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _home_with_venv(root: Path) -> tuple[Path, Path]:
    """HOME (0700) / .cache (0700) / venv: a venv over the base interpreter, with this
    project and the grader's own packages reached through an editable-style .pth."""
    home = root / "home"
    (home / ".cache").mkdir(parents=True)
    for d in (root, home, home / ".cache"):
        os.chmod(d, 0o700)
    venv = home / ".cache" / "tutor-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    # the repository as an editable install would add it, then the grader's site dirs with
    # their own .pth files processed (addsitedir), as --system-site-packages would
    sites = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    pth = [str(ROOT), *(f"import site; site.addsitedir({p!r})" for p in sites)]
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    Path(purelib, "_tutor_dev.pth").write_text("\n".join(pth) + "\n", encoding="utf-8")
    return home, venv


def _submission(src: Path, dest: Path, extras: bool) -> Path:
    shutil.copytree(src, dest)
    if extras:
        for f in EXTRAS.iterdir():
            shutil.copyfile(f, dest / f.name)
    return dest


def _tutor_grade(venv: Path, home: Path, sub: Path, *, broken: bool = False,
                 fmt: str = "json") -> tuple[int, str, str]:
    env = {**os.environ, "HOME": str(home), "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    head = ["-c", BREAK_SANDBOX] if broken else ["-m", "tutor"]
    proc = subprocess.run(
        [str(venv / "bin" / "python"), *head, "grade", str(sub), "--lab", "lab-1.1",
         "--format", fmt, "--timeout", "900"],
        capture_output=True, text=True, timeout=1800, env=env, cwd=str(home))
    return proc.returncode, proc.stdout, proc.stderr


def test_grade_through_a_venv_under_a_closed_home(tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="tutor-venv-home-"))
    try:
        home, venv = _home_with_venv(root)
        # the grader runs from that venv: not the interpreter the tests run with
        probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sys, graders; print(sys.prefix)"],
                               capture_output=True, text=True, timeout=120, check=True)
        assert probe.stdout.strip() == str(venv)

        rc, out, err = _tutor_grade(venv, home, _submission(LAB / "solution",
                                                            tmp_path / "solution", True))
        good = json.loads(out)
        assert rc == 0, err
        assert good["status"] == "graded", good["messages"]
        assert good["total"] == 100, [(c["id"], c["message"]) for c in good["checks"]
                                      if c["status"] != "pass"]
        print("isolation:", good["run"]["isolation"], good["run"]["notes"])

        rc, out, err = _tutor_grade(venv, home, _submission(LAB / "starter",
                                                            tmp_path / "starter", False))
        bad = json.loads(out)
        assert rc == 0, err
        assert bad["status"] == "graded" and bad["total"] <= 10

        for fmt in ("json", "gradescope", "junit", "md"):
            rc, out, err = _tutor_grade(venv, home, tmp_path / "solution", broken=True, fmt=fmt)
            assert rc == 1, (fmt, err)
            if fmt == "json":
                report = json.loads(out)
                assert report["status"] == "grader_error" and report["total"] is None
                assert "sandbox" in report["messages"][0]
                assert "\n" not in report["messages"][0]  # a one-line cause
            elif fmt == "gradescope":
                results = json.loads(out)
                assert "score" not in results and "grader error" in results["output"]
                assert all("score" not in t for t in results["tests"])
            elif fmt == "junit":
                assert 'name="total" value="none"' in out and "grader_error" in out
            else:
                assert "/ 100" not in out and "grader error" in out
    finally:
        shutil.rmtree(root, ignore_errors=True)
