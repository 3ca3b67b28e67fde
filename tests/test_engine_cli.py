"""`tutor answer | next | progress | placement | export | reset` on the tiny fixture course,
with the real answer grader (in-process for speed)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fixtures.engine_course.engine_helpers import COURSE_DIR

from tutor.cli import main


def right(qid: str, learner: str = "default") -> str:
    """The letter ``learner`` types for the fixture question's right option ``a`` (options are
    shown in each learner's own order)."""
    from graders.answers.shuffle import relabelling
    from tutor.curriculum import load_course

    return relabelling(load_course(COURSE_DIR).questions[qid], learner)["a"]


CONTRACT_KEYS = ["status", "score", "feedback", "interpreted_as", "note", "warnings", "elapsed_ms"]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")
    return tmp_path / "cli.sqlite3"


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--curriculum", str(COURSE_DIR), "--db", str(db), "--lang", "en"])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run(capsys, db, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_answer_json_contract_then_engine_keys(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    obj = run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    keys = list(obj)
    assert keys[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert obj["status"] == "correct" and obj["recorded"] is True
    assert obj["mastery"] == {"basics": {"before": 0.1, "after": 0.55, "state": "learning"}}
    assert obj["unlocked"] == {"concepts": [], "labs": []}
    assert obj["practice_mode"] is True  # ext-math not met yet
    assert keys.index("mastery") > keys.index("elapsed_ms")


def test_answer_invalid_is_not_recorded(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    obj = run_json(capsys, db, "answer", "q-basics-1", "zz")
    assert obj["status"] == "invalid" and obj["recorded"] is False
    obj = run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    assert obj["attempt_id"] == 1 and obj["mastery"]["basics"]["after"] == 0.55


def test_answer_unknown_question_exits_2(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, db, "answer", "no-such-question", "a")
    assert code == 2 and "unknown question id 'no-such-question'" in err and out == ""


def test_answer_text_output(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "answer", "q-basics-1", right("q-basics-1", "ann"),
                         "--learner", "ann")
    assert code == 0
    assert "Correct" in out and "Basics: 10% -> 55% (learning)" in out and "practice mode" in out


def test_scripted_learner_through_level_1(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    """Answers every Level-1 question correctly through `tutor answer`: the Level-2 concepts
    become ready and `tutor next` moves on to Level 2, with the reason."""
    obj = run_json(capsys, db, "next")
    assert obj["kind"] == "placement" and obj["id"] == "ext-math"
    report = run_json(capsys, db, "placement", "--answers",
                      json.dumps({"place-math-1": right("place-math-1"),
                                  "place-math-2": right("place-math-2")}))
    assert report["results"]["ext-math"]["passed"] is True
    from tutor.curriculum import load_course

    course = load_course(COURSE_DIR)
    level1 = [q for q in course.questions.values()
              if q.level == 1 and all(c in course.concepts for c in q.concepts)]
    unlocked: list[str] = []
    for q in level1:
        obj = run_json(capsys, db, "answer", q.id, right(q.id))
        assert obj["status"] == "correct" and obj["recorded"]
        unlocked += obj["unlocked"]["concepts"]
    level2 = {c for c, m in course.concepts.items() if m.level == 2}
    assert set(unlocked) >= level2
    progress = run_json(capsys, db, "progress")
    assert all(progress["mastery"][c]["state"] == "mastered"
               for c, m in course.concepts.items() if m.level == 1)
    assert all(progress["mastery"][c]["unlocked"] for c in level2)
    assert progress["levels"][0]["mastered"] == 3
    nxt = run_json(capsys, db, "next")
    assert nxt["kind"] == "question" and course.concepts[nxt["concept"]].level == 2
    assert nxt["reason"] and course.concepts[nxt["concept"]].title.en in nxt["reason"]


def test_next_text_and_zh_tw(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "next")
    assert code == 0 and out.startswith("Placement: ext-math")
    code = main(["next", "--curriculum", str(COURSE_DIR), "--db", str(db), "--lang", "zh-TW"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("分級測驗：ext-math") and "外部先備知識" in out


def test_progress_json_shape(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    obj = run_json(capsys, db, "progress", "--learner", "bob")
    assert obj["learner"] == "bob"
    assert set(obj) >= {"mastery", "levels", "labs", "externals", "pacing", "rubric", "due_reviews"}
    assert obj["labs"]["lab-1.1"]["unlocked"] is False
    assert obj["externals"] == {"ext-math": None}
    assert obj["rubric"]["concepts"]["weight"] == 40
    assert obj["rubric"]["concepts"]["score"] == pytest.approx(0.1)
    assert obj["rubric"]["analysis"]["score"] is None
    assert obj["pacing"]["plan_day"] == 1


def test_placement_skip_and_errors(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "placement", "--skip", "ext-math")
    assert code == 0 and "Skipped ext-math" in out
    code, _, err = run(capsys, db, "placement", "--skip", "nope")
    assert code == 2 and "not an external prerequisite" in err
    code, _, err = run(capsys, db, "placement", "--answers", "{not json")
    assert code == 2 and "--answers" in err
    code, _, err = run(capsys, db, "placement", "--answers", "[1, 2]")
    assert code == 2


def test_placement_interactive_reads_stdin(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a\nb\n"))
    code, out, _ = run(capsys, db, "placement")
    assert code == 0 and "Pick a (place-math-1)" in out and "not passed (1/2)" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # EOF: nothing answered
    code, out, _ = run(capsys, db, "placement")
    assert code == 0 and "(0/2)" in out


def test_reset_needs_yes(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    code, _, err = run(capsys, db, "reset", "--all")
    assert code == 2 and "--yes" in err
    code, _, err = run(capsys, db, "reset", "--item", "bogus", "--yes")
    assert code == 2 and "unknown item" in err
    code, out, _ = run(capsys, db, "reset", "--item", "q-basics-1", "--yes")
    assert code == 0 and "Reset q-basics-1" in out
    obj = run_json(capsys, db, "progress")
    assert obj["mastery"]["basics"]["state"] == "not_started"
    code, out, _ = run(capsys, db, "export", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 1  # the attempt is still in the log


def test_export_to_file(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    out_file = tmp_path / "bkt.csv"
    code, _, _ = run(capsys, db, "export", "--format", "pybkt", "--out", str(out_file))
    assert code == 0
    assert out_file.read_text().splitlines() == ["order_id,user_id,skill_name,correct",
                                                 "1,default,basics,1"]
    code, _, err = run(capsys, db, "export", "--format", "csv", "--out", str(tmp_path / "no/x.csv"))
    assert code == 1 and "cannot write" in err


def test_bad_database_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage" * 200)
    code = None
    with pytest.raises(SystemExit) as exc:
        code = main(["next", "--curriculum", str(COURSE_DIR), "--db", str(bad)])
    assert code is None and exc.value.code == 1
    assert "cannot use the progress database" in capsys.readouterr().err


def test_broken_question_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graders.answers as ga

    def broken(*_a: object, **_k: object) -> None:
        raise ga.QuestionError("cannot read the expected answer")

    monkeypatch.setattr(ga, "grade", broken, raising=False)
    code, out, err = run(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    assert code == 1 and "q-basics-1 is broken" in err and "nothing was recorded" in err
    code, out, _ = run(capsys, db, "export", "--format", "csv")
    assert out.count("\n") == 1  # header only


def test_progress_text_in_both_languages(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    run_json(capsys, db, "placement", "--skip", "ext-math")
    run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    code, out, _ = run(capsys, db, "progress")
    assert code == 0
    assert "Plan day 1 (calendar day 1: on schedule)" in out
    assert "basics" in out and "55%" in out and "lab-1.1" in out and "ext-math: met (skipped)" in out
    code = main(["progress", "--curriculum", str(COURSE_DIR), "--db", str(db), "--lang", "zh-TW"])
    out = capsys.readouterr().out
    assert code == 0 and "進度正常" in out and "學習中" in out and "已滿足（略過）" in out


def test_database_failing_mid_command_is_a_message(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from tutor.store import Store

    def boom(*_a: object, **_k: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "append_attempt", boom)
    code, out, err = run(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    assert code == 1 and "disk I/O error" in err and out == ""


def test_next_json_gives_a_way_forward_after_a_reread(capsys: pytest.CaptureFixture[str],
                                                      db: Path) -> None:
    """Every question of the ready concept answered wrong: `next --json` sends the learner to
    the lesson with `retry_at`, and a second call does not repeat it without one."""
    run_json(capsys, db, "placement", "--skip", "ext-math")
    for i in (1, 2, 3):
        qid = f"q-basics-{i}"
        wrong = next(x for x in "abc" if x != right(qid))
        assert run_json(capsys, db, "answer", qid, wrong)["status"] == "incorrect"
    for _ in range(2):
        obj = run_json(capsys, db, "next")
        assert obj["kind"] == "lesson" and obj["concept"] == "basics"
        assert obj["reason_key"] == "engine.reason.lesson_retry" and obj["retry_at"]
    # an immediate repeat is recorded but does not count (no farming)
    again = run_json(capsys, db, "answer", "q-basics-1", right("q-basics-1"))
    assert again["status"] == "correct"
    assert again["mastery"]["basics"]["before"] == again["mastery"]["basics"]["after"]
