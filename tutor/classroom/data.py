"""Reading a class: ``tutor export --format jsonl`` files, pyBKT CSVs or one progress database.

Export files come from learners, so they are read as hostile input: every file and line is
size-bounded, every record is type-checked and out-of-range values are dropped with a counted
warning, never trusted. One bad line never loses the rest of the class.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest export file read (bytes); a larger one is refused with a warning."""
MAX_LINE_BYTES = 256 * 1024
"""Longest JSON line read; longer lines are skipped."""
MAX_FILES = 10_000
"""Most export files in one report (a class of 200 learners × 8 labs fits easily)."""


class ClassDataError(Exception):
    """Nothing usable could be read (no file, or none parsed)."""


@dataclass(slots=True)
class Attempt:
    """One logged answer (the export's ``attempt`` record)."""

    learner: str
    """Learner name (made unique per file when two files use the same name)."""
    attempt_id: int
    """Order of the attempt within the learner's log."""
    item_id: str
    """Question id."""
    concepts: tuple[str, ...]
    """Concepts the question assesses."""
    answer: str
    """The answer text as given (for distractor rates; never executed)."""
    status: str
    """correct, partial, incorrect, invalid, …"""
    score: float
    """0..1."""
    hints_used: int
    """Hints revealed before answering."""
    duration_s: float | None
    """Seconds spent, when the front end measured it."""
    created_at: str | None
    """When it was recorded (ISO 8601 as exported; kept as text, the report does not need it)."""


@dataclass
class Learner:
    """Everything the class report needs of one learner."""

    name: str
    """Learner name."""
    attempts: list[Attempt] = field(default_factory=list)
    """Attempts in log order."""
    mastery: dict[str, float] = field(default_factory=dict)
    """P(known) per concept, as the engine computed it at export time."""
    mastery_state: dict[str, str] = field(default_factory=dict)
    """not_started / learning / mastered / needs_review per concept."""
    pacing: dict[str, Any] | None = None
    """plan_day, expected_day, days_ahead, hours_left, finished."""
    labs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Best grade report per lab: score (0..1), passed, buckets {id: fraction}."""


@dataclass
class ClassData:
    """A class: learners by name, plus what was skipped while reading."""

    learners: dict[str, Learner] = field(default_factory=dict)
    """Learners, in the order they were read."""
    warnings: list[str] = field(default_factory=list)
    """Files or lines that were skipped, and why (first 50)."""
    skipped_lines: int = 0
    """Lines that were not valid records."""

    def warn(self, text: str) -> None:
        if len(self.warnings) < 50:
            self.warnings.append(text)


def _str(v: Any, limit: int = 200) -> str | None:
    return v[:limit] if isinstance(v, str) else None


def _num(v: Any, lo: float, hi: float) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) and lo <= f <= hi else None


def _int(v: Any, lo: int, hi: int) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int):
        return None
    return v if lo <= v <= hi else None


def _time(v: Any) -> str | None:
    return v if isinstance(v, str) and len(v) <= 40 else None


def _attempt(rec: dict[str, Any], learner: str) -> Attempt | None:
    item = _str(rec.get("item_id"))
    aid = _int(rec.get("id"), 0, 2**53)
    score = _num(rec.get("score"), 0.0, 1.0)
    status = _str(rec.get("status"), 20)
    concepts = rec.get("concepts")
    if item is None or aid is None or score is None or status is None:
        return None
    if not isinstance(concepts, list) or any(not isinstance(c, str) for c in concepts[:50]):
        return None
    return Attempt(
        learner=learner, attempt_id=aid, item_id=item,
        concepts=tuple(c[:200] for c in concepts[:50]),
        answer=_str(rec.get("answer"), 500) or "", status=status, score=score,
        hints_used=_int(rec.get("hints_used"), 0, 1000) or 0,
        duration_s=_num(rec.get("duration_s"), 0.0, 7 * 86400.0),
        created_at=_time(rec.get("created_at")),
    )


def _records(text: str, where: str, data: ClassData) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            data.skipped_lines += 1
            data.warn(f"{where}:{n}: line longer than {MAX_LINE_BYTES // 1024} KiB skipped")
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            data.skipped_lines += 1
            data.warn(f"{where}:{n}: not a JSON object")
            continue
        if not isinstance(rec, dict):
            data.skipped_lines += 1
            data.warn(f"{where}:{n}: not a JSON object")
            continue
        yield rec


def add_jsonl(data: ClassData, text: str, where: str) -> None:
    """Add one learner's jsonl export (several learners in one file are fine too)."""
    renamed: dict[str, str] = {}
    seen_here: set[str] = set()
    for rec in _records(text, where, data):
        raw = _str(rec.get("learner"))
        if raw is None:
            data.skipped_lines += 1
            continue
        if raw not in seen_here:  # the same name in two files is two learners
            seen_here.add(raw)
            name, k = raw, 2
            while name in data.learners:
                name, k = f"{raw}#{k}", k + 1
            renamed[raw] = name
            data.learners[name] = Learner(name)
        learner = data.learners[renamed[raw]]
        kind = rec.get("type")
        if kind == "attempt":
            a = _attempt(rec, learner.name)
            if a is None:
                data.skipped_lines += 1
            else:
                learner.attempts.append(a)
        elif kind == "mastery":
            c, p = _str(rec.get("concept")), _num(rec.get("p_known"), 0.0, 1.0)
            if c is not None and p is not None:
                learner.mastery[c] = p
                learner.mastery_state[c] = _str(rec.get("state"), 20) or ""
            else:
                data.skipped_lines += 1
        elif kind == "pacing":
            ahead = _int(rec.get("days_ahead"), -10_000, 10_000)
            if ahead is not None:
                learner.pacing = {
                    "days_ahead": ahead,
                    "plan_day": _int(rec.get("plan_day"), 0, 10_000),
                    "expected_day": _int(rec.get("expected_day"), 0, 10_000),
                    "hours_left": _num(rec.get("hours_left"), 0.0, 1e6),
                    "finished": rec.get("finished") is True,
                }
            else:
                data.skipped_lines += 1
        elif kind == "lab" and not _add_lab(learner, rec):
            data.skipped_lines += 1
    for raw_name in seen_here:  # only this file's learners: sorting everyone is quadratic
        data.learners[renamed[raw_name]].attempts.sort(key=lambda a: a.attempt_id)


