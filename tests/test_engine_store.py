"""The progress store: migrations, append-only logs, resets, rebuild, concurrency, exports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.engine_course.engine_helpers import (
    CORRECT,
    INCORRECT,
    T0,
    UNDETERMINED,
    make_engine,
    master,
)

from tutor.store import LATEST_VERSION, AttemptIn, Store, StoreError
from tutor.store.migrations import MIGRATIONS

REPO = Path(__file__).resolve().parent.parent


def test_new_database_is_wal_and_latest(tmp_path: Path) -> None:
    s = Store(tmp_path / "db.sqlite3")
    assert s.schema_version() == LATEST_VERSION == 2
    assert s._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert s._db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert s.integrity_check() == "ok"
    s.close()
    assert Store(tmp_path / "db.sqlite3", synchronous="FULL")._db.execute(
        "PRAGMA synchronous").fetchone()[0] == 2


def test_forward_migration_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for stmt in MIGRATIONS[1]:
        db.execute(stmt)
    db.execute("INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00+00:00')")
    db.execute("INSERT INTO learners(name, created_at, start_date) VALUES "
               "('old', '2026-01-01T00:00:00+00:00', '2026-01-01')")
    db.execute("INSERT INTO attempts(learner_id, item_id, concepts, answer, status, score, "
               "created_at) VALUES (1, 'q-basics-1', '[\"basics\"]', 'a', 'correct', 1.0, "
               "'2026-01-01T10:00:00+00:00')")
    db.commit()
    db.close()
    s = Store(path)
    assert s.schema_version() == 2
    (a,) = s.attempts(s.learner("old").id)
    assert a.item_id == "q-basics-1" and a.concepts == ("basics",)
    assert s.add_lab_run(1, "lab-1.1", "ok", {"loss": 1.5}) == 1
    assert s.lab_runs(1)[0].payload == {"loss": 1.5}
    versions = [r[0] for r in s._db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [1, 2]


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (99, 'x')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this tutor"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot use the progress database"):
        Store(path)


def test_attempt_roundtrip_and_lab_tables(tmp_path: Path) -> None:
    s = Store(tmp_path / "db.sqlite3")
    lid = s.learner("ann").id
    aid = s.append_attempt(lid, AttemptIn("q1", ["c1", "c2"], "2*r*d", "partial", 0.5, 1, 12.5,
                                          T0, 7, "param-count"))
    (a,) = s.attempts(lid)
    assert (a.id, a.item_id, a.concepts, a.answer, a.status, a.score, a.hints_used, a.duration_s,
            a.created_at, a.seed, a.note) == (aid, "q1", ("c1", "c2"), "2*r*d", "partial", 0.5,
                                             1, 12.5, T0, 7, "param-count")
    s.add_grade_report(lid, "lab-1.1", 0.8, True, {"buckets": {"implementation": 0.8}})
    (g,) = s.grade_reports(lid, "lab-1.1")
    assert g.passed and g.payload["buckets"]["implementation"] == 0.8
    assert s.grade_reports(lid, "lab-1.2") == []


def test_rebuild_equals_incremental_state(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    master(e, "a", "basics", now=T0)
    e.record_attempt("a", "q-peft-idea-1", "b", INCORRECT, now=T0)
    e.record_attempt("a", "q-peft-idea-2", "a", CORRECT, hints_used=2, now=T0)
    e.record_attempt("a", "q-basics-1", "b", INCORRECT, now=T0 + timedelta(days=3))
    e.record_attempt("a", "q-align-idea-1", "a", UNDETERMINED, now=T0)
    live = e.mastery("a", now=T0)
    fresh = make_engine(tmp_path)  # same db file, new process-like engine
    assert fresh.mastery("a", now=T0) == live
    rebuilt = e.rebuild("a")
    assert rebuilt.p_known == e.state("a").p_known
    assert e.mastery("a", now=T0) == live


def test_reset_item_and_all_append_events_and_keep_the_log(tmp_path: Path) -> None:
    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    master(e, "a", "basics", now=T0)
    e.record_attempt("a", "q-peft-idea-1", "a", CORRECT, now=T0)
    e.reset("a", "q-peft-idea-1")
    assert e.mastery("a")["peft-idea"].state == "not_started"
    assert e.mastery("a")["basics"].state == "mastered"
    r = e.record_attempt("a", "q-peft-idea-1", "a", CORRECT, now=T0)
    assert r.counted  # first attempt again after the reset
    e.reset("a", "basics")  # a concept: its evidence stops counting
    assert e.mastery("a")["basics"].state == "not_started"
    assert e.mastery("a")["peft-idea"].state == "learning"
    e.reset("a", None)
    m = e.mastery("a")
    assert all(s.state == "not_started" for s in m.values())
    assert e.state("a").externals_met == {}  # the skip is voided too
    assert e.store.count_attempts() == 5  # nothing deleted
    kinds = [ev.kind for ev in e.store.events(e.learner("a").id)]
    assert kinds == ["skip", "reset", "reset", "reset"]
    # another process sees the same thing
    assert make_engine(tmp_path).mastery("a") == m


def test_reset_unknown_item_is_refused(tmp_path: Path) -> None:
    from tutor.engine import EngineError

    e = make_engine(tmp_path)
    with pytest.raises(EngineError, match="unknown item"):
        e.reset("a", "no-such-thing")
    assert e.store.events(e.learner("a").id) == []


def test_engine_picks_up_writes_from_another_engine(tmp_path: Path) -> None:
    e1 = make_engine(tmp_path)
    e2 = make_engine(tmp_path)
    e1.record_attempt("a", "q-basics-1", "a", CORRECT, now=T0)
    assert e2.mastery("a")["basics"].attempts == 1
    e2.record_attempt("a", "q-basics-2", "a", CORRECT, now=T0)
    r = e1.record_attempt("a", "q-basics-3", "a", CORRECT, now=T0)
    assert r.mastery_before["basics"] == pytest.approx(0.925)
    assert r.newly_mastered == ["basics"]
    e2.skip_external("a", "ext-math")
    assert e1.is_unlocked("a", "peft-idea")


WRITER = textwrap.dedent(
    """
    import sys
    from tutor.store import AttemptIn, Store
    s = Store(sys.argv[1])
    lid = s.learner(sys.argv[2]).id
    for i in range(int(sys.argv[3])):
        s.append_attempt(lid, AttemptIn(f"q{i}", ["c"], sys.argv[2], "correct", 1.0))
    print("done", flush=True)
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    Store(db).close()
    n = 300
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, str(n)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("p1", "p2")
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "done"
    s = Store(db)
    assert s.count_attempts() == 2 * n
    for name in ("p1", "p2"):
        rows = s.attempts(s.learner(name, create=False).id)
        assert [r.item_id for r in rows] == [f"q{i}" for i in range(n)]
    assert s.integrity_check() == "ok"


