"""The check kit's core: ``@check`` registration, ``Problem`` / ``Fail`` and the ``Context``.

A lab's checker (``graders/labs/lab_N_M.py``) is a set of functions decorated with
``@check("id")``; each takes the :class:`Context` and returns details (a JSON-able dict) on pass or
raises :class:`Fail` with a bilingual :class:`Problem`. Any other exception is the grader's fault
(status ``error``). The functions run in a child process of the grader (graders/labs/kit/worker.py)
under the lab's ``checker_timeout_s``, so they may import torch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.labs.kit.readers import ArtifactError, read_json, read_tensors, safe_file
from graders.labs.spec import LabSpec

CheckFn = Callable[["Context"], "dict[str, Any] | None"]
"""A check function: details on pass, ``Fail`` on the submission's failure."""

_REGISTRY: dict[str, dict[str, CheckFn]] = {}
"""``{checker module: {check id: function}}``, filled by ``@check`` at import time."""


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check ``check_id`` (an id of lab.yaml ``checks:``)."""

    def register(fn: CheckFn) -> CheckFn:
        table = _REGISTRY.setdefault(fn.__module__, {})
        if check_id in table:
            raise ValueError(f"{fn.__module__}: check {check_id!r} registered twice")
        table[check_id] = fn
        return fn

    return register


def registered(module: str) -> dict[str, CheckFn]:
    """The checks a checker module registered (import it first)."""
    return dict(_REGISTRY.get(module, {}))


class Problem:
    """Why a check fails, in English and zh-TW; ``fields`` fill ``{name}`` in both and become the
    result's details."""

    def __init__(self, en: str, zh: str, **fields: Any) -> None:
        self.fields = {k: jsonable(v) for k, v in fields.items()}
        self.en = _fill(en, fields)
        self.zh = _fill(zh, fields)

    def __repr__(self) -> str:
        return f"Problem({self.en!r})"


def _fill(template: str, fields: dict[str, Any]) -> str:
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):  # an author's typo must not hide the problem
        return template


class Fail(Exception):  # noqa: N818 - the contract's name: "raise Fail(Problem(...))"
    """The submission does not meet the check (0 points, the problems' messages)."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            problems = (Problem("the check failed", "檢查未通過"),)
        self.problems = list(problems)
        super().__init__("; ".join(p.en for p in self.problems))

    @property
    def en(self) -> str:
        """All problems in English."""
        return "; ".join(p.en for p in self.problems)

    @property
    def zh(self) -> str:
        """All problems in zh-TW."""
        return "；".join(p.zh for p in self.problems)

    @property
    def details(self) -> dict[str, Any]:
        """The problems' fields (merged), plus every English message when there are several."""
        out: dict[str, Any] = {}
        for p in self.problems:
            out.update(p.fields)
        if len(self.problems) > 1:
            out["problems"] = [p.en for p in self.problems]
        return out


def fail(en: str, zh: str, **fields: Any) -> Fail:
    """``Fail(Problem(en, zh, **fields))``, for ``raise fail(...)``."""
    return Fail(Problem(en, zh, **fields))


