"""Hostile submissions against the sandboxed grader, on a tiny fake lab (tests/fixtures/grading_lab).

Each is graded without harming the grader or the host: it gets the low score it deserves, with a
message, the grader's process keeps working, and no process of the run is left behind.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from graders.grade import grade_batch, grade_submission
from graders.rubric import Report, render
from graders.sandbox import Limits, available_isolation

LAB = Path(__file__).parent / "fixtures" / "grading_lab"
SOLUTION = LAB / "solution"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux /proc")


def _checker() -> ModuleType:
    name = "grading_fixture_checker"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, LAB / "checker.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run directories under this test's own temp dir, so leftovers can be told apart.

    Not under pytest's tmp_path: pytest resets /tmp/pytest-of-<user> to 0700 whenever a worker
    starts, which would close the way in for the sandbox's unprivileged uid mid-run.
    """
    root = Path(tempfile.mkdtemp(prefix="tutor-grading-test-", dir=tempfile.gettempdir()))
    os.chmod(root, 0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    try:
        yield root
        assert _leftovers(root) == [], "a process of the run survived"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _leftovers(root: Path) -> list[int]:
    """Processes whose working directory is under ``root`` (the runs of this test)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if cwd.startswith(str(root)):
            found.append(int(name))
    return found


def _submission(tmp_path: Path, train_py: str, extra: dict[str, str] | None = None) -> Path:
    sub = tmp_path / "submission"
    sub.mkdir(exist_ok=True)
    (sub / "train.py").write_text(train_py, encoding="utf-8")
    for name, text in (extra or {}).items():
        (sub / name).write_text(text, encoding="utf-8")
    return sub


def _grade(sub: Path, **kwargs: object) -> Report:
    report = grade_submission(sub, LAB, checks_fn=_checker().run_checks, **kwargs)  # type: ignore[arg-type]
    for fmt in ("json", "gradescope", "junit", "md"):  # every writer copes with the result
        assert render(report, fmt)
    return report


def _impl(report: Report) -> float:
    return report.bucket("implementation").points


def _grader_still_fine() -> None:
    assert json.loads(json.dumps({"a": 1})) == {"a": 1}
    assert subprocess.run(["true"], timeout=10).returncode == 0


ARGS = """import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument("--out"); p.add_argument("--data"); p.add_argument("--seed", type=int)
a = p.parse_args()
"""


def test_solution_full_marks_and_starter_zero(tmp_path: Path, private_tmp: Path) -> None:
    good = _grade(SOLUTION)
    assert good.status == "graded"
    assert good.total == 100
    assert good.bucket("concepts").evidence is False
    bad = _grade(LAB / "starter")
    assert bad.total == 0
    assert all(c.status in ("fail", "error") for c in bad.checks)


def test_fake_metrics_without_training(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, ARGS + """
json.dump({"train_mse": 0.0}, open(os.path.join(a.out, "metrics.json"), "w"))
print(json.dumps({"event": "done"}))
""")
    r = _grade(sub)
    assert _impl(r) == 0
    assert any("model.json" in c.message for c in r.checks)


def test_infinite_loop_is_stopped(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, "while True:\n    pass\n")
    t0 = time.monotonic()
    r = _grade(sub, timeout=2)
    assert time.monotonic() - t0 < 15
    assert r.run.timed_out and r.run.killed_reason == "timeout"
    assert r.run.max_rss_kb > 0  # sampled while it ran
    assert "time limit" in r.messages[0]
    assert r.total == 0 and r.status == "graded"


def test_fork_bomb_is_contained(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, """import os
while True:
    try:
        os.fork()
    except OSError:
        pass
""")
    r = _grade(sub, timeout=3)
    assert r.total == 0
    _grader_still_fine()


def test_memory_hog_hits_the_limit(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, "x = []\nwhile True:\n    x.append(bytearray(10_000_000))\n")
    r = _grade(sub, limits=Limits(wall_s=20, memory_mb=200))
    assert r.run.killed_reason == "memory", r.run
    assert not r.run.timed_out
    assert r.total == 0
    assert "memory" in r.messages[0]


def test_disk_flood_hits_the_quota(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, ARGS + """
i = 0
while True:
    with open(os.path.join(a.out, f"junk{i}"), "wb") as f:
        f.write(b"x" * 1_000_000)
    i += 1
""")
    r = _grade(sub, limits=Limits(wall_s=20, disk_mb=20, fsize_mb=4))
    assert r.run.killed_reason == "disk", r.run
    assert r.total == 0


def test_output_flood_is_truncated(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n")
    r = _grade(sub, limits=Limits(wall_s=20, fsize_mb=4))
    assert r.run.killed_reason == "file-size", r.run
    assert len(r.run.stdout_tail) <= 2000
    assert r.total == 0


def test_reading_heldout_and_solution_is_denied(tmp_path: Path, private_tmp: Path) -> None:
    if not available_isolation().startswith("namespaces"):
        pytest.skip("hiding files needs a mount namespace")
    other_run = Path(tempfile.mkdtemp(prefix="tutor-other-run-", dir="/tmp"))
    os.chmod(other_run, 0o755)
    (other_run / "artifact.json").write_text('{"w": 3, "CANARY": "OTHER-RUN"}')
    os.chmod(other_run / "artifact.json", 0o644)
    targets = [LAB / "heldout.json", SOLUTION / "train.py", LAB / "checker.py",
               Path(__file__).resolve(), other_run / "artifact.json"]
    sub = _submission(tmp_path, ARGS + f"""
for path in {[str(t) for t in targets]!r}:
    try:
        print("LEAK", open(path).read())
    except OSError as exc:
        print("denied", path, type(exc).__name__)
import glob
print("GLOB", glob.glob("/work/**/heldout.json", recursive=True)[:3])
""" + (SOLUTION / "train.py").read_text().split("a = p.parse_args()\n", 1)[1])
    try:
        r = _grade(sub)
    finally:
        shutil.rmtree(other_run, ignore_errors=True)
    out = r.run.stdout_tail
    assert "CANARY" not in out and "LEAK" not in out
    assert out.count("denied") == len(targets)
    assert "filesystem view: allow-list" in r.run.notes
    assert _impl(r) == 25  # it trained honestly after trying


def test_module_patching_and_planted_files(tmp_path: Path, private_tmp: Path) -> None:
    planted = "open('/tmp/PWNED-grading', 'w').write('x')\nraise SystemExit(3)\n"
    sub = _submission(tmp_path, ARGS + """
import types
fake = types.ModuleType("json")
fake.dumps = lambda *a, **k: '{"score": 100}'
sys.modules["json"] = fake
import builtins
builtins.open = builtins.open
with open(os.path.join(a.out, "metrics.json"), "w") as f:
    f.write('{"train_mse": 0.0}')
with open(os.path.join(a.out, "model.json"), "w") as f:
    f.write('{"w": 0, "b": 0}')
""", extra={"json.py": planted, "sitecustomize.py": planted, "usercustomize.py": planted})
    r = _grade(sub)
    assert not Path("/tmp/PWNED-grading").exists()
    assert r.run.returncode == 0
    assert _impl(r) == 0
    _grader_still_fine()


def test_exiting_zero_early(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, "import sys\nprint('{\"event\": \"done\"}')\nsys.exit(0)\n")
    r = _grade(sub)
    assert r.run.returncode == 0
    assert r.total == 0
    assert all("missing" in c.message for c in r.checks if c.bucket == "implementation")


def test_fake_score_and_own_results_json(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, ARGS + """
fake = {"score": 100, "tests": [{"name": "all", "score": 100, "max_score": 100}]}
for name in ("results.json", "report.json"):
    json.dump(fake, open(os.path.join(a.out, name), "w"))
print(json.dumps({"event": "done", "score": 100, "total": 100}))
print("Total: 100 / 100")
""")
    r = _grade(sub)
    assert r.total == 0
    assert json.loads(render(r, "gradescope"))["score"] == 0


@pytest.mark.parametrize("isolation", ["default", "rlimits+session"])
def test_detached_daemon_cannot_rewrite_artifacts(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch, isolation: str
) -> None:
    if isolation != "default":
        monkeypatch.setenv("TUTOR_SANDBOX_ISOLATION", isolation)
    good = (SOLUTION / "train.py").read_text().split("a = p.parse_args()\n", 1)[1]
    sub = _submission(tmp_path, ARGS + """
json.dump({"w": 0, "b": 0}, open(os.path.join(a.out, "model.json"), "w"))
json.dump({"train_mse": 1.0}, open(os.path.join(a.out, "metrics.json"), "w"))
main = os.getpid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        while True:  # wait until the run's main process is gone
            try:
                os.kill(main, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        for _ in range(600):  # then keep rewriting good artifacts for a minute
            time.sleep(0.1)
            try:
""" + "\n".join("                " + line for line in good.splitlines()) + """
            except Exception:
                pass
    os._exit(0)
print(json.dumps({"event": "done"}))
""")
    r = _grade(sub)
    assert _impl(r) == 0
    time.sleep(1.0)  # the daemon would have rewritten by now; _leftovers checks it is gone


def test_symlinked_submission_files_are_refused(tmp_path: Path, private_tmp: Path) -> None:
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "train.py").symlink_to(SOLUTION / "train.py")
    r = _grade(sub)
    assert r.total == 0
    assert any("symlink" in m for m in r.messages)
    assert "nothing was run" in r.messages[0]


def test_solution_in_fallback_isolation(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_SANDBOX_ISOLATION", "rlimits+session")
    r = _grade(SOLUTION)
    assert r.run.isolation == "rlimits+session"
    assert r.total == 100


def test_checker_crash_is_a_grader_error(tmp_path: Path, private_tmp: Path) -> None:
    def broken(*_: object) -> list[object]:
        raise RuntimeError("checker bug")

    r = grade_submission(SOLUTION, LAB, checks_fn=broken)
    assert r.status == "grader_error"
    assert "checker bug" in r.messages[0]


@pytest.mark.slow
def test_batch_of_20_with_2_jobs(tmp_path: Path, private_tmp: Path) -> None:
    batch = tmp_path / "batch"
    for i in range(20):
        d = batch / f"student-{i:02d}"
        d.mkdir(parents=True)
        for f in ("train.py", "design.yaml"):
            (d / f).write_text((SOLUTION / f).read_text())
    (batch / "student-05" / "train.py").write_text("raise SystemExit(1)\n")
    out = tmp_path / "gradebook.csv"
    t0 = time.monotonic()
    summary = grade_batch(batch, LAB, out_csv=out, jobs=2, fmt="md",
                          checks_fn=_checker().run_checks)
    wall = time.monotonic() - t0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["submission"] for r in rows] == sorted(f"student-{i:02d}" for i in range(20))
    assert list(rows[0]) == ["submission", "total", "concepts", "implementation", "analysis",
                             "innovation", "status", "message"]
    assert sum(r["total"] == "100" for r in rows) == 19, [r["message"] for r in rows if r["total"] != "100"]
    assert rows[5]["total"] == "25" and "exit code 1" in rows[5]["message"]
    assert summary.grader_errors == 0
    assert len(list((tmp_path / "gradebook-reports").glob("*.md"))) == 20
    print(f"batch of 20 fake-lab submissions, --jobs 2: {wall:.1f} s")
