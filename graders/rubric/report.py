"""The grading report and the 40/30/20/10 aggregation.

Buckets and weights come from the course's ``course.yaml`` (read with ``yaml.safe_load``, so
graders/ stays independent of tutor/). A bucket without evidence (no learner database for the
concepts bucket, a lab without analysis questions …) is reported as "no evidence" and left out of
the total, which is renormalised over the buckets that have evidence.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from graders.rubric.messages import msg

CheckStatus = Literal["pass", "fail", "error", "not_graded"]
ReportStatus = Literal["graded", "grader_error"]
BUCKETS: tuple[str, ...] = ("concepts", "implementation", "analysis", "innovation")
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
class BucketScore:
    """Score of one rubric bucket."""

    id: str
    """Bucket id."""
    weight: float
    """Weight in percent."""
    points: float
    """Points earned in the bucket."""
    max_points: float
    """Points available in the bucket."""
    evidence: bool
    """False = nothing to grade it on; left out of the total."""
    note: str = ""
    """Where the evidence came from, or why there is none."""

    @property
    def fraction(self) -> float:
        """Score in 0..1 (0 without evidence)."""
        return self.points / self.max_points if self.evidence and self.max_points > 0 else 0.0


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
    total: float
    """Weighted total, 0..100, over the buckets with evidence."""
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
        """JSON-ready form (non-finite numbers and odd types in details become strings)."""
        d = asdict(self)
        for b, src in zip(d["buckets"], self.buckets, strict=True):
            b["fraction"] = round(src.fraction, 6)
        clean = _jsonable(d)
        assert isinstance(clean, dict)
        return clean


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return str(obj)


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
    from graders.rubric.formula import weighted_total  # the one formula (docs/grading.md)

    return weighted_total(scores), scores


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
