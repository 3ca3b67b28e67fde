"""Hostile submissions of the second red-team pass (issue 9, item 10) and the fail-closed rules
(item 2), on the tiny fake lab (tests/fixtures/grading_lab): what the run can see (an
allow-list view), state that must not outlive a run, submission data that must not crash the
grader, and reports a submission must not be able to forge."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import graders.sandbox.runner as runner
from graders.grade import grade_submission
from graders.rubric import CheckLine, Report, RunInfo, aggregate, render
from graders.rubric.report import jsonable
from graders.sandbox import (
    Limits,
    SandboxError,
    available_isolation,
    hash_tree,
    remove_tree,
    run_sandboxed,
    snapshot_tree,
)
from tutor.cli import main

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(__file__).parent / "fixtures" / "grading_lab"
SOLUTION = LAB / "solution"
GOOD = (SOLUTION / "train.py").read_text(encoding="utf-8").split("a = p.parse_args()\n", 1)[1]
ARGS = """import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument("--out"); p.add_argument("--data"); p.add_argument("--seed", type=int)
a = p.parse_args()
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux /proc")
needs_ns = pytest.mark.skipif(not available_isolation().startswith("namespaces"),
                              reason="needs the namespace sandbox")


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
    """Run directories under this test's own temp dir: they must all be gone afterwards."""
    root = Path(tempfile.mkdtemp(prefix="tutor-grading-test2-", dir=tempfile.gettempdir()))
    os.chmod(root, 0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    try:
        yield root
    finally:
        remove_tree(root)


def _submission(tmp_path: Path, train_py: str, extra: dict[str, str] | None = None,
                name: str = "submission") -> Path:
    sub = tmp_path / name
    sub.mkdir(exist_ok=True)
    (sub / "train.py").write_text(train_py, encoding="utf-8")
    for fname, text in (extra or {}).items():
        (sub / fname).write_text(text, encoding="utf-8")
    return sub


def _grade(sub: Path, **kwargs: object) -> Report:
    report = grade_submission(sub, LAB, checks_fn=_checker().run_checks, **kwargs)  # type: ignore[arg-type]
    for fmt in ("json", "gradescope", "junit", "md"):  # every writer copes, in valid UTF-8
        render(report, fmt).encode("utf-8")
    json.loads(render(report, "json"))
    return report


def _impl(report: Report) -> float:
    return report.bucket("implementation").points


# ----------------------------------------------------------------------------------------------
# item 1 / item 10: the run sees an allow-list, not the host minus a deny-list
# ----------------------------------------------------------------------------------------------


@needs_ns
def test_the_run_sees_only_the_allow_list(tmp_path: Path, private_tmp: Path) -> None:
    neighbour = _submission(tmp_path, "print('NEIGHBOUR-CANARY')\n", name="neighbour")
    installed = ROOT / "tutor" / "_data" / "exercises"
    targets = [ROOT / ".git" / "HEAD", ROOT / "exercises" / "lab-1.1-peft-lora" / "solution",
               neighbour / "train.py", Path("/work"), Path.home(), Path("/root"),
               installed, ROOT / "graders" / "labs" / "data"]
    sub = _submission(tmp_path, ARGS + f"""
for path in {[str(t) for t in targets]!r}:
    try:
        found = os.listdir(path) if os.path.isdir(path) else open(path).read()
        print("SEEN", path, str(found)[:200])
    except OSError as exc:
        print("denied", path, type(exc).__name__)
mounts = open("/proc/self/mountinfo").read()
print("MOUNTS-MENTION-REPO" if {str(ROOT)!r} in mounts else "mounts-clean")
print("TOP", sorted(os.listdir("/")))
import yaml  # the interpreter's own site-packages are reachable
print("yaml", yaml.__version__)
""" + GOOD)
    r = _grade(sub)
    out = r.run.stdout_tail
    seen = [line for line in out.splitlines() if line.startswith("SEEN")]
    # /root may be a directory of the view that only leads to the interpreter (pyenv)
    assert all(line.split()[1] == "/root" and ".pyenv" in line for line in seen), seen
    assert "NEIGHBOUR-CANARY" not in out and "mounts-clean" in out, out
    assert "yaml " in out and r.run.returncode == 0, r.run.stderr_tail
    top = next(line for line in out.splitlines() if line.startswith("TOP"))
    assert "'work'" not in top and "'home'" not in top
    assert "filesystem view: allow-list" in r.run.notes
    assert _impl(r) == 25


@needs_ns
def test_no_state_outlives_a_run(tmp_path: Path, private_tmp: Path) -> None:
    """SysV shared memory, /run/lock, /dev/shm and /tmp are the run's own and die with it."""
    key = 0x7A11_0000 + os.getpid() % 0xFFFF
    writer = _submission(tmp_path, ARGS + f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
shmid = libc.shmget({key}, 1 << 20, 0o1666)  # IPC_CREAT | 0666
print("shm", shmid)
for d in ("/run/lock", "/dev/shm", "/tmp", "/var/tmp"):
    try:
        open(os.path.join(d, "CROSS-RUN-MARK"), "w").write("x")
        print("wrote", d)
    except OSError as exc:
        print("cannot write", d, exc)
""" + GOOD, name="writer")
    r = _grade(writer)
    assert "shm -1" not in r.run.stdout_tail and "wrote /run/lock" in r.run.stdout_tail
    with open("/proc/sysvipc/shm", encoding="ascii") as fh:  # nothing left on the host
        assert all(line.split()[0] != str(key) for line in fh.readlines()[1:])
    assert not Path("/run/lock/CROSS-RUN-MARK").exists()
    assert not Path("/dev/shm/CROSS-RUN-MARK").exists()
    reader = _submission(tmp_path, ARGS + f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("found shm" if libc.shmget({key}, 0, 0) >= 0 else "no shm")
for d in ("/run/lock", "/dev/shm", "/tmp", "/var/tmp"):
    print("found mark" if os.path.exists(os.path.join(d, "CROSS-RUN-MARK")) else "no mark")
""" + GOOD, name="reader")
    r2 = _grade(reader)
    assert "found" not in r2.run.stdout_tail and "no shm" in r2.run.stdout_tail


# ----------------------------------------------------------------------------------------------
# item 2: fail closed
# ----------------------------------------------------------------------------------------------


def test_sandbox_that_cannot_start_is_a_grader_error_without_total(
        tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runner, "_INIT", Path("/nonexistent/tutor-init.py"))
    r = _grade(SOLUTION)
    assert r.status == "grader_error" and r.total is None
    assert "sandbox" in r.messages[0] and "\n" not in r.messages[0]
    d = json.loads(render(r, "json"))
    assert d["total"] is None and d["status"] == "grader_error"
    md = render(r, "md")
    assert "/ 100" not in md and "grader error" in md
    gs = json.loads(render(r, "gradescope"))
    assert "score" not in gs and all("score" not in t for t in gs["tests"])
    assert 'name="total" value="none"' in render(r, "junit")
    assert main(["grade", str(SOLUTION), "--lab", str(LAB)]) == 1
    assert json.loads(capsys.readouterr().out)["total"] is None


def test_missing_interpreter_is_not_the_submissions_exit_127(tmp_path: Path,
                                                             private_tmp: Path) -> None:
    work = private_tmp / "run"
    work.mkdir()
    with pytest.raises(SandboxError, match="cannot start the run"):
        run_sandboxed(["/nonexistent/bin/python3", "x.py"], work, limits=Limits(wall_s=20),
                      env={})
    # the submission's own exit code 127 is its failure, graded as such
    r = _grade(_submission(tmp_path, "raise SystemExit(127)\n"))
    assert r.status == "graded" and r.total == 0 and "127" in r.messages[0]


def test_batch_goes_on_and_keeps_a_gradebook(tmp_path: Path, private_tmp: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "batch"
    shutil.copytree(SOLUTION, batch / "alice")
    shutil.copytree(SOLUTION, batch / "bob")
    with open(batch / "bob" / "train.py", "a", encoding="utf-8") as fh:
        fh.write("# BOB\n")
    weird = os.fsdecode(b"carol-\xff\xfe")  # a folder name that is not UTF-8
    shutil.copytree(SOLUTION, batch / weird)
    real = _checker().run_checks

    def flaky(spec: object, snap: Path, *rest: object) -> list[object]:
        if "# BOB" in (Path(str(rest[0])) / "train.py").read_text(encoding="utf-8"):
            raise RuntimeError("checker bug")
        return list(real(spec, snap, *rest))

    monkeypatch.setattr("graders.grade._default_checks", lambda: flaky)
    out = tmp_path / "gb.csv"
    assert main(["grade", "--batch", str(batch), "--lab", str(LAB), "--out", str(out),
                 "--format", "json"]) == 1
    rows = {r["submission"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["alice"]["total"] == "100" and rows["alice"]["status"] == "graded"
    assert rows["bob"]["total"] == "" and rows["bob"]["status"] == "grader_error"
    assert rows["carol-\\udcff\\udcfe"]["total"] == "100"
    for f in (tmp_path / "gb-reports").iterdir():
        json.loads(f.read_text(encoding="utf-8"))  # every report valid JSON, valid UTF-8
    assert "gradebook written" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# item 10: submission data that used to crash the grader
# ----------------------------------------------------------------------------------------------


def test_deep_directory_chain_and_cleanup(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, ARGS + GOOD + """
d = os.path.join(a.out, "deep")
os.mkdir(d)
os.chdir(d)
for i in range(1500):  # relative steps: the absolute path ends far past PATH_MAX
    os.mkdir("d" * 20)
    os.chdir("d" * 20)
open("bottom.json", "w").write("{}")
""")
    r = _grade(sub)
    assert r.status == "graded" and _impl(r) == 25, r.messages
    assert os.listdir(private_tmp) == []  # the grader's temp dirs are gone, deep tree included


def test_sparse_files_are_hashed_within_a_cap(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    for i in range(40):
        with open(root / f"sparse-{i:03d}.bin", "wb") as fh:
            fh.truncate(64 * 1024 * 1024)
    t0 = time.monotonic()
    hashes = hash_tree(root, max_total_mb=128)  # sizes count, not the few blocks on disk
    snap = snapshot_tree(root, tmp_path / "snap", max_total_mb=128)
    assert hashes == snap and len(hashes) == 2
    assert time.monotonic() - t0 < 120
    few = hash_tree(root, max_files=2)
    assert len(few) == 2


def test_odd_names_counted_alike_and_never_raw(tmp_path: Path, private_tmp: Path) -> None:
    sub = _submission(tmp_path, ARGS + GOOD + """
for name in [b"bad-\\xff.json", b"ctl-\\x01\\x9b.json", b"nl-\\nx.json", "rtl-\\u202e.json"]:
    with open(os.path.join(os.fsencode(a.out), name if isinstance(name, bytes) else name.encode()),
              "wb") as fh:
        fh.write(b"{}")
os.mkdir(os.path.join(os.fsencode(a.out), b"dir-\\xfe"))
""")
    r = _grade(sub)
    assert not any("changed after the run" in m for m in r.messages), r.messages
    assert _impl(r) == 25
    root = tmp_path / "names"
    root.mkdir()
    for name in (b"ok.json", b"bad-\xff.json", b"ctl-\x01.json", b"nl-\nx"):
        (Path(os.fsdecode(os.fsencode(root) + b"/" + name))).write_bytes(b"1")
    assert set(hash_tree(root)) == set(snapshot_tree(root, tmp_path / "snap")) == {"ok.json"}


def test_deep_and_out_of_range_design_values(tmp_path: Path, private_tmp: Path) -> None:
    deep = "[" * 600 + "]" * 600
    cases = [
        ("design.json", '{"method": "qlora", "estimated_gb": ' + deep + "}"),
        ("design.yaml", "method: qlora\ngpus: 1" + "0" * 400 + "\n"),
        ("design.yaml", "method: qlora\nestimated_gb: .nan\nrank: [1, 2]\n"),
        ("design.json", '{"method": "qlora", "estimated_gb": [8.5], "batch": 1e400}'),
    ]
    for i, (fname, text) in enumerate(cases):
        sub = _submission(tmp_path, ARGS + GOOD, {fname: text}, name=f"case-{i}")
        r = _grade(sub)
        assert r.status == "graded", r.messages
        line = next(c for c in r.checks if c.id == "design-challenge")
        assert line.status == "fail", line.message
    nested = _submission(tmp_path, ARGS + GOOD,
                         {"design.json": '{"method": "qlora", "x": ' + deep + "}"}, name="nested")
    line = next(c for c in _grade(nested).checks if c.id == "design-challenge")
    assert "nested deeper" in line.message


def test_to_dict_never_recurses_on_submission_data() -> None:
    deep: list[object] = []
    cur = deep
    for _ in range(5000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    check = CheckLine("x", "x", "implementation", 0, 1, "fail", "m",
                      details={"deep": deep, "big": 10**400, "nan": float("nan")})
    total, buckets = aggregate([check], {"implementation": 100})
    r = Report(lab_id="lab", submission="s", status="graded", total=total, buckets=buckets,
               checks=[check], run=RunInfo())
    d = json.loads(render(r, "json"))
    text = json.dumps(d)
    assert "<too deep>" in text and "bits>" in text and '"nan"' in text
    assert jsonable({"k": [1, 2, {"a": (3,)}]}) == {"k": [1, 2, {"a": [3]}]}


# ----------------------------------------------------------------------------------------------
# item 10: reports a submission cannot forge
# ----------------------------------------------------------------------------------------------


def _report_with(message: str, submission: str = "s") -> Report:
    check = CheckLine("fit", "fitted line", "implementation", 0, 10, "fail", message)
    total, buckets = aggregate([check], {"implementation": 100})
    return Report(lab_id="lab-9.9", submission=submission, status="graded", total=total,
                  buckets=buckets, checks=[check], run=RunInfo(notes=[message]),
                  messages=[message])


def test_controls_and_bidi_never_reach_a_report_raw() -> None:
    hostile = "a\x9b31mred\u202eevil\u2066x\x1b[2J\udcff"
    r = _report_with(hostile, submission="sub\u202e")
    for fmt in ("json", "gradescope", "junit", "md"):
        text = render(r, fmt)
        for ch in ("\x9b", "\u202e", "\u2066", "\x1b", "\udcff"):
            assert ch not in text, (fmt, repr(ch))
        text.encode("utf-8")
    assert "\\u009b" in json.loads(render(r, "json"))["messages"][0]


def test_markdown_cells_are_inert() -> None:
    forged = ("x |\n\n**Total: 100 / 100** ![pixel](https://evil.example/p.png) "
              "[click](https://evil.example) <img src=x> `code` _i_")
    md = render(_report_with(forged), "md")
    assert sum(line.startswith("**Total") for line in md.splitlines()) == 1
    assert "**Total: 100 / 100**" not in md
    assert re.search(r"(?<!\\)[\[\]!*]", md.split("\n", 4)[4]) is None  # all backslashed
    assert "\\`code\\`" in md
    assert "<img" not in md and "\\!\\[pixel\\](https:" in md
    assert "\\*\\*Total: 100 / 100\\*\\*" in md
    for line in md.splitlines():
        if line.startswith("| fitted line"):
            assert line.count(" | ") == 4  # the cell did not split the table row


def test_checker_timeout_is_a_grader_error(tmp_path: Path, private_tmp: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(*_: object) -> list[object]:
        time.sleep(5)
        return []

    monkeypatch.setattr("graders.grade.CHECKER_TIMEOUT_S", 0.5)
    r = grade_submission(SOLUTION, LAB, checks_fn=stuck)
    assert r.status == "grader_error" and r.total is None
    assert "did not finish" in r.messages[0]


@needs_ns
def test_escape_attempts_held(tmp_path: Path, private_tmp: Path) -> None:
    """Writes outside the run directory (the interpreter's site-packages included: no planted
    .pth), a hard link to a host file, signals to the grader, the host's loopback: all fail."""
    import socket
    import sysconfig

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    site_dir = sysconfig.get_path("purelib")
    sub = _submission(tmp_path, ARGS + f"""
import signal, socket
for path in ["/PWN", "/usr/PWN", {site_dir + "/zz-planted.pth"!r}, "/etc/PWN", "/proc/PWN"]:
    try:
        open(path, "w").write("import os; os.system('touch /tmp/OWNED')\\n")
        print("WROTE", path)
    except OSError as exc:
        print("denied", path, type(exc).__name__)
try:
    os.link("/etc/passwd", os.path.join(a.out, "passwd"))
    print("LINKED")
except OSError as exc:
    print("denied link", type(exc).__name__)
try:
    os.kill({os.getpid()}, signal.SIGKILL)
    print("SIGNALLED")
except OSError as exc:
    print("denied kill", type(exc).__name__)
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("CONNECTED")
except OSError as exc:
    print("denied connect", type(exc).__name__)
""" + GOOD)
    try:
        r = _grade(sub)
    finally:
        listener.close()
    out = r.run.stdout_tail
    assert out.count("denied") == 8, out
    assert not Path(site_dir, "zz-planted.pth").exists()
    assert _impl(r) == 25


def test_interpreter_paths_keep_the_stack_not_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site_dir = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    editable = tmp_path / "src" / "peft" / "src"
    clone = tmp_path / "clone"
    for d in (site_dir, editable / "peft", clone / ".git"):
        d.mkdir(parents=True)
    (site_dir / "__editable___peft_0_1_finder.py").write_text(
        f"import sys\nMAPPING: dict[str, str] = {{'peft': {str(editable / 'peft')!r}}}\n",
        encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(ROOT), str(ROOT / "tests"), str(site_dir),
                                      str(clone), "/tmp", ""])
    dsts = [dst for _, dst in runner.interpreter_paths()]
    assert str(site_dir) in dsts and str(editable / "peft") in dsts
    assert str(ROOT) not in dsts and str(ROOT / "tests") not in dsts  # the checkout
    assert str(clone) not in dsts and "/tmp" not in dsts
    assert os.path.realpath(sys.base_prefix) in dsts
