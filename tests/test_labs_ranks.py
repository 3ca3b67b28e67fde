"""Many ranks: the 2-rank fixture lab (tests/fixtures/ranks_lab) under the lab pipeline (what
`tutor lab run/check` call) and under `tutor grade` (the sandbox), with torchrun and the grader's
spawn launcher; one rank crashing is a graded failure and leaves no process behind."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from graders.labs.launch import launch_argv, rank0_line
from graders.labs.spec import load_lab
from tutor.cli import main
from tutor.labs.session import run_and_check

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "ranks_lab" / "lab-9.2-ranks"

pytestmark = pytest.mark.serial


def _lab(tmp_path: Path, launcher: str = "torchrun") -> Path:
    """The fixture lab under tmp_path/exercises, with the course's _common beside it."""
    lab = tmp_path / "exercises" / "lab-9.2-ranks"
    shutil.copytree(FIXTURE, lab)
    shutil.copytree(ROOT / "exercises" / "_common", tmp_path / "exercises" / "_common")
    if launcher != "torchrun":
        y = lab / "lab.yaml"
        y.write_text(y.read_text(encoding="utf-8").replace("launcher: torchrun",
                                                           f"launcher: {launcher}"),
                     encoding="utf-8")
    return lab


def _crashing(tmp_path: Path, lab: Path) -> Path:
    """A submission whose rank 1 exits with 3 right after the rendezvous."""
    sub = tmp_path / "crash"
    sub.mkdir()
    text = (lab / "solution" / "train.py").read_text(encoding="utf-8")
    text = text.replace("    lc.progress(1, 1)", "    if rank == 1:\n        sys.exit(3)\n"
                        "    lc.progress(1, 1)")
    assert "sys.exit(3)" in text
    (sub / "train.py").write_text(text, encoding="utf-8")
    return sub


def _processes_in(path: Path) -> list[int]:
    """Pids of live processes whose command line or cwd mentions ``path``."""
    found = []
    needle = str(path)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if needle in cmd or cwd.startswith(needle):
            found.append(int(pid))
    return found


def test_launch_lines() -> None:
    spec = load_lab(FIXTURE)
    argv = launch_argv(spec, "py", "train.py", ["--out", "out"])
    assert argv[:4] == ["py", "-I", "-m", "torch.distributed.run"]
    assert "--nproc-per-node" in argv and argv[argv.index("--nproc-per-node") + 1] == "2"
    assert argv[-3:] == ["train.py", "--out", "out"]
    assert launch_argv(spec, "py", "train.py", [], ranks=1) == ["py", "-I", "train.py"]
    ds = spec.model_copy(update={"launcher": "deepspeed"})  # torchrun's line on CPU (docs/labs.md)
    assert launch_argv(ds, "py", "train.py", []) == launch_argv(spec, "py", "train.py", [])
    spawn = spec.model_copy(update={"launcher": "spawn"})
    assert launch_argv(spawn, "py", "t.py", [])[2:5] == ["_lab_ranks.py", "--nproc", "2"]
    assert rank0_line('[default0]:{"event": "done"}') == '{"event": "done"}'
    assert rank0_line("[default1]:x") == "[default1]:x"


@pytest.mark.parametrize("launcher", ["torchrun", "spawn"])
def test_pipeline_two_ranks_pass_fail_and_crash(tmp_path: Path, launcher: str) -> None:
    lab = _lab(tmp_path, launcher)
    spec = load_lab(lab)
    ok = run_and_check(spec, lab, work=tmp_path / "sol", solution=True)
    assert ok.finished.ok, ok.finished.log_path.read_text(encoding="utf-8")[-2000:]
    assert [r.status for r in ok.results] == ["pass", "pass"], [r.text("en") for r in ok.results]
    for r in (0, 1):  # per-rank artifacts, and the run's copy of the common file
        assert json.loads((tmp_path / "sol" / "out" / f"rank{r}" / "result.json").read_text())["sum"] == 3
    assert (ok.run_dir / "labcommon.py").read_bytes() == (
        ROOT / "exercises" / "_common" / "labcommon.py").read_bytes()
    log = ok.finished.log_path.read_text(encoding="utf-8")
    assert "rank" in log  # rank-prefixed lines of both ranks
    assert list((ok.run_dir / "logs").rglob("*"))  # per-rank log files

    starter = run_and_check(spec, lab, work=tmp_path / "st", solution=False)
    assert [r.status for r in starter.results] == ["fail", "fail"]

    crash = run_and_check(spec, lab, work=tmp_path / "cr", source=_crashing(tmp_path, lab))
    assert not crash.finished.ok and crash.finished.returncode != 0
    assert crash.finished.elapsed_s < 60  # rank 0 did not wait out the budget in all_reduce
    assert [r.status for r in crash.results] == ["fail", "pass"]  # total() itself is right
    assert _processes_in(tmp_path) == []


def test_tutor_grade_two_ranks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab = _lab(tmp_path)
    assert main(["grade", str(lab / "solution"), "--lab", str(lab)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "graded", report
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["ranks-agree"]["status"] == "pass", checks["ranks-agree"]
    assert checks["total-by-hand"]["status"] == "pass", checks["total-by-hand"]

    assert main(["grade", str(_crashing(tmp_path, lab)), "--lab", str(lab)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "graded"
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["ranks-agree"]["status"] == "fail"
    assert _processes_in(tmp_path) == []


def test_rank_probe_blocks_all_reduce(tmp_path: Path) -> None:
    """A total() that calls dist.all_reduce passes the run but fails the 2-rank probe."""
    lab = _lab(tmp_path)
    spec = load_lab(lab)
    sub = tmp_path / "shortcut"
    sub.mkdir()
    text = (lab / "solution" / "train.py").read_text(encoding="utf-8")
    start = text.index("    rank, world = dist.get_rank()")
    end = text.index("def main()")
    text = text[:start] + ("    t = torch.tensor([float(value)])\n    dist.all_reduce(t)\n"
                           "    return float(t)\n\n\n") + text[end:]
    (sub / "train.py").write_text(text, encoding="utf-8")
    res = run_and_check(spec, lab, work=tmp_path / "w", source=sub)
    by = {r.id: r for r in res.results}
    assert by["ranks-agree"].status == "pass"
    assert by["total-by-hand"].status == "fail"
    assert "all_reduce" in by["total-by-hand"].text("en")


@pytest.mark.parametrize("launcher", ["torchrun", "spawn"])
def test_wall_limit_kills_every_rank(tmp_path: Path, launcher: str) -> None:
    """Rank 1 hangs: the runner's time limit ends the run and no rank is left behind."""
    lab = _lab(tmp_path, launcher)
    spec = load_lab(lab)
    sub = tmp_path / "hang"
    sub.mkdir()
    text = (lab / "solution" / "train.py").read_text(encoding="utf-8")
    text = text.replace("    lc.progress(1, 1)", "    if rank == 1:\n        import time\n"
                        "        time.sleep(600)\n    lc.progress(1, 1)")
    (sub / "train.py").write_text(text, encoding="utf-8")
    res = run_and_check(spec, lab, work=tmp_path / "w", source=sub, check=False, timeout_s=25)
    assert res.finished.timed_out
    time.sleep(1)
    assert _processes_in(tmp_path) == []
