"""Workspaces (`tutor lab start`), run directories and the LabRun runner on fake quick labs."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import yaml

from graders.labs.spec import Requires, load_lab
from tutor.labs.runner import Finished, LabRun, LogLine, Progress, parse_line
from tutor.labs.workspace import WorkspaceExists, prepare_run_dir, start_workspace

REPO = Path(__file__).resolve().parent.parent

FAKE_TRAIN = """
import argparse, json, os, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("--out"); ap.add_argument("--data"); ap.add_argument("--seed", type=int)
ap.add_argument("--heldout")
a = ap.parse_args()
mode = open("mode.txt").read().strip() if os.path.exists("mode.txt") else "ok"
print("starting", file=sys.stderr)
print("a plain stdout line")
for i in range(1, 4):
    print(json.dumps({"event": "progress", "step": i, "total": 3, "loss": 1.0 / i}), flush=True)
if mode == "sleep":
    time.sleep(60)
if mode == "crash":
    raise SystemExit(3)
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "metrics.json"), "w") as f:
    json.dump({"seed": a.seed, "offline": os.environ.get("HF_HUB_OFFLINE"),
               "secret": os.environ.get("SECRET_TOKEN"), "cwd_files": sorted(os.listdir("."))}, f)
if mode != "nodone":
    print(json.dumps({"event": "done"}), flush=True)
