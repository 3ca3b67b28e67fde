"""The lab grading pipeline: one submission (or a batch) in, a rubric report out.

copy the allowlisted files (symlinks refused) → run the lab in the sandbox → make sure every
process of the run is dead → snapshot the artifacts (hash, re-verify) → lab checks recompute
every figure from the snapshot in the grader → analysis answers (graders.answers) → design
challenge (graders.estimate) → quiz evidence (read-only learner database) → rubric.

"The submission failed" (timeout, crash, missing or fake artifacts) is a graded report with low
points and messages; "the grader broke" is a report with ``status = "grader_error"``. Both are
always returned; only a bad lab id raises (``LookupError``).
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graders
from graders.rubric.messages import msg
from graders.rubric.report import (
    CheckLine,
    Report,
    RunInfo,
    aggregate,
    concept_evidence,
    load_weights,
    mastery_evidence,
)
from graders.rubric.writers import render
from graders.sandbox import (
    Limits,
    SandboxError,
    copy_allowlisted,
    hash_tree,
    run_sandboxed,
    snapshot_tree,
)

ChecksFn = Callable[..., list[Any]]
"""``run_checks(spec, out_dir, submission_dir, heldout, seed) -> list[CheckResult]``."""

_PKG_ROOT = Path(graders.__file__).resolve().parent
_REPO = _PKG_ROOT.parent
ANSWER_FILES = ("answers.yaml", "answers.yml", "answers.json")
DESIGN_FILES = ("design.yaml", "design.yml", "design.json")
_MAX_DOC = 64 * 1024
"""Largest answers/design file the grader reads (bytes)."""
_EXT = {"json": "json", "gradescope": "json", "junit": "xml", "md": "md"}


class GraderError(Exception):
    """The grader could not produce a report at all (bad output path, unreadable lab)."""


# ----------------------------------------------------------------------------------------------
# locating labs and their data
# ----------------------------------------------------------------------------------------------


def _data_roots() -> list[Path]:
    return [_REPO, _PKG_ROOT.parent / "tutor" / "_data"]


def _exercises_roots(curriculum: str | Path | None) -> list[Path]:
    roots: list[Path] = []
    if curriculum:
        course = Path(curriculum)
        try:
            import yaml

            raw = yaml.safe_load((course / "course.yaml").read_text(encoding="utf-8"))
            rel = raw.get("exercises_dir", "../../exercises") if isinstance(raw, dict) else None
            if isinstance(rel, str):
                roots.append((course / rel).resolve())
        except (OSError, ValueError, AttributeError):
            pass
    roots += [r / "exercises" for r in _data_roots()]
    return roots


def resolve_lab(lab: str | Path, curriculum: str | Path | None = None) -> Path:
    """A lab directory from a lab id (``lab-1.1``) or a path to a directory with lab.yaml."""
    p = Path(lab)
    if (p / "lab.yaml").is_file():
        return p.resolve()
    from graders.labs.spec import LabSpecError, find_labs

    for root in _exercises_roots(curriculum):
        try:
            labs = find_labs(root)
        except LabSpecError as exc:
            raise LookupError(str(exc)) from None
        if str(lab) in labs:
            return labs[str(lab)][0].resolve()
    raise LookupError("no such lab (give an id such as lab-1.1 or a directory with lab.yaml)")


def _find(rel: str | None, candidates: list[Path]) -> Path | None:
    if not rel:
        return None
    for base in candidates:
        if (base / rel).exists():
            return (base / rel).resolve()
    return None


def _course_yaml(curriculum: str | Path | None) -> Path | None:
    if curriculum:
        return Path(curriculum) / "course.yaml"
    for root in _data_roots():
        p = root / "curriculum" / "core-training-techniques" / "course.yaml"
        if p.is_file():
            return p
    return None


# ----------------------------------------------------------------------------------------------
# reading what the submission hands in as data (answers, design): never executed
# ----------------------------------------------------------------------------------------------


def _read_doc(submission: Path, names: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
    """The first of ``names`` in ``submission``, parsed safely; (mapping or None, problem)."""
    for name in names:
        path = submission / name
        if not os.path.lexists(path):
            continue
        if path.is_symlink() or not path.is_file():
            return None, f"{name}: not a regular file (symlinks are refused)"
        if path.stat().st_size > _MAX_DOC:
            return None, f"{name}: larger than {_MAX_DOC // 1024} KiB"
        text = path.read_text(encoding="utf-8", errors="replace")
        import yaml

        try:
            data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
        except (ValueError, RecursionError, yaml.YAMLError) as exc:
            return None, f"{name}: cannot be parsed ({type(exc).__name__})"
        if not isinstance(data, dict):
            return None, f"{name}: the top level must be a mapping"
        return data, ""
    return None, "missing"


def _bank_question(qid: str, course_yaml: Path | None) -> Any:
    """The question ``qid`` from the course's question bank (None if not found)."""
    if course_yaml is None:
        return None
    import yaml

    from graders.answers.schema import Question

    for f in sorted((course_yaml.parent / "questions").glob("*.yaml")):
        try:
            raw = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        items = raw.get("questions", []) if isinstance(raw, dict) else raw
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("id") == qid:
                return Question.model_validate(item)
    return None