def test_export_formats(tmp_path: Path) -> None:
    from tutor.engine.export import export_text

    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    master(e, "a", "basics", now=T0)
    e.record_attempt("a", "q-basics-1", "b, \"quoted\"\nline", INCORRECT, now=T0 + timedelta(days=3))
    e.record_attempt("a", "q-peft-idea-1", "a", CORRECT, hints_used=1, now=T0)

    rows = list(csv.DictReader(io.StringIO(export_text(e, "a", "csv"))))
    assert len(rows) == 5
    assert rows[3]["answer"] == "b, \"quoted\"\nline" and rows[3]["status"] == "incorrect"
    assert rows[0]["concepts"] == "basics" and rows[0]["learner"] == "a"

    text = export_text(e, "a", "pybkt")
    assert text.splitlines()[0] == "order_id,user_id,skill_name,correct"
    bkt = list(csv.DictReader(io.StringIO(text)))
    # the repeated q-basics-1 is a review, not a BKT observation; the hinted answer is 0
    assert [(r["skill_name"], r["correct"]) for r in bkt] == [
        ("basics", "1"), ("basics", "1"), ("basics", "1"), ("peft-idea", "0")]
    assert [int(r["order_id"]) for r in bkt] == sorted(int(r["order_id"]) for r in bkt)

    lines = [json.loads(x) for x in export_text(e, "a", "jsonl").splitlines()]
    kinds = [x["type"] for x in lines]
    assert kinds.count("attempt") == 5 and kinds.count("event") == 1
    reviews = [x for x in lines if x["type"] == "review"]
    assert [r["rating"] for r in reviews] == [3, 1]  # Good at mastery, Again at the failed review
    assert all(r["concept"] == "basics" and "review_datetime" in r for r in reviews)


def test_lab_tables_accept_a_profile_name(tmp_path: Path) -> None:
    s = Store(tmp_path / "db.sqlite3")
    s.add_lab_run("ann", "lab-1.1", "ok", {"points": [1, 2]})
    s.add_grade_report("ann", "lab-1.1", 1.0, True)
    lid = s.learner("ann").id
    assert [r.lab_id for r in s.lab_runs(lid)] == ["lab-1.1"]
    assert s.grade_reports("ann")[0].passed
    with pytest.raises(TypeError):
        s.add_lab_run("ann", "lab-1.1", {"ok": True})  # type: ignore[arg-type]


def test_threads_sharing_a_store_take_turns(tmp_path: Path) -> None:
    import threading

    s = Store(tmp_path / "db.sqlite3")
    lid = s.learner("t").id

    def write(tag: str) -> None:
        for i in range(100):
            s.append_attempt(lid, AttemptIn(f"{tag}{i}", ["c"], "a", "correct", 1.0))

    threads = [threading.Thread(target=write, args=(tag,)) for tag in "xyz"]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert s.count_attempts(lid) == 300
    assert s.integrity_check() == "ok"


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    from tutor.engine.export import export_text

    with pytest.raises(ValueError, match="unknown export format"):
        export_text(make_engine(tmp_path), "a", "xml")


def test_csv_export_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    from tutor.engine.export import export_text

    e = make_engine(tmp_path)
    e.skip_external("a", "ext-math")
    e.record_attempt("a", "q-basics-1", '=HYPERLINK("http://x","y")', INCORRECT, now=T0)
    e.record_attempt("a", "q-basics-1", "-2+3+cmd|' /C calc'!A0", INCORRECT, now=T0)
    e.record_attempt("a", "q-basics-1", "r*(d+k)", INCORRECT, now=T0)
    rows = list(csv.DictReader(io.StringIO(export_text(e, "a", "csv"))))
    assert [r["answer"] for r in rows] == ["'=HYPERLINK(\"http://x\",\"y\")",
                                           "'-2+3+cmd|' /C calc'!A0", "r*(d+k)"]
    raw = [json.loads(x)["answer"] for x in export_text(e, "a", "jsonl").splitlines()
           if json.loads(x)["type"] == "attempt"]
    assert raw[0] == '=HYPERLINK("http://x","y")'  # jsonl stays faithful