def jsonable(obj: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: non-finite floats become strings, unknown objects their ``str``,
    huge integers their digits count (never a crash on what a submission wrote)."""
    if depth > 20:
        return "..."
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj[:2000] if isinstance(obj, str) else obj
    if isinstance(obj, int):
        return obj if abs(obj) < 10**18 else f"<integer with {len(str(abs(obj))) if obj.bit_length() < 10_000 else 'many'} digits>"
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {str(k)[:200]: jsonable(v, depth + 1) for k, v in list(obj.items())[:200]}
    if isinstance(obj, list | tuple):
        return [jsonable(v, depth + 1) for v in list(obj)[:200]]
    return str(obj)[:2000]


@dataclass
class Context:
    """Everything a check may look at (built by the grader; read-only by convention)."""

    spec: LabSpec
    """The lab."""
    out_dir: Path
    """OUTDIR the run wrote its artifacts into (a snapshot taken after every process died)."""
    submission_dir: Path
    """The submitted files (read as text at most; never imported by a check)."""
    seed: int
    """The seed the run was started with."""
    lab_dir: Path | None = None
    """The lab's directory (exercises/<lab>); the grader's copies of the common files are beside it."""
    data_dir: Path | None = None
    """The training-data directory the run was given."""
    heldout: Path | None = None
    """The grader's held-out file (never shown to the run)."""
    probe_seed: int | None = None
    """The seed the probes drew their inputs from (``secrets``, drawn at grading time)."""
    probes_dir: Path | None = None
    """Where each probe's output was collected: ``<probes_dir>/<probe id>/``."""
    probe_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per probe id: how its run ended (returncode, timed_out, stderr tail)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Options of the caller (tests shorten timeouts with it)."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Shared between the checks of one grading (e.g. a model built once)."""

    @property
    def params(self) -> dict[str, Any]:
        """lab.yaml ``params``."""
        return self.spec.params

    @property
    def max_bytes(self) -> int:
        """Largest artifact read (``params.max_artifact_mb``, default 64 MiB)."""
        mb = self.params.get("max_artifact_mb", 64)
        return int(mb if isinstance(mb, int | float) and 0 < mb <= 4096 else 64) * 1024 * 1024

    def path(self, rel: str) -> Path:
        """``out_dir/rel`` as a regular file, no links on the way (Fail otherwise)."""
        path: Path = _guard(lambda: safe_file(self.out_dir, rel))
        return path

    def json(self, rel: str, max_bytes: int = 1_000_000) -> Any:
        """The JSON artifact ``rel`` (size, depth and item count bounded; Fail if missing/invalid)."""
        return _guard(lambda: read_json(self.out_dir, rel, max_bytes))

    def tensors(self, rel: str, *, float32: bool = False, max_tensors: int = 4096) -> dict[str, Any]:
        """The safetensors artifact ``rel`` as ``{name: tensor}`` (header validated, tensor count
        and bytes bounded, no links). ``float32``: every tensor converted (integer or bool tensors
        where floats belong then fail value checks instead of crashing the arithmetic)."""
        out: dict[str, Any] = _guard(lambda: read_tensors(self.out_dir, rel, self.max_bytes,
                                                          max_tensors=max_tensors,
                                                          float32=float32))
        return out

    def ranks(self) -> list[Path]:
        """``out/rank0 … out/rank<N-1>`` for the lab's N ranks (Fail if one is missing or a link)."""
        out: list[Path] = []
        for r in range(self.spec.ranks):
            p = self.out_dir / f"rank{r}"
            if p.is_symlink() or not p.is_dir():
                raise fail("out/rank{r} is missing (every rank writes its own artifacts)",
                           "缺少 out/rank{r}（每個 rank 都要寫出自己的產出）", r=r)
            out.append(p)
        return out

    def _probe_dir(self, probe_id: str) -> Path:
        self.spec.probe(probe_id)  # KeyError = a checker bug: grader error
        if self.probes_dir is None:
            raise RuntimeError(f"probe {probe_id!r} was not run by the grader")
        return self.probes_dir / probe_id

    def probe(self, probe_id: str) -> dict[str, Any]:
        """The probe's ``result.json`` as a dict. Fail when the learner's code raised
        (``{"error": ...}``) or ended the probe without a result."""
        base = self._probe_dir(probe_id)
        status = self.probe_status.get(probe_id, {})
        try:
            res = read_json(base, "result.json", 4_000_000)
        except ArtifactError as exc:
            rc = status.get("returncode")
            raise fail("the probe {probe} got no result from your code (exit {rc}): {why}",
                       "探針 {probe} 沒有從你的程式得到結果（結束碼 {rc}）：{why}",
                       probe=probe_id, rc=rc, why=exc.en,
                       stderr=str(status.get("stderr_tail", ""))[-1500:]) from None
        if not isinstance(res, dict):
            raise fail("probe {probe}: result.json is not an object",
                       "探針 {probe}：result.json 不是物件", probe=probe_id)
        if "error" in res:
            raise fail("your code raised while the probe {probe} ran it: {error}",
                       "探針 {probe} 執行你的程式時發生例外：{error}",
                       probe=probe_id, error=str(res["error"])[:500])
        return res

    def probe_tensors(self, probe_id: str, rel: str, *, float32: bool = False) -> dict[str, Any]:
        """A safetensors file the probe wrote next to its result.json."""
        base = self._probe_dir(probe_id)
        out: dict[str, Any] = _guard(lambda: read_tensors(base, rel, self.max_bytes,
                                                          float32=float32))
        return out

    def to_job(self) -> dict[str, Any]:
        """The context as JSON for the child process (cache and extra stay behind)."""
        def s(p: Path | None) -> str | None:
            return None if p is None else str(Path(p).resolve())

        return {"spec": self.spec.model_dump(mode="json", by_alias=True), "out_dir": s(self.out_dir),
                "submission_dir": s(self.submission_dir), "seed": self.seed,
                "lab_dir": s(self.lab_dir), "data_dir": s(self.data_dir), "heldout": s(self.heldout),
                "probe_seed": self.probe_seed, "probes_dir": s(self.probes_dir),
                "probe_status": jsonable(self.probe_status),
                "extra": {k: v for k, v in self.extra.items() if _is_json(v)}}

    @classmethod
    def from_job(cls, job: dict[str, Any]) -> Context:
        """The inverse of ``to_job``."""
        def p(key: str) -> Path | None:
            return None if job.get(key) is None else Path(job[key])

        return cls(spec=LabSpec.model_validate(job["spec"]), out_dir=Path(job["out_dir"]),
                   submission_dir=Path(job["submission_dir"]), seed=int(job["seed"]),
                   lab_dir=p("lab_dir"), data_dir=p("data_dir"), heldout=p("heldout"),
                   probe_seed=job.get("probe_seed"), probes_dir=p("probes_dir"),
                   probe_status=dict(job.get("probe_status") or {}),
                   extra=dict(job.get("extra") or {}))


def _is_json(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _guard(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except ArtifactError as exc:
        raise Fail(Problem(exc.en, exc.zh)) from None