def _analysis_lines(spec: Any, submission: Path, course_yaml: Path | None, seed: int,
                    lang: str) -> list[CheckLine]:
    if not spec.analysis:
        return []
    answers, problem = _read_doc(submission, ANSWER_FILES)
    lines: list[CheckLine] = []
    bounded: Callable[..., Any] | None
    try:
        from graders.answers import grade as bounded  # bounded in time and memory
    except ImportError:
        bounded = None
    for q in spec.analysis:
        title = q.prompt.get(lang)[:80] if q.prompt else q.id
        base = {"id": f"analysis-{q.id}", "title": title, "bucket": "analysis",
                "max_points": float(q.points)}
        given = answers.get(q.id) if answers else None
        if q.prompt is not None:  # person-graded: never part of the automatic total
            has = isinstance(given, (str, int, float)) and bool(str(given).strip())
            lines.append(CheckLine(**base, points=0.0, status="not_graded",
                                   message=msg("person", lang) if has else msg("person_missing", lang)))
            continue
        if answers is None:
            why = msg("no_answers", lang) if problem == "missing" else problem
            lines.append(CheckLine(**base, points=0.0, status="fail", message=why))
            continue
        if not isinstance(given, (str, int, float)) or not str(given).strip():
            lines.append(CheckLine(**base, points=0.0, status="fail",
                                   message=msg("no_answer", lang)))
            continue
        question = _bank_question(q.id, course_yaml)
        if question is None or bounded is None:
            why = msg("not_in_bank", lang) if question is None else msg("no_bounded", lang)
            lines.append(CheckLine(**base, points=0.0, status="not_graded", message=why))
            continue
        try:
            verdict = bounded(question, str(given)[:4000], seed=seed, lang=lang)
            score = max(0.0, min(1.0, float(verdict.score)))
            lines.append(CheckLine(
                **base, points=round(score * q.points, 4),
                status="pass" if score >= 0.999 else "fail",
                message=f"{verdict.status}: {verdict.feedback}"[:500],
                details={"status": verdict.status, "score": score}))
        except Exception as exc:  # noqa: BLE001 - a grader bug must not sink the report
            lines.append(CheckLine(**base, points=0.0, status="not_graded",
                                   message=msg("answer_error", lang, name=type(exc).__name__)))
    return lines


_DESIGN_KEYS = {
    "method": str, "gpus": int, "precision": str, "optimizer": str, "zero": int,
    "offload": str, "rank": int, "lora_targets": str, "batch": int, "seq_len": int,
    "gradient_checkpointing": bool, "flash_attention": bool,
}


