"""Export a learner's logs: ``csv`` (the raw attempt log), ``jsonl`` (attempts, events and the
fsrs review logs, one JSON object per line with a ``type``, then the engine's summary at export
time: ``mastery`` per concept, ``pacing`` and ``lab`` grade reports, which ``tutor class report``
reads), ``pybkt`` (the BKT observations the
engine used, in pyBKT's columns ``order_id,user_id,skill_name,correct``: one row per first
attempt and concept, after resets; a hint counts as 0).

Exports never hide anything the learner reset: csv and jsonl carry every logged attempt; only
the pyBKT file, which feeds a model fit, is limited to the evidence that counts.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from tutor.engine.engine import Engine, observations_for_export

ExportFormat = Literal["csv", "jsonl", "pybkt"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "pybkt")
"""Supported export formats."""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection): text that
    starts like a formula gets a leading apostrophe. The jsonl export stays byte-faithful."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_text(engine: Engine, learner: str, fmt: ExportFormat | str) -> str:
    """The learner's log in ``fmt`` (csv, jsonl, pybkt) as text (see the module docstring)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    row = engine.learner(learner)
    buf = io.StringIO()
    if fmt == "csv":
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["attempt_id", "learner", "item_id", "concepts", "answer", "status", "score",
                    "hints_used", "duration_s", "created_at", "seed", "note"])
        for a in engine.store.attempts(row.id):
            w.writerow([_cell(v) for v in (
                a.id, learner, a.item_id, ";".join(a.concepts), a.answer, a.status, a.score,
                a.hints_used, "" if a.duration_s is None else a.duration_s,
                a.created_at.isoformat(), "" if a.seed is None else a.seed, a.note or "")])
    elif fmt == "pybkt":
        _, obs = observations_for_export(engine, learner)
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["order_id", "user_id", "skill_name", "correct"])
        for o in obs:
            if o.counted:
                w.writerow([o.attempt_id, _cell(learner), o.concept, int(o.correct)])
    else:
        state, _ = observations_for_export(engine, learner)
        for a in engine.store.attempts(row.id):
            buf.write(json.dumps({
                "type": "attempt", "id": a.id, "learner": learner, "item_id": a.item_id,
                "concepts": list(a.concepts), "answer": a.answer, "status": a.status,
                "score": a.score, "hints_used": a.hints_used, "duration_s": a.duration_s,
                "created_at": a.created_at.isoformat(), "seed": a.seed, "note": a.note,
            }, ensure_ascii=False) + "\n")
        for e in engine.store.events(row.id):
            buf.write(json.dumps({
                "type": "event", "id": e.id, "learner": learner, "kind": e.kind,
                "item_id": e.item_id, "payload": e.payload, "created_at": e.created_at.isoformat(),
                "after_attempt": e.after_attempt,
            }, ensure_ascii=False) + "\n")
        for concept, log in state.review_logs:
            d = dict(log.to_dict())
            buf.write(json.dumps({"type": "review", "learner": learner, "concept": concept, **d},
                                 ensure_ascii=False) + "\n")
        _write_summary(buf, engine, learner)
    return buf.getvalue()


def _write_summary(buf: io.StringIO, engine: Engine, learner: str) -> None:
    """The engine's view at export time: what ``tutor class report`` aggregates over a class."""
    def line(obj: dict[str, object]) -> None:
        buf.write(json.dumps(obj, ensure_ascii=False) + "\n")

    for c in engine.mastery(learner).values():
        line({"type": "mastery", "learner": learner, "concept": c.concept,
              "p_known": round(c.p_known, 6), "state": c.state, "attempts": c.attempts})
    pace = engine.pacing(learner)
    line({"type": "pacing", "learner": learner, "plan_day": pace.plan_day,
          "expected_day": pace.expected_day, "days_ahead": pace.days_ahead,
          "hours_left": pace.hours_left, "finished": pace.finished,
          "start_date": pace.start_date.isoformat()})
    for r in engine.store.grade_reports(engine.learner(learner).id):
        line({"type": "lab", "learner": learner, "lab_id": r.lab_id, "score": r.score,
              "passed": r.passed, "created_at": r.created_at.isoformat(),
              "buckets": _bucket_fractions(r.payload)})


def _bucket_fractions(payload: object) -> list[dict[str, object]]:
    """Rubric-bucket fractions of a stored grade report: its ``buckets`` when it has them (a
    `tutor grade` report), else summed from its ``checks`` (a `tutor lab check` / app run)."""
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("buckets"), list):
        return [{"id": b.get("id"), "fraction": b.get("fraction"), "evidence": b.get("evidence")}
                for b in payload["buckets"] if isinstance(b, dict)]
    sums: dict[str, list[float]] = {}
    for c in payload.get("checks") or []:
        if not isinstance(c, dict) or not isinstance(c.get("bucket"), str):
            continue
        try:
            got, top = float(c.get("points") or 0), float(c.get("max_points") or 0)
        except (TypeError, ValueError):
            continue
        acc = sums.setdefault(c["bucket"], [0.0, 0.0])
        acc[0] += got
        acc[1] += top
    return [{"id": b, "fraction": round(got / top, 6), "evidence": True}
            for b, (got, top) in sums.items() if top > 0]
