"""Benchmark of the adaptive engine on a synthetic course (docs/benchmarks.md, "Engine").

    python bench/engine.py [--concepts 5000] [--attempts 100000] [--seed 1]

Builds a course of N concepts (6 topics x 5 levels, 1-3 hard prerequisites each, 3 questions per
concept, a 20-day plan, 8 labs), logs M attempts of one learner straight into a fresh SQLite store
(answers right with a probability that grows with practice, 10 % with a hint, so mastery, reviews,
failed reviews and unlocks all happen), then times, side by side with a naive baseline in the same
run:

* rebuild: all derived state from the log (one ordered scan) vs. the naive way, one query per
  attempt id;
* next: ``Engine.next_item`` right after an answer was recorded, with the readiness cache
  cleared (the worst case: every concept's unlock rule is re-evaluated) vs. a stateless recompute
  (rebuild from the log, then choose);
* record: ``Engine.record_attempt`` (one INSERT + commit + incremental update + unlock diff) vs.
  the stateless way (INSERT + commit, then rebuild from the log).

Targets (issue 4): rebuild <= 2 s, next <= 20 ms, record <= 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOPICS = ["foundations", "peft", "distributed", "memory", "attention", "alignment"]


def _text(s: str) -> dict[str, str]:
    return {"en": s, "zh-TW": s}


def synthetic_course(n_concepts: int, seed: int) -> Any:
    """A valid ``Course`` with ``n_concepts`` concepts and 3 questions per concept."""
    from tutor.curriculum.models import Course

    rng = random.Random(seed)
    per_group = max(1, n_concepts // (len(TOPICS) * 5))
    concepts: list[dict[str, Any]] = []
    by_group: dict[tuple[str, int], list[str]] = {}
    i = 0
    while len(concepts) < n_concepts:
        for level in range(1, 6):
            for topic in TOPICS:
                for _ in range(per_group):
                    if len(concepts) >= n_concepts:
                        break
                    cid = f"c{i}"
                    i += 1
                    lower = [c for lv in range(1, level) for c in by_group.get((topic, lv), [])]
                    lower_any = [c for t in TOPICS for c in by_group.get((t, level - 1), [])]
                    requires: list[str] = []
                    if lower:
                        requires += rng.sample(lower[-per_group * 2:], k=min(len(lower), rng.randint(1, 2)))
                    if lower_any and rng.random() < 0.3:
                        requires.append(rng.choice(lower_any))
                    concepts.append({
                        "id": cid, "title": _text(f"Concept {cid}"), "level": level,
                        "topic": topic, "summary": _text("s"), "page": cid,
                        "requires": sorted(set(requires)),
                    })
                    by_group.setdefault((topic, level), []).append(cid)
        per_group = 1  # top up one by one if the division left a remainder
    ids = [c["id"] for c in concepts]
    questions: dict[str, Any] = {}
    for c in concepts:
        for k in range(3):
            qid = f"q-{c['id']}-{k}"
            extra = [rng.choice(ids)] if rng.random() < 0.1 else []
            questions[qid] = {
                "id": qid, "level": c["level"], "concepts": [c["id"], *extra], "kind": "choice",
                "prompt": _text("pick a"), "answer": "a",
                "options": [{"id": "a", "correct": True, "text": _text("a")},
                            {"id": "b", "text": _text("b")}],
                "cases": [{"answer": "a", "status": "correct"}],
            }
    order = sorted(concepts, key=lambda c: c["level"])
    days = []
    chunk = -(-len(order) // 20)
    for d in range(20):
        days.append({
            "day": d + 1, "phase": "all", "title": _text(f"Day {d + 1}"),
            "theory_hours": 2, "practice_hours": 2,
            "concepts": [c["id"] for c in order[d * chunk:(d + 1) * chunk]],
            "labs": [f"lab-1.{d // 3 + 1}"] if d % 3 == 2 and d // 3 < 8 else [],
        })
    labs = {
        f"lab-1.{k}": {"id": f"lab-1.{k}", "title": _text(f"Lab {k}"), "summary": _text("s"),
                       "concepts": rng.sample(ids[: len(ids) // 2], 3)}
        for k in range(1, 9)
    }
    meta = {
        "format_version": 1,
        "module": {"id": "synthetic", "title": _text("Synthetic"), "category": "bench",
                   "difficulty_levels": {"x": 1},
                   "estimated_hours": {"reading": 1, "practice": 1, "mastery": 1},
                   "tags": [], "version": "1", "last_updated": "2026-11-29"},
        "rubric": {"buckets": [
            {"id": "concepts", "title": _text("c"), "weight": 40, "source": "quiz", "criteria": [_text("c")]},
            {"id": "implementation", "title": _text("i"), "weight": 30, "source": "lab_checks", "criteria": [_text("c")]},
            {"id": "analysis", "title": _text("a"), "weight": 20, "source": "analysis_questions", "criteria": [_text("c")]},
            {"id": "innovation", "title": _text("n"), "weight": 10, "source": "design_challenge", "criteria": [_text("c")]},
        ]},
        "decision_tree": [{"recommendation": _text("r"), "rationale": _text("r")}],
    }
    levels = [{"id": f"level-{n}", "number": n, "title": _text(f"L{n}"), "goal": _text("g"),
               "page": f"level-{n}"} for n in range(1, 6)]
    return Course.model_validate({
        "meta": meta, "levels": levels, "concepts": {c["id"]: c for c in concepts},
        "phases": [{"id": "all", "first_day": 1, "last_day": 20, "title": _text("All"),
                    "goal": _text("g"), "level": 1}],
        "days": days, "labs": labs, "pitfalls": [], "questions": questions, "root": "/synthetic",
    })


def log_attempts(store: Any, course: Any, learner_id: int, n: int, seed: int, start: datetime) -> None:
    """Bulk-insert ``n`` plausible attempts (one transaction; setup, not timed)."""
    rng = random.Random(seed)
    ids = sorted(course.concepts, key=lambda c: course.concepts[c].level)
    qs_of = {c: [f"q-{c}-{j}" for j in range(3)] for c in ids}
    practice: dict[str, int] = {}
    rows = []
    frontier = 0
    for k in range(n):
        # learners mostly work near their frontier and sometimes revisit earlier concepts
        if rng.random() < 0.8:
            frontier = min(len(ids) - 1, frontier + (1 if rng.random() < 0.3 else 0))
            c = ids[max(0, frontier - rng.randint(0, 30))]
        else:
            c = ids[rng.randint(0, frontier)]
        q = rng.choice(qs_of[c])
        practice[c] = practice.get(c, 0) + 1
        p_right = min(0.95, 0.5 + 0.15 * practice[c])
        status = "correct" if rng.random() < p_right else rng.choice(["incorrect", "partial"])
        hints = 1 if rng.random() < 0.1 else 0
        ts = start + timedelta(minutes=3 * k)
        rows.append((learner_id, q, json.dumps(course.questions[q].concepts), "a", status,
                     1.0 if status == "correct" else 0.0, hints, 20.0, ts.isoformat(), None, None))
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO attempts(learner_id, item_id, concepts, answer, status, score, hints_used,"
            " duration_s, created_at, seed, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def naive_rebuild(engine: Any, learner: str) -> Any:
    """Baseline: fetch the log one attempt at a time (a query per attempt), then replay."""
    from tutor.engine.state import replay, replay_rows

    row = engine.learner(learner)
    attempts = [engine.store.attempt(i) for i in engine.store.attempt_ids(row.id)]
    return replay(row.id, engine.index, replay_rows(a for a in attempts if a is not None),
                  engine.store.events(row.id), engine.scheduler)


def _ms(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1000, s[min(len(s) - 1, int(len(s) * 0.95))] * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concepts", type=int, default=5000)
    ap.add_argument("--attempts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=100, help="samples for next/record")
    args = ap.parse_args(argv)

    from tutor.engine import Engine
    from tutor.store import Store

    t = time.perf_counter()
    course = synthetic_course(args.concepts, args.seed)
    t_course = time.perf_counter() - t
    tmp = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    store = Store(tmp / "bench.sqlite3")
    learner = "bench"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lid = store.learner(learner, today=start.date()).id
    t = time.perf_counter()
    log_attempts(store, course, lid, args.attempts, args.seed, start)
    # fold the bulk load's WAL into the database now, or the first timed commit pays for it
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t_load = time.perf_counter() - t
    engine = Engine(course, store, lang="en")
    now = start + timedelta(minutes=3 * args.attempts + 1)

    # rebuild
    rebuild_fast = []
    for _ in range(3):
        t = time.perf_counter()
        state = engine.rebuild(learner)
        rebuild_fast.append(time.perf_counter() - t)
    t = time.perf_counter()
    naive_state = naive_rebuild(engine, learner)
    rebuild_naive = time.perf_counter() - t
    assert naive_state.p_known == state.p_known, "baseline and engine disagree"
    mastered = len(state.ever_mastered)
    reviews = len(state.review_logs)

    # record and next, alternating as in a session (each record invalidates next's caches)
    class V:
        status = "correct"
        score = 1.0
        note = None

    rec_t: list[float] = []
    next_t: list[float] = []
    rec_cpu: list[float] = []
    next_cpu: list[float] = []
    for k in range(args.repeat):
        rec = engine.next_item(learner, now=now, today=now.date())
        qid = rec.id if rec.kind in ("question", "review") and rec.id else f"q-c{k}-0"
        t, c = time.perf_counter(), time.process_time()
        engine.record_attempt(learner, qid, "a", V(), now=now)
        rec_t.append(time.perf_counter() - t)
        rec_cpu.append(time.process_time() - c)
        engine._ready_cache.clear()  # worst case: recompute readiness of every concept
        t, c = time.perf_counter(), time.process_time()
        engine.next_item(learner, now=now, today=now.date())
        next_t.append(time.perf_counter() - t)
        next_cpu.append(time.process_time() - c)
        now += timedelta(minutes=2)

    naive_next: list[float] = []
    naive_rec: list[float] = []
    from tutor.store import AttemptIn

    for k in range(3):
        t = time.perf_counter()
        engine.rebuild(learner)
        engine.next_item(learner, now=now, today=now.date())
        naive_next.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.append_attempt(lid, AttemptIn(f"q-c{k}-1", [f"c{k}"], "a", "correct", 1.0,
                                            created_at=now))
        engine.rebuild(learner)
        naive_rec.append(time.perf_counter() - t)

    rb = min(rebuild_fast) * 1000
    nx50, nx95 = _ms(next_t)
    rc50, rc95 = _ms(rec_t)
    nxc = _ms(next_cpu)[1]
    rcc = _ms(rec_cpu)[1]
    rows = [
        ("rebuild all state (ms)", f"{rb:.0f}", f"{rebuild_naive * 1000:.0f}", "<= 2000",
         rb <= 2000),
        ("next after an answer, caches cleared: wall p50 / p95, CPU p95 (ms)",
         f"{nx50:.2f} / {nx95:.2f}, {nxc:.2f}",
         f"{statistics.median(naive_next) * 1000:.0f}", "<= 20", nx95 <= 20),
        ("record an attempt: wall p50 / p95, CPU p95 (ms)", f"{rc50:.2f} / {rc95:.2f}, {rcc:.2f}",
         f"{statistics.median(naive_rec) * 1000:.0f}", "<= 5", rc95 <= 5),
    ]
    print(f"synthetic course: {len(course.concepts)} concepts, {len(course.questions)} questions, "
          f"{len(course.days)} days, {len(course.labs)} labs (built in {t_course:.1f} s)")
    print(f"log: {store.count_attempts(lid)} attempts of one learner (bulk load {t_load:.1f} s); "
          f"state: {mastered} concepts mastered, {reviews} fsrs reviews")
    print()
    print("| operation | engine | naive baseline | target | ok |")
    print("|---|---|---|---|---|")
    for name, fast, naive, target, ok in rows:
        print(f"| {name} | {fast} | {naive} | {target} | {'yes' if ok else 'NO'} |")
    print()
    print("baselines: rebuild = one SELECT per attempt id; next = rebuild from the log, then "
          "choose; record = INSERT + commit, then rebuild from the log")
    print("wall p95 above CPU p95 = time spent waiting for a core (a loaded machine)")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