def _first_sentence(text: str, limit: int = 80) -> str:
    """A report title from a prompt: its first sentence, cut at a word if still too long."""
    m = re.match(r"(.+?(?:[.!?](?=\s|$)|[。！？]))", text.strip())
    first = m.group(1) if m else text.strip()
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def _design_line(spec: Any, submission: Path, lang: str = "en") -> list[CheckLine]:
    dc = spec.design_challenge
    if dc is None:
        return []
    from graders.estimate import GB, EstimateError, Setup, estimate

    base: dict[str, Any] = {"id": "design-challenge",
                            "title": _first_sentence(dc.prompt.get(lang)),
                            "bucket": "innovation", "max_points": float(dc.points)}
    design, problem = _read_doc(submission, DESIGN_FILES)
    if design is None:
        why = msg("no_design", lang) if problem == "missing" else problem
        return [CheckLine(**base, points=0.0, status="fail", message=why)]
    cons = dc.constraints
    try:
        params_b = float(cons.get("model_params_b", design.get("params_b", 0)))
        mem = float(cons.get("gpu_memory_gb", 80))
        max_gpus = int(cons.get("gpus", 1))
    except (TypeError, ValueError):
        return [CheckLine(**base, points=0.0, status="error",
                          message=msg("bad_constraints", lang))]
    kwargs: dict[str, Any] = {}
    for key, typ in _DESIGN_KEYS.items():
        if key in design:
            value = design[key]
            if typ is int and isinstance(value, bool) or not isinstance(value, typ):
                return [CheckLine(**base, points=0.0, status="fail",
                                  message=msg("bad_field", lang, key=key, typ=typ.__name__))]
            kwargs[key] = value
    try:
        est = estimate(Setup(params=params_b * 1e9, **kwargs))
    except (EstimateError, TypeError) as exc:
        return [CheckLine(**base, points=0.0, status="fail", message=msg("impossible", lang, why=exc))]
    gb = est.gpu_bytes / GB
    gpus_ok = est.setup["gpus"] <= max_gpus
    fits = gb <= mem and gpus_ok
    claimed = design.get("estimated_gb")
    claim_ok = (isinstance(claimed, (int, float)) and not isinstance(claimed, bool)
                and gb > 0 and abs(float(claimed) - gb) <= 0.15 * gb)
    points = dc.points * ((0.7 if fits else 0.0) + (0.3 if fits and claim_ok else 0.0))
    text = msg("design", lang, gb=gb, gpus=est.setup["gpus"], mem=mem, max_gpus=max_gpus,
               verdict=msg("fits" if fits else "no_fit", lang))
    if not gpus_ok:
        text += msg("too_many_gpus", lang)
    if fits and not claim_ok:
        text += msg("claim_off", lang)
    return [CheckLine(**base, points=round(points, 4), status="pass" if points >= dc.points
                      else "fail", message=text,
                      details={"estimated_gb": round(gb, 3), "claimed_gb": claimed})]


# ----------------------------------------------------------------------------------------------
# the pipeline
# ----------------------------------------------------------------------------------------------


def _default_checks() -> ChecksFn:
    from graders.labs.checks import run_checks

    return run_checks


def _tail(text: str, n: int = 2000) -> str:
    return text[-n:]


def _lines_from_checks(spec: Any, results: list[Any], lang: str) -> list[CheckLine]:
    lines: list[CheckLine] = []
    seen: set[str] = set()
    for r in results:
        cid = str(getattr(r, "id", "?"))
        seen.add(cid)
        try:
            title = spec.check(cid).title.get(lang)
        except KeyError:
            title = cid
        status = str(getattr(r, "status", "error"))
        if status not in ("pass", "fail", "error", "not_graded"):
            status = "error"
        text_fn = getattr(r, "text", None)
        message = text_fn(lang) if callable(text_fn) else getattr(r, "message", "")
        points = float(getattr(r, "points", 0.0) or 0.0)
        maxp = float(getattr(r, "max_points", 0.0) or 0.0)
        lines.append(CheckLine(
            id=cid, title=title, bucket=str(getattr(r, "bucket", "implementation")),
            points=max(0.0, min(points, maxp)), max_points=maxp, status=status,  # type: ignore[arg-type]
            message=str(message)[:1000],
            details=dict(getattr(r, "details", {}) or {})))
    for c in spec.checks:  # a check that did not report scores 0
        if c.id not in seen:
            lines.append(CheckLine(id=c.id, title=c.title.get(lang), bucket=c.bucket, points=0.0,
                                   max_points=float(c.points), status="error",
                                   message=msg("no_result", lang)))
    return lines


