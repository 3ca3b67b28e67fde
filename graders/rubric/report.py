"""The grading report and the 40/30/20/10 aggregation.

Buckets and weights come from the course's ``course.yaml`` (read with ``yaml.safe_load``, so
graders/ stays independent of tutor/). A bucket without evidence (no learner database for the
concepts bucket, a lab without analysis questions …) is reported as "no evidence" and left out of
the total, which is renormalised over the buckets that have evidence.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from graders.rubric.formula import BUCKETS, BucketScore, weighted_total
from graders.rubric.messages import msg

CheckStatus = Literal["pass", "fail", "error", "not_graded"]
ReportStatus = Literal["graded", "grader_error"]
DEFAULT_WEIGHTS: dict[str, float] = {
    "concepts": 40.0, "implementation": 30.0, "analysis": 20.0, "innovation": 10.0}
"""The seed's rubric, used when no course.yaml is given."""


@dataclass
class CheckLine:
    """One graded item of the report (a lab check, an analysis question, the design)."""

    id: str
    """Check id, unique in the report."""
    title: str
    """Short title."""
    bucket: str
    """Rubric bucket."""
    points: float
    """Points earned."""
    max_points: float
    """Points available."""
    status: CheckStatus
    """pass / fail / error (could not be evaluated: scored 0) / not_graded (excluded)."""
    message: str = ""
    """Why, for the learner."""
    details: dict[str, Any] = field(default_factory=dict)
    """Recomputed figures behind the verdict."""


@dataclass
class RunInfo:
    """How the sandboxed run went."""

    returncode: int | None = None
    """Exit code of the submission (negative: killed by that signal)."""
    timed_out: bool = False
    """The wall-clock limit was hit."""
    killed_reason: str | None = None
    """timeout, cpu, memory, file-size, disk, signal N."""
    wall_s: float = 0.0
    """Seconds the run took."""
    max_rss_kb: int = 0
    """Peak resident memory of the run, KiB."""
    isolation: str = ""
    """Sandbox isolation in effect."""
    notes: list[str] = field(default_factory=list)
    """Sandbox notes (hidden paths, leftovers killed, refused files)."""
    stdout_tail: str = ""
    """The last lines of the submission's stdout (what it printed is never trusted)."""
    stderr_tail: str = ""
    """The last lines of its stderr."""


@dataclass
class Report:
    """The result of grading one submission."""

    lab_id: str
    """Lab graded."""
    submission: str
    """Submission name (its directory name)."""
    status: ReportStatus
    """graded (whatever the score) or grader_error (the grader broke; not the learner's fault)."""
    total: float | None
    """Weighted total, 0..100, over the buckets with evidence; None when status is
    grader_error (a run the grader could not perform is never scored)."""
    buckets: list[BucketScore]
    """Per-bucket scores in rubric order."""
    checks: list[CheckLine]
    """Every graded item."""
    run: RunInfo = field(default_factory=RunInfo)
    """The sandboxed run."""
    messages: list[str] = field(default_factory=list)
    """Report-level messages (why the run failed, what was refused)."""
    seed: int = 0
    """Seed handed to the lab."""
    execution_time: float = 0.0
    """Seconds spent grading, run included."""
    grader_version: str = ""
    """graders.__version__."""
    lang: str = "en"
    """Language of the messages (en or zh-TW)."""

    def bucket(self, bucket_id: str) -> BucketScore:
        """The bucket with this id."""
        return next(b for b in self.buckets if b.id == bucket_id)

    @property
    def summary_message(self) -> str:
        """One line for the gradebook."""
        if self.messages:
            return self.messages[0]
        failed = [c.id for c in self.checks if c.status in ("fail", "error")]
        return f"failed: {', '.join(failed)}" if failed else "all checks passed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: non-finite numbers and odd types become strings, strings are made
        safe (see :func:`safe_text`), and nothing recurses on data a submission shaped (a
        600-deep list in ``details`` is cut at :data:`MAX_DETAIL_DEPTH`)."""
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["buckets"] = [{**{f.name: getattr(b, f.name) for f in fields(b)},
                         "fraction": round(b.fraction, 6)} for b in self.buckets]
        d["checks"] = [{f.name: getattr(c, f.name) for f in fields(c)} for c in self.checks]
        d["run"] = {f.name: getattr(self.run, f.name) for f in fields(self.run)}
        clean = jsonable(d)
        assert isinstance(clean, dict)
        return clean


MAX_DETAIL_DEPTH = 12
"""Nesting kept in a report's data; deeper containers are replaced by a marker."""
MAX_DETAIL_ITEMS = 10_000
"""Containers and values kept in all; the rest is replaced by a marker."""
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")
"""C0 (but tab and newline) and C1 controls (U+009B is an 8-bit CSI), bidi controls, and
lone surrogates (a file name that is not UTF-8): never raw in a report."""