"""


def _fake_lab(root: Path) -> Path:
    lab = root / "fake-lab"
    for d in ("starter", "solution"):
        (lab / d).mkdir(parents=True)
        (lab / d / "train.py").write_text(FAKE_TRAIN + ("# TODO\n" if d == "starter" else ""),
                                          encoding="utf-8")
        (lab / d / "notes.md").write_text("notes\n", encoding="utf-8")
    (lab / "helper.txt").write_text("shared\n", encoding="utf-8")
    raw = {
        "id": "lab-9.1", "title": {"en": "Fake", "zh-TW": "假"}, "concepts": ["lora"],
        "entry": "train.py", "starter": ["train.py", "notes.md"], "allowed": ["train.py"],
        "shared": ["helper.txt"], "artifacts": ["metrics.json"], "checker": "fake",
        "time_budget_s": 30,
        "checks": [{"id": "ok", "title": {"en": "ok", "zh-TW": "好"}, "bucket": "implementation",
                    "points": 1, "description": {"en": "d", "zh-TW": "描述"}}],
    }
    (lab / "lab.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return lab


def test_start_copies_and_never_overwrites(tmp_path: Path) -> None:
    lab = _fake_lab(tmp_path)
    spec = load_lab(lab)
    ws = start_workspace(spec, lab, root=tmp_path / "ws")
    assert sorted(p.name for p in ws.iterdir()) == ["helper.txt", "notes.md", "train.py"]
    assert "# TODO" in (ws / "train.py").read_text(encoding="utf-8")
    (ws / "train.py").write_text("my work\n", encoding="utf-8")
    with pytest.raises(WorkspaceExists):
        start_workspace(spec, lab, root=tmp_path / "ws")
    assert (ws / "train.py").read_text(encoding="utf-8") == "my work\n"
    (ws / "mine.py").write_text("keep me\n", encoding="utf-8")
    start_workspace(spec, lab, root=tmp_path / "ws", force=True)
    assert "# TODO" in (ws / "train.py").read_text(encoding="utf-8")
    assert (ws / "mine.py").read_text(encoding="utf-8") == "keep me\n"


def test_run_dir_takes_only_allowed_files_and_lab_shared(tmp_path: Path) -> None:
    lab = _fake_lab(tmp_path)
    spec = load_lab(lab)
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "train.py").write_text("print('mine')\n", encoding="utf-8")
    (sub / "notes.md").write_text("not allowed\n", encoding="utf-8")
    (sub / "helper.txt").write_text("tampered\n", encoding="utf-8")
    (sub / "evil.py").write_text("", encoding="utf-8")
    run_dir = prepare_run_dir(spec, lab, tmp_path / "run", source=sub)
    assert sorted(p.name for p in run_dir.iterdir()) == ["helper.txt", "train.py"]
    assert (run_dir / "helper.txt").read_text(encoding="utf-8") == "shared\n"
    sol = prepare_run_dir(spec, lab, tmp_path / "sol", solution=True)
    assert (sol / "notes.md").read_text(encoding="utf-8") == "notes\n"


def test_symlinked_submission_file_is_ignored(tmp_path: Path) -> None:
    lab = _fake_lab(tmp_path)
    spec = load_lab(lab)
    sub = tmp_path / "submission"
    sub.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    os.symlink(secret, sub / "train.py")
    run_dir = prepare_run_dir(spec, lab, tmp_path / "run", source=sub)
    assert not (run_dir / "train.py").exists()


def _run(tmp_path: Path, mode: str = "ok", **kw: object) -> tuple[list[object], LabRun]:
    lab = _fake_lab(tmp_path)
    spec = load_lab(lab)
    run_dir = prepare_run_dir(spec, lab, tmp_path / "run", solution=True)
    (run_dir / "mode.txt").write_text(mode, encoding="utf-8")
    run = LabRun(spec, run_dir, tmp_path / "out", seed=7, **kw)  # type: ignore[arg-type]
    return list(run.events()), run


def test_events_in_order_and_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    events, run = _run(tmp_path)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(p.step, p.total) for p in progress] == [(1, 3), (2, 3), (3, 3)]
    assert progress[1].loss == pytest.approx(0.5)
    assert progress[-1].fraction == 1.0
    assert LogLine("a plain stdout line") in events
    final = events[-1]
    assert isinstance(final, Finished) and final.ok and final.done
    assert run.result is final
    import json

    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["seed"] == 7
    assert metrics["offline"] == "1"
    assert metrics["secret"] is None  # the caller's environment does not leak in
    log = final.log_path.read_text(encoding="utf-8")
    assert "starting" in log and '"event": "done"' in log and "-I train.py" in log


def test_crash_and_missing_done(tmp_path: Path) -> None:
    events, _ = _run(tmp_path / "a", "crash")
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.returncode == 3 and not final.ok and not final.done
    events, _ = _run(tmp_path / "b", "nodone")
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.returncode == 0 and not final.done and not final.ok


def test_timeout_kills_the_run(tmp_path: Path) -> None:
    t0 = time.monotonic()
    events, _ = _run(tmp_path, "sleep", timeout_s=2)
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.timed_out and not final.ok
    assert time.monotonic() - t0 < 20


def test_cancel_from_another_thread(tmp_path: Path) -> None:
    lab = _fake_lab(tmp_path)
    spec = load_lab(lab)
    run_dir = prepare_run_dir(spec, lab, tmp_path / "run", solution=True)
    (run_dir / "mode.txt").write_text("sleep", encoding="utf-8")
    run = LabRun(spec, run_dir, tmp_path / "out")
    got: list[object] = []

    def worker() -> None:
        got.extend(run.events())

    th = threading.Thread(target=worker)
    th.start()
    deadline = time.monotonic() + 15
    while not any(isinstance(e, Progress) and e.step == 3 for e in got):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run.cancel()
    th.join(timeout=15)
    final = got[-1]
    assert isinstance(final, Finished) and final.cancelled and not final.timed_out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"event": "progress", "step": 2, "total": 4, "loss": 0.25}', Progress(2, 4, 0.25)),
        ('{"event": "progress", "step": 2}', Progress(2, 0, None)),
        ('{"event": "progress", "step": "x"}', LogLine('{"event": "progress", "step": "x"}')),
        ('{"event": "other"}', LogLine('{"event": "other"}')),
        ("{not json", LogLine("{not json")),
        ("hello\n", LogLine("hello")),
        ('{"event": "done"}', None),
    ],
)
def test_parse_line(line: str, expected: object) -> None:
    assert parse_line(line) == expected


def test_cli_lab_start_list_and_static_dev_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tutor.cli import main

    ws = tmp_path / "ws"
    monkeypatch.setenv("TUTOR_WORKSPACE", str(ws))
    assert main(["lab", "start", "lab-1.1"]) == 0
    assert sorted(p.name for p in (ws / "lab-1.1").iterdir()) == [
        "answers.yaml", "design.yaml", "labcommon.py", "lora_layer.py", "peft_run.py", "train.py"]
    (ws / "lab-1.1" / "train.py").write_text("mine\n", encoding="utf-8")
    assert main(["lab", "start", "lab-1.1"]) == 1
    assert (ws / "lab-1.1" / "train.py").read_text(encoding="utf-8") == "mine\n"
    assert "--force" in capsys.readouterr().err
    assert main(["lab", "start", "lab-0.0"]) == 2
    assert main(["lab", "run", "lab-1.2"]) == 1  # no runnable exercise yet
    capsys.readouterr()
    assert main(["lab", "list", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    lab11 = next(r for r in rows if r["id"] == "lab-1.1")
    assert lab11["runnable"] and lab11["concepts"] == ["lora", "qlora"]
    assert lab11["state"] == "unknown"  # no learner database in this test
    assert main(["--lang", "zh-TW", "lab", "list"]) == 0
    assert "未知" in capsys.readouterr().out
    assert main(["dev", "check", "--static"]) == 0
    assert "lab-1.1" in capsys.readouterr().out


def test_lab_run_needs_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tutor.cli import main

    monkeypatch.setenv("TUTOR_WORKSPACE", str(tmp_path / "empty"))
    assert main(["lab", "run", "lab-1.1"]) == 1
    assert "tutor lab start lab-1.1" in capsys.readouterr().err


def test_dev_check_finds_orphans_and_passing_starters(tmp_path: Path) -> None:
    from tutor.labs.devcheck import dev_check

    lab = _fake_lab(tmp_path)
    (lab / "README.md").write_text("", encoding="utf-8")
    (lab / "README.zh-TW.md").write_text("", encoding="utf-8")
    (tmp_path / "stray-dir").mkdir()
    reps = dev_check(tmp_path, static=True, course_labs={"lab-1.1"}, concept_ids={"dpo"},
                     question_ids=set())
    problems = {r.lab_id: r.problems for r in reps}
    assert problems["stray-dir"] == ["stray-dir: no lab.yaml (orphan directory)"]
    assert any("not listed" in p for p in problems["lab-9.1"])
    assert any("concept 'lora' is not in the course" in p for p in problems["lab-9.1"])
    (lab / "leftover.bin").write_bytes(b"x")
    reps = dev_check(tmp_path, static=True, only=["lab-9.1"])
    assert [r.lab_id for r in reps] == ["lab-9.1"]
    assert reps[0].problems[0] == "orphan: leftover.bin"
    assert reps[0].problems[1:] == [  # lab.yaml names a checker the grader does not have
        "checker graders.labs.fake cannot be imported: ModuleNotFoundError: "
        "No module named 'graders.labs.fake'"]


def test_lab_list_shows_lock_state_from_the_learner_db(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tutor.cli import main

    monkeypatch.setenv("TUTOR_DB", str(tmp_path / "progress.sqlite3"))
    monkeypatch.setenv("TUTOR_WORKSPACE", str(tmp_path / "ws"))
    if main(["answer", "l1-peft-in-one-sentence", "a few low-rank parameters"]) != 0:
        pytest.skip("tutor answer is not available")
    capsys.readouterr()
    assert main(["lab", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["lab-1.1"]["state"] == "locked"
    assert "lora" in rows["lab-1.1"]["reason"]
    assert main(["lab", "start", "lab-1.1"]) == 0  # allowed, with a note
    assert "still locked" in capsys.readouterr().err


def test_progress_display_tty_and_plain() -> None:
    import io

    from tutor.cli.lab_handlers import _Display

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    d = _Display(tty)
    for i in range(1, 101):
        d.progress(i, 100, 1.0)
    d.end()
    assert tty.getvalue().count("\r") == 100 and "100/100" in tty.getvalue()
    plain = io.StringIO()
    d = _Display(plain)
    for i in range(1, 101):
        d.progress(i, 100, None)
    lines = plain.getvalue().splitlines()
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("step 100/100")


def test_missing_lab_stack_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """lab.yaml ``requires`` is checked before a run; the message names the pip extra."""
    from tutor.cli import main
    from tutor.labs.session import RequirementsMissing, missing_requirements, run_and_check

    lab = _fake_lab(tmp_path)
    spec = load_lab(lab).model_copy(update={"requires": Requires(packages=["torch",
                                                                           "no_such_package_xyz"])})
    assert missing_requirements(spec) == (["no_such_package_xyz"], False)
    with pytest.raises(RequirementsMissing, match=r"\[labs\]"):
        run_and_check(spec, lab, work=tmp_path / "w", solution=True)
    assert not (tmp_path / "w").exists()  # nothing ran

    monkeypatch.setenv("TUTOR_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setattr("tutor.labs.session.missing_requirements",
                        lambda spec: (["no_such_package_xyz"], False))
    assert main(["lab", "run", "lab-1.1", "--solution"]) == 1
    err = capsys.readouterr().err
    assert "no_such_package_xyz" in err and 'pip install -e ".[labs]"' in err