def _zero_lines(spec: Any, message: str, lang: str, status: str = "fail") -> list[CheckLine]:
    return [CheckLine(id=c.id, title=c.title.get(lang), bucket=c.bucket, points=0.0,
                      max_points=float(c.points), status=status,  # type: ignore[arg-type]
                      message=message)
            for c in spec.checks]


def _call_checks(fn: ChecksFn, spec: Any, snap: Path, pristine: Path, heldout: Path | None,
                 seed: int, data_dir: Path | None, **more: Any) -> list[Any]:
    """Call the lab's checks; hand over the grader's data directory, the lab directory and the
    probe outputs when the checker takes them."""
    try:
        takes = set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        takes = set()
    kwargs = {k: v for k, v in {"data_dir": data_dir, **more}.items() if k in takes}
    return list(fn(spec, snap, pristine, heldout, seed, **kwargs))


def grade_submission(
    submission_dir: Path | str,
    lab: Path | str,
    *,
    seed: int = 0,
    learner_db: Path | str | None = None,
    learner: str | None = None,
    concept_mastery: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
    curriculum: Path | str | None = None,
    checks_fn: ChecksFn | None = None,
    limits: Limits | None = None,
    lang: str = "en",
    keep_dir: Path | None = None,
) -> Report:
    """Grade one submission of ``lab`` (an id or a lab directory). Never raises for anything the
    submission does; a bad lab id raises ``LookupError``."""
    t0 = time.monotonic()
    submission = Path(submission_dir)
    lab_dir = resolve_lab(lab, curriculum)
    from graders.labs.spec import LabSpecError, load_lab

    try:
        spec = load_lab(lab_dir)
    except LabSpecError as exc:
        raise LookupError(str(exc)) from None
    course_yaml = _course_yaml(curriculum)
    name = submission.name or str(submission)
    messages: list[str] = []
    run_info = RunInfo()
    no_evidence: dict[str, str] = {}
    base = Path(tempfile.mkdtemp(prefix="tutor-grade-"))
    try:
        weights = load_weights(course_yaml)
        lines: list[CheckLine] = []
        # 1. allowlisted copy, pristine (what the checks see) and the run directory
        pristine = base / "submission"
        run_dir = base / "run"
        pristine.mkdir()
        run_dir.mkdir()
        if not submission.is_dir() or submission.is_symlink():
            messages.append(msg("not_dir", lang))
            copied = None
        else:
            copied = copy_allowlisted(submission, pristine, spec.submission_files)
            messages += [msg("refused", lang, what=r) for r in copied.refused]
        shutil.copytree(pristine, run_dir, dirs_exist_ok=True)
        from graders.labs.launch import launch_argv, launcher_files
        from graders.labs.spec import run_files

        for rel, src in {**run_files(spec, lab_dir), **launcher_files(spec)}.items():
            if src.is_file():  # shared + common files and the rank launcher: always the course's
                (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, run_dir / rel)
        (run_dir / "out").mkdir(exist_ok=True)
        data_dir = _find(spec.data, [r / "content" / "data" for r in _data_roots()] + [lab_dir])
        heldout = _find(spec.heldout, [_PKG_ROOT / "labs" / "data", lab_dir])
        if spec.heldout and heldout is None:
            raise SandboxError(f"held-out file {spec.heldout} not found")
        # 2. the sandboxed run
        if copied is None or spec.entry not in copied.copied:
            messages.insert(0, msg("no_entry", lang, entry=spec.entry))
            lines += _zero_lines(spec, msg("not_run", lang, entry=spec.entry), lang)
        else:
            wall = float(timeout or (limits.wall_s if limits else spec.time_budget_s))
            # RLIMIT_CPU counts every thread of a process: allow the lab's threads (+1 for
            # torch's helpers) busy for the whole wall-clock budget
            cpu = int(wall * (spec.cpu_threads + 1)) + 5
            base_lim = limits or Limits(memory_mb=spec.memory_mb, disk_mb=512)
            lim = Limits(**{**base_lim.__dict__, "wall_s": wall,
                            "cpu_s": base_lim.cpu_s if limits and not timeout else cpu})
            env = dict(spec.env)
            env["OMP_NUM_THREADS"] = str(spec.cpu_threads)
            run_args = ["--out", "out", "--seed", str(seed)]
            inputs: dict[str, Path] = {}
            if data_dir is not None:
                run_args += ["--data", "data"]
                inputs["data"] = data_dir
            cmd = launch_argv(spec, sys.executable, spec.entry, run_args)
            hide = [lab_dir, _REPO / "tests", _REPO / "exercises", _PKG_ROOT / "labs" / "data",
                    submission.resolve()]
            if heldout is not None:
                hide.append(heldout)
            if learner_db:
                hide.append(Path(learner_db))
            res = run_sandboxed(cmd, run_dir, limits=lim, env=env, readonly_inputs=inputs,
                                hide=hide)
            run_info = RunInfo(returncode=res.returncode, timed_out=res.timed_out,
                               killed_reason=res.killed_reason, wall_s=res.wall_s,
                               max_rss_kb=res.max_rss, isolation=res.isolation, notes=res.notes,
                               stdout_tail=_tail(res.stdout), stderr_tail=_tail(res.stderr))
            if res.timed_out:
                messages.insert(0, msg("timeout", lang, s=lim.wall_s))
            elif res.killed_reason:
                messages.insert(0, msg("killed", lang, reason=res.killed_reason))
            elif res.returncode != 0:
                last = res.stderr.strip().splitlines()[-1:] or [""]
                messages.insert(0, msg("exit", lang, rc=res.returncode, last=last[0][:200]))
            # 3. every process is dead (run_sandboxed guarantees it); snapshot, then re-verify
            snap = base / "snapshot"
            hashes = snapshot_tree(run_dir / "out", snap)
            time.sleep(0.05)
            if hash_tree(run_dir / "out") != hashes:
                messages.append(msg("changed", lang))
            # 4. probes: the learner's own code, inside the sandbox, on a fresh secrets seed
            probes = None
            if spec.probes:
                from graders.labs.probing import run_sandboxed_probes

                probes = run_sandboxed_probes(spec, lab_dir, pristine, base / "probes", base=base,
                                              env=env, memory_mb=lim.memory_mb, hide=hide)
            # 5. lab checks on the snapshot, in the grader
            fn = checks_fn or _default_checks()
            try:
                results = _call_checks(fn, spec, snap, pristine, heldout, seed, data_dir,
                                       lab_dir=lab_dir, probes=probes)
                lines += _lines_from_checks(spec, results, lang)
            except Exception as exc:  # noqa: BLE001 - the checker broke: grader error
                raise _CheckerBroke(exc) from exc
        # 6. analysis, design, concepts
        if copied is not None:
            lines += _analysis_lines(spec, submission, course_yaml, seed, lang)
            lines += _design_line(spec, submission, lang)
        if concept_mastery is not None:  # the tutor's engine computed it (BKT, resets honoured)
            lines += mastery_evidence(concept_mastery, spec.concepts, lang=lang)
        elif learner_db:
            quiz, why = concept_evidence(Path(learner_db), spec.concepts, learner, lang=lang)
            lines += quiz
            if why:
                no_evidence["concepts"] = why
        else:
            no_evidence["concepts"] = msg("no_db", lang)
        total, buckets = aggregate(lines, weights, no_evidence, lang)
        broken = [c.id for c in lines if c.status == "error"]
        if broken:  # "error" = the grader could not evaluate the check: not the learner's fault
            messages.insert(0, msg("could_not_eval", lang, ids=", ".join(broken)))
        return Report(lab_id=spec.id, submission=name,
                      status="grader_error" if broken else "graded", total=total,
                      buckets=buckets, checks=lines, run=run_info, messages=messages, seed=seed,
                      execution_time=round(time.monotonic() - t0, 3),
                      grader_version=graders.__version__, lang=lang)
    except Exception as exc:  # noqa: BLE001 - whatever broke in the grader, report it
        cause = exc.__cause__ if isinstance(exc, _CheckerBroke) and exc.__cause__ else exc
        detail = "".join(traceback.format_exception_only(type(cause), cause)).strip()
        err_lines = _zero_lines(spec, msg("not_graded_error", lang), lang, status="error")
        total, buckets = aggregate(err_lines, load_weights(None), {"concepts": "grader error"})
        return Report(lab_id=spec.id, submission=name, status="grader_error", total=0.0,
                      buckets=buckets, checks=err_lines, run=run_info,
                      messages=[msg("grader_error", lang, detail=detail[:500]), *messages], seed=seed,
                      execution_time=round(time.monotonic() - t0, 3),
                      grader_version=graders.__version__, lang=lang)
    finally:
        if keep_dir is not None:
            shutil.copytree(base, keep_dir, dirs_exist_ok=True, symlinks=True)
        shutil.rmtree(base, ignore_errors=True)