def _add_lab(learner: Learner, rec: dict[str, Any]) -> bool:
    lab = _str(rec.get("lab_id"), 40)
    score = _num(rec.get("score"), 0.0, 1.0)
    if lab is None or score is None:
        return False
    buckets: dict[str, float] = {}
    raw = rec.get("buckets")
    for b in raw[:10] if isinstance(raw, list) else []:
        if isinstance(b, dict) and isinstance(b.get("id"), str):
            f = _num(b.get("fraction"), 0.0, 1.0)
            if f is not None and b.get("evidence", True) is not False:
                buckets[b["id"][:20]] = f
    best = learner.labs.get(lab)
    if best is None or score >= best["score"]:
        learner.labs[lab] = {"score": score, "passed": rec.get("passed") is True,
                             "buckets": buckets}
    return True


def add_pybkt_csv(data: ClassData, text: str, where: str) -> None:
    """pyBKT's ``order_id,user_id,skill_name,correct`` (``tutor export --format pybkt``)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"user_id", "skill_name", "correct"} <= set(reader.fieldnames):
        data.warn(f"{where}: not a pyBKT CSV (needs user_id, skill_name, correct)")
        return
    for n, row in enumerate(reader, 2):
        user, skill, corr = row.get("user_id"), row.get("skill_name"), row.get("correct")
        try:
            order = int(row.get("order_id") or n)
            ok = int(corr or "")
        except ValueError:
            data.skipped_lines += 1
            continue
        if not user or not skill or ok not in (0, 1):
            data.skipped_lines += 1
            continue
        user = user.lstrip("'")[:200]
        learner = data.learners.setdefault(user, Learner(user))
        learner.attempts.append(Attempt(
            learner=user, attempt_id=order, item_id=f"{skill[:200]}#{order}",
            concepts=(skill[:200],), answer="", status="correct" if ok else "incorrect",
            score=float(ok), hints_used=0, duration_s=None, created_at=None))


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix in (".jsonl", ".csv", ".sqlite3")
                          and q.is_file() and not q.is_symlink())
        else:
            out.append(p)
    return out


def load_class(paths: Iterable[str | Path], course: Any = None) -> ClassData:
    """Read export files (``.jsonl``, pyBKT ``.csv``), folders of them, or a progress database
    (``.sqlite3`` / ``.db``: every learner in it is exported through the engine over ``course``)."""
    data = ClassData()
    files = _files(Path(p) for p in paths)
    if len(files) > MAX_FILES:
        raise ClassDataError(f"{len(files)} files: at most {MAX_FILES} in one report")
    for f in files:
        where = str(f)
        if f.suffix in (".sqlite3", ".sqlite", ".db"):
            if course is None:
                raise ClassDataError(f"{where}: reading a progress database needs the course")
            for text in _database_exports(f, course):
                add_jsonl(data, text, where)
            continue
        try:
            if f.stat().st_size > MAX_FILE_BYTES:
                data.warn(f"{where}: larger than {MAX_FILE_BYTES >> 20} MiB, skipped")
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            data.warn(f"{where}: {exc.strerror or exc}")
            continue
        if f.suffix == ".csv":
            add_pybkt_csv(data, text, where)
        else:
            add_jsonl(data, text, where)
    if not data.learners:
        why = "; ".join(data.warnings[:3]) or "no learner records"
        raise ClassDataError(f"no learner could be read ({why})")
    return data


def _database_exports(path: Path, course: Any) -> Iterator[str]:
    """Every learner of a progress database as a jsonl export (the instructor's own database)."""
    from tutor.engine import Engine
    from tutor.engine.export import export_text
    from tutor.store import Store, StoreError

    if not path.is_file():
        raise ClassDataError(f"{path}: no such database")
    try:
        store = Store(str(path))
    except StoreError as exc:
        raise ClassDataError(f"{path}: {exc}") from None
    try:
        engine = Engine(course, store)
        for row in store.learners():
            yield export_text(engine, row.name, "jsonl")
    finally:
        store.close()