def safe_text(text: str) -> str:
    """``text`` with every :data:`_UNSAFE` character written as a visible ``\\uXXXX`` escape,
    so that a report is valid UTF-8 and shows what a submission tried."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def jsonable(obj: Any) -> Any:
    """A JSON-ready copy of ``obj``, built with an explicit stack (no recursion), at most
    :data:`MAX_DETAIL_DEPTH` deep and :data:`MAX_DETAIL_ITEMS` items; containers are never
    passed to ``str`` (whose repr would recurse)."""
    budget = [MAX_DETAIL_ITEMS]

    def leaf(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return v if abs(v) < 2**63 else safe_text(f"<integer of {v.bit_length()} bits>")
        if isinstance(v, float):
            return v if math.isfinite(v) else str(v)
        if isinstance(v, str):
            return safe_text(v[:100_000])
        if isinstance(v, (dict, list, tuple, set)):
            return "<too deep>"
        return safe_text(str(v)[:1000])

    def container(v: Any, depth: int) -> Any:
        """A fresh empty container for ``v`` (or a leaf), and its items to fill in."""
        budget[0] -= 1
        if budget[0] < 0:
            return "<cut>", []
        if isinstance(v, dict) and depth < MAX_DETAIL_DEPTH:
            items = [(safe_text(k if isinstance(k, str) else str(leaf(k))), x)
                     for k, x in v.items()]
            out_d: dict[str, Any] = dict.fromkeys(k for k, _ in items)  # keeps the key order
            return out_d, [(out_d, k, x) for k, x in items]
        if isinstance(v, (list, tuple)) and depth < MAX_DETAIL_DEPTH:
            out_l: list[Any] = [None] * len(v)
            return out_l, [(out_l, i, x) for i, x in enumerate(v)]
        return leaf(v), []

    top, todo = container(obj, 0)
    stack = [(item, 1) for item in todo]
    while stack:
        (parent, key, value), depth = stack.pop()
        made, items = container(value, depth)
        parent[key] = made
        stack += [(item, depth + 1) for item in items]
    return top


def load_weights(course_yaml: Path | None) -> dict[str, float]:
    """Bucket weights from course.yaml's ``rubric.buckets`` (the seed's 40/30/20/10 if absent)."""
    if course_yaml is None:
        return dict(DEFAULT_WEIGHTS)
    import yaml

    path = Path(course_yaml)
    if path.is_dir():
        path = path / "course.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        buckets = raw["rubric"]["buckets"]
        weights = {str(b["id"]): float(b["weight"]) for b in buckets}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot read the rubric from {path}: {exc}") from None
    unknown = set(weights) - set(BUCKETS)
    if unknown or sum(weights.values()) <= 0:
        raise ValueError(f"bad rubric in {path}: buckets {sorted(weights)}")
    return weights


def aggregate(checks: list[CheckLine], weights: dict[str, float],
              no_evidence: dict[str, str] | None = None,
              lang: str = "en") -> tuple[float, list[BucketScore]]:
    """Bucket scores and the weighted total (0..100) over the buckets with evidence."""
    no_evidence = no_evidence or {}
    scores: list[BucketScore] = []
    for bid in BUCKETS:
        if bid not in weights:
            continue
        lines = [c for c in checks if c.bucket == bid and c.status != "not_graded"]
        maxp = sum(c.max_points for c in lines)
        evidence = bool(lines) and maxp > 0 and bid not in no_evidence
        note = no_evidence.get(bid, "" if evidence else msg("no_evidence", lang))
        scores.append(BucketScore(id=bid, weight=weights[bid],
                                  points=round(sum(c.points for c in lines), 6),
                                  max_points=round(maxp, 6), evidence=evidence, note=note))
    return weighted_total(scores), scores  # the one formula (docs/grading.md)


def mastery_evidence(mastery: Mapping[str, Mapping[str, Any]], concepts: list[str],
                     max_points: float = 10.0, lang: str = "en") -> list[CheckLine]:
    """Evidence for the concepts bucket from the adaptive engine's mastery (BKT), as computed by
    the tutor (``{concept: {"p_known": float, "state": str}}``): a mastered concept earns its
    full share, any other its P(known). Preferred over ``concept_evidence``, which can only
    average raw quiz scores."""
    lines = []
    each = max_points / max(1, len(concepts))
    for cid in concepts:
        entry = mastery.get(cid) or {}
        p = entry.get("p_known")
        state = str(entry.get("state", "not_started"))
        p_known = max(0.0, min(1.0, float(p))) if isinstance(p, (int, float)) else 0.0
        frac = 1.0 if state in ("mastered", "needs_review") else p_known
        lines.append(CheckLine(
            id=f"quiz-{cid}", title=msg("quiz_title", lang, cid=cid), bucket="concepts",
            points=round(each * frac, 4), max_points=round(each, 4),
            status="pass" if frac >= 1.0 else "fail",
            message=msg("mastery_seen", lang, p=p_known, state=state),
            details={"p_known": round(p_known, 4), "state": state}))
    return lines


def concept_evidence(db_path: Path, concepts: list[str], learner: str | None,
                     max_points: float = 10.0,
                     lang: str = "en") -> tuple[list[CheckLine], str | None]:
    """Quiz evidence for the concepts bucket from the progress database, opened read-only.

    Per concept: the mean score of the learner's last five attempts on items of that concept.
    Returns (lines, None) or ([], reason there is no evidence).
    """
    path = Path(db_path)
    if not path.is_file():
        return [], msg("db_missing", lang, path=path)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error as exc:
        return [], msg("db_unreadable", lang, why=exc)
    try:
        if learner:
            row = con.execute("SELECT id FROM learners WHERE name = ?", (learner,)).fetchone()
        else:
            row = con.execute("SELECT id FROM learners ORDER BY id LIMIT 1").fetchone()
        if row is None:
            return [], (msg("no_learner", lang, name=learner) if learner
                        else msg("no_learners", lang))
        rows = con.execute(
            "SELECT concepts, score FROM attempts WHERE learner_id = ? ORDER BY id DESC",
            (row[0],)).fetchall()
    except sqlite3.Error:
        return [], msg("no_schema", lang)
    finally:
        con.close()
    per: dict[str, list[float]] = {c: [] for c in concepts}
    for raw, score in rows:
        try:
            ids = json.loads(raw)
        except (TypeError, ValueError):
            continue
        for cid in ids if isinstance(ids, list) else []:
            if cid in per and len(per[cid]) < 5 and isinstance(score, (int, float)):
                per[cid].append(max(0.0, min(1.0, float(score))))
    lines = []
    each = max_points / max(1, len(concepts))
    for cid in concepts:
        got = per[cid]
        frac = sum(got) / len(got) if got else 0.0
        lines.append(CheckLine(
            id=f"quiz-{cid}", title=msg("quiz_title", lang, cid=cid), bucket="concepts",
            points=round(each * frac, 4), max_points=round(each, 4),
            status="pass" if frac >= 0.8 else "fail",
            message=(msg("quiz_seen", lang, n=len(got), mean=frac) if got
                     else msg("quiz_none", lang)),
            details={"attempts": len(got), "mean": round(frac, 4)}))
    return lines, None