class _CheckerBroke(Exception):
    """The lab's checker raised: the grader's fault, reported as grader_error."""


def grade_to_file(submission: Path, lab: Path | str, *, fmt: str = "json",
                  out: Path | None = None, **kwargs: Any) -> tuple[Report, str]:
    """Grade and render; write to ``out`` when given. Raises GraderError if it cannot write."""
    report = grade_submission(submission, lab, **kwargs)
    text = render(report, fmt)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise GraderError(f"cannot write {out}: {exc.strerror or exc}") from None
    return report, text


@dataclass
class BatchSummary:
    """What a batch grading did."""

    count: int
    """Submissions graded."""
    grader_errors: int
    """Reports with status grader_error."""
    wall_s: float
    """Seconds for the whole batch."""
    reports: list[Report]
    """The reports, in submission order."""


_CSV_COLUMNS = ["submission", "total", "concepts", "implementation", "analysis", "innovation",
                "status", "message"]


def _csv_cell(value: object) -> str:
    text = " ".join(str(value).split())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no spreadsheet formulas


def grade_batch(batch_dir: Path, lab: Path | str, *, out_csv: Path, jobs: int = 1,
                fmt: str = "json", **kwargs: Any) -> BatchSummary:
    """Grade every subdirectory of ``batch_dir``; write the gradebook CSV and, in
    ``<csv stem>-reports/`` next to it, one report per submission."""
    t0 = time.monotonic()
    subs = sorted(p for p in Path(batch_dir).iterdir() if p.is_dir() and not p.is_symlink())
    lab_dir = resolve_lab(lab, kwargs.get("curriculum"))
    reports_dir = out_csv.parent / f"{out_csv.stem}-reports"
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GraderError(f"cannot create {reports_dir}: {exc.strerror or exc}") from None

    def one(sub: Path) -> Report:
        try:
            return grade_submission(sub, lab_dir, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one broken grading must not stop the batch
            return Report(lab_id=str(lab), submission=sub.name, status="grader_error",
                          total=0.0, buckets=[], checks=[],
                          messages=[f"grader error: {type(exc).__name__}: {exc}"[:500]])

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        reports = list(pool.map(one, subs))
    rows = []
    for sub, rep in zip(subs, reports, strict=True):
        (reports_dir / f"{sub.name}.{_EXT.get(fmt, 'json')}").write_text(render(rep, fmt),
                                                                         encoding="utf-8")
        cells: dict[str, object] = {"submission": sub.name, "total": f"{rep.total:g}",
                                    "status": rep.status, "message": rep.summary_message}
        for b in rep.buckets:
            cells[b.id] = f"{100 * b.fraction:.1f}" if b.evidence else ""
        rows.append({k: _csv_cell(cells.get(k, "")) for k in _CSV_COLUMNS})
    try:
        with open(out_csv, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=_CSV_COLUMNS)
            w.writeheader()
            w.writerows(rows)
    except OSError as exc:
        raise GraderError(f"cannot write {out_csv}: {exc.strerror or exc}") from None
    return BatchSummary(count=len(reports),
                        grader_errors=sum(r.status == "grader_error" for r in reports),
                        wall_s=round(time.monotonic() - t0, 2), reports=reports)
