"""The runnable spec of a lab: ``exercises/<dir>/lab.yaml`` (see docs/labs.md).

A lab directory holds ``lab.yaml``, ``README.md`` + ``README.zh-TW.md``, the starter files
(``starter/``, with ``# TODO`` markers), the complete files (``solution/``, same names) and
``shared`` files that every run gets unchanged (e.g. the tiny-model builder).

How a lab runs (the contract with the sandbox and `tutor lab run`)::

    python -I <entry> --out OUTDIR --data DATADIR --seed N [--heldout FILE]

in a working directory that holds only the allowed submission files plus the shared files. It
writes ``artifacts`` into OUTDIR and prints JSON lines on stdout
(``{"event": "progress", "step": i, "total": n, "loss": x}`` … ``{"event": "done"}``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from graders.schema_base import Model, Text

Bucket = Literal["implementation", "analysis", "innovation"]
"""Rubric bucket a lab check contributes to (concepts come from the quiz, not from labs)."""

LAB_FILE = "lab.yaml"
README_FILES = ("README.md", "README.zh-TW.md")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _relative_path(value: str) -> str:
    """A relative POSIX path without '..', absolute parts or odd characters."""
    p = PurePosixPath(value)
    if p.is_absolute() or not p.parts or any(
        part in ("..", ".") or not _SAFE_NAME.match(part) for part in p.parts
    ):
        raise ValueError(f"not a safe relative path: {value!r}")
    return str(p)


class CheckSpec(Model):
    """One automatic check of a lab submission."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    """Check id, unique in the lab, e.g. ``merged-weights``."""
    title: Text
    """Short title shown in reports."""
    bucket: Bucket
    """Rubric bucket the points count towards."""
    points: float = Field(gt=0)
    """Points for passing the check."""
    description: Text
    """What the check recomputes and what passing means."""


class AnalysisQuestion(Model):
    """An analysis question: a question-bank id, or an inline prompt graded by a person."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    """Question id (a question-bank id when ``prompt`` is absent)."""
    prompt: Text | None = None
    """Inline prompt; absent when ``id`` refers to the question bank."""
    points: float = Field(5, gt=0)
    """Points in the analysis bucket."""


class DesignChallenge(Model):
    """The innovation part: a design the grader checks with the memory estimator."""

    prompt: Text
    """What to design, e.g. fit a 13B model on one 24 GB GPU."""
    constraints: dict[str, Any] = Field(default_factory=dict)
    """Machine-readable constraints (``model_params_b``, ``gpu_memory_gb``, ``gpus`` ...)."""
    points: float = Field(10, gt=0)
    """Points in the innovation bucket."""


class Requires(Model):
    """What a lab needs on the machine, checked before a run (``tutor lab run/check``)."""

    packages: list[str] = Field(default_factory=lambda: ["torch"])
    """Importable top-level modules the run needs (``torch``, ``peft``, ``deepspeed`` ...); a
    missing one stops the run with a message naming the pip extra ``labs``."""
    gpu: Literal["none", "optional", "required"] | None = None
    """GPU need; absent: the lab's top-level ``gpu`` value."""

    @field_validator("packages")
    @classmethod
    def _modules(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"not a module name: {name!r}")
        return v


class ProbeSpec(Model):
    """A grader-owned script that calls the learner's own code inside the sandbox (docs/labs.md)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    """Probe id, unique in the lab; checks read its result with ``ctx.probe(id)``."""
    script: str
    """Path under ``graders/labs/`` of the probe script, e.g. ``probes/lab_1_1_lora.py``."""
    block: list[str] = Field(default_factory=list)
    """Modules (``peft``) or dotted attributes (``torch.distributed.all_reduce``) made
    unavailable while the probe runs the learner's code."""
    ranks: int = Field(1, ge=1, le=8)
    """Ranks the probe itself runs with (under the lab's launcher when more than one)."""
    timeout_s: int = Field(60, gt=0)
    """Wall-clock limit of the probe run."""

    @field_validator("script")
    @classmethod
    def _script(cls, v: str) -> str:
        v = _relative_path(v)
        if not v.endswith(".py"):
            raise ValueError(f"a probe script is a .py file: {v!r}")
        return v

    @field_validator("block")
    @classmethod
    def _dotted(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
                raise ValueError(f"not a module or dotted attribute: {name!r}")
        return v


Launcher = Literal["torchrun", "deepspeed", "spawn"]
"""How N ranks start: ``torchrun`` (torch.distributed.run), ``deepspeed`` (torchrun's line on
CPU, see docs/labs.md), ``spawn`` (the grader's own launcher, graders/labs/ranks.py)."""


class LabSpec(Model):
    """A lab, as ``lab.yaml`` declares it."""

    id: str = Field(pattern=r"^lab-\d+\.\d+$")
    """Lab id, as in the course's labs.yaml, e.g. ``lab-1.1``."""
    title: Text
    """Lab title."""
    concepts: list[str] = Field(min_length=1)
    """Concept ids the lab practises (the course decides when it unlocks)."""
    entry: str = "train.py"
    """Script the runner starts with ``python -I``; must be a starter file."""
    starter_dir: str = "starter"
    """Directory (in the lab dir) holding the starter files."""
    starter: list[str] = Field(min_length=1)
    """Starter files (relative to ``starter_dir``), copied into the learner's workspace."""
    solution_dir: str = "solution"
    """Directory holding the complete versions of every starter file (same names)."""
    shared: list[str] = Field(default_factory=list)
    """Files in the lab dir every run gets unchanged (never taken from a submission)."""
    common: list[str] = Field(default_factory=list)
    """Files from ``exercises/_common/`` (e.g. ``labcommon.py``) copied next to the entry of
    every run, from the course's copy (never from a submission)."""
    ranks: int = Field(1, ge=1, le=8)
    """Processes the run starts (torchrun-style env, gloo on CPU); 1 = a plain ``python -I``."""
    launcher: Launcher | None = None
    """How ranks start; required when ``ranks`` > 1 or a probe has ranks > 1."""
    requires: Requires = Field(default_factory=Requires)
    """Packages and GPU the lab needs, checked before a run."""
    probes: list[ProbeSpec] = Field(default_factory=list)
    """Grader-owned scripts run in the sandbox after the learner's run (graders/labs/probes/)."""
    allowed: list[str] | None = None
    """Files a submission may provide; defaults to ``starter``. Anything else is ignored."""
    artifacts: list[str] = Field(min_length=1)
    """Paths under OUTDIR the run must write, e.g. ``adapter/adapter_model.safetensors``."""
    checker: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Module under ``graders.labs`` that implements the checks, e.g. ``lab_1_1``."""
    checks: list[CheckSpec] = Field(min_length=1)
    """Automatic checks, in report order."""
    analysis: list[AnalysisQuestion] = Field(default_factory=list)
    """Analysis questions (graded by graders.answers or a person)."""
    design_challenge: DesignChallenge | None = None
    """Design challenge for the innovation bucket."""
    time_budget_s: int = Field(120, gt=0)
    """Wall-clock limit for one run on the reference CPU machine (2 cores)."""
    memory_mb: int = Field(4096, gt=0)
    """Memory limit for one run."""
    cpu_threads: int = Field(2, ge=1)
    """Threads the run may use (OMP_NUM_THREADS)."""
    gpu: Literal["none", "optional", "required"] = "none"
    """Whether the lab needs a GPU; ``optional`` labs use a larger config on CUDA."""
    data: str | None = None
    """Training data directory under ``content/data/`` (passed as ``--data``)."""
    heldout: str | None = None
    """Held-out file under ``graders/labs/data/`` (the grader's own; never copied to a workspace)."""
    env: dict[str, str] = Field(default_factory=lambda: {"HF_HUB_OFFLINE": "1"})
    """Environment variables set for every run (HF_HUB_OFFLINE=1 is always added)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Lab-specific parameters the checker uses (model configs, LoRA rank, margins ...)."""

    @field_validator("entry", "starter_dir", "solution_dir", "data", "heldout")
    @classmethod
    def _safe_single(cls, v: str | None) -> str | None:
        return None if v is None else _relative_path(v)

    @field_validator("starter", "shared", "allowed", "artifacts", "common")
    @classmethod
    def _safe_list(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        out = [_relative_path(x) for x in v]
        if len(set(out)) != len(out):
            raise ValueError("duplicate paths")
        return out

    @model_validator(mode="after")
    def _consistent(self) -> LabSpec:
        if self.entry not in self.starter:
            raise ValueError(f"entry {self.entry!r} is not a starter file")
        ids = [c.id for c in self.checks]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate check ids")
        clash = set(self.shared) & set(self.starter)
        if clash:
            raise ValueError(f"files both shared and starter: {sorted(clash)}")
        extra = set(self.allowed or []) - set(self.starter)
        if extra:
            raise ValueError(f"allowed files that are not starter files: {sorted(extra)}")
        clash = set(self.common) & (set(self.starter) | set(self.shared))
        if clash:
            raise ValueError(f"common files also listed as starter or shared: {sorted(clash)}")
        probe_ids = [p.id for p in self.probes]
        if len(set(probe_ids)) != len(probe_ids):
            raise ValueError("duplicate probe ids")
        needs = max([self.ranks, *(p.ranks for p in self.probes)])
        if needs > 1 and self.launcher is None:
            raise ValueError(f"{needs} ranks need a launcher (torchrun, deepspeed or spawn)")
        self.env.setdefault("HF_HUB_OFFLINE", "1")
        return self

    @property
    def gpu_need(self) -> str:
        """``requires.gpu`` when given, else the top-level ``gpu``."""
        return self.requires.gpu or self.gpu

    def probe(self, probe_id: str) -> ProbeSpec:
        """The probe with this id."""
        for p in self.probes:
            if p.id == probe_id:
                return p
        raise KeyError(probe_id)

    @property
    def submission_files(self) -> list[str]:
        """Files taken from a submission (the allowlist)."""
        return list(self.allowed if self.allowed is not None else self.starter)

    def check(self, check_id: str) -> CheckSpec:
        """The check with this id."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    @property
    def max_points(self) -> dict[str, float]:
        """Points available per bucket from the automatic checks."""
        out: dict[str, float] = {}
        for c in self.checks:
            out[c.bucket] = out.get(c.bucket, 0.0) + c.points
        return out


class LabSpecError(Exception):
    """A lab.yaml that cannot be read; ``problems`` are "file: message" lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def load_lab(lab_dir: Path | str) -> LabSpec:
    """Read and validate ``<lab_dir>/lab.yaml``. Raises LabSpecError with readable problems."""
    import yaml

    path = Path(lab_dir) / LAB_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabSpecError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise LabSpecError(path, [f"invalid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise LabSpecError(path, ["top level must be a mapping"])
    try:
        return LabSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise LabSpecError(path, problems) from None


def find_labs(exercises_root: Path | str) -> dict[str, tuple[Path, LabSpec]]:
    """Every lab under ``exercises_root`` by id: ``{id: (lab_dir, spec)}``, sorted by id.

    Raises LabSpecError for the first invalid lab.yaml or a duplicate id.
    """
    root = Path(exercises_root)
    found: dict[str, tuple[Path, LabSpec]] = {}
    if not root.is_dir():
        return found
    for lab_file in sorted(root.glob(f"*/{LAB_FILE}")):
        spec = load_lab(lab_file.parent)
        if spec.id in found:
            raise LabSpecError(lab_file, [f"duplicate lab id {spec.id!r} (also in {found[spec.id][0]})"])
        found[spec.id] = (lab_file.parent, spec)
    return dict(sorted(found.items(), key=lambda kv: _lab_sort_key(kv[0])))


def _lab_sort_key(lab_id: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", lab_id))


COMMON_DIR = "_common"
"""Directory beside the labs (``exercises/_common``) holding the files ``common:`` names."""


def common_dir(lab_dir: Path | str) -> Path:
    """``exercises/_common`` for a lab directory under ``exercises/``."""
    return Path(lab_dir).parent / COMMON_DIR


def run_files(spec: LabSpec, lab_dir: Path | str) -> dict[str, Path]:
    """The grader-owned files every run gets: ``{name in the run dir: source}`` (shared + common).

    A submission's copy of one of these names is always replaced by this one.
    """
    base = Path(lab_dir)
    files = {rel: common_dir(base) / rel for rel in spec.common}
    files.update({rel: base / rel for rel in spec.shared})
    return files


def copy_run_files(spec: LabSpec, lab_dir: Path | str, submission: Path, dest: Path) -> Path:
    """Fill ``dest`` with the allowed files of ``submission`` (regular files, no links) and the
    course's shared + common files (which always win over a submitted copy). Returns ``dest``."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for rel in spec.submission_files:
        src = submission / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    for rel, src in run_files(spec, lab_dir).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / rel)
    return dest


def orphan_files(lab_dir: Path | str, spec: LabSpec) -> list[str]:
    """Files in the lab dir that lab.yaml does not reference (nor README / lab.yaml itself),
    plus referenced files that are missing (reported as ``missing: <path>``)."""
    base = Path(lab_dir)
    expected = {LAB_FILE, *README_FILES, *spec.shared}
    expected |= {f"{spec.starter_dir}/{f}" for f in spec.starter}
    expected |= {f"{spec.solution_dir}/{f}" for f in spec.starter}
    present = {
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    }
    problems = [f"orphan: {p}" for p in sorted(present - expected)]
    problems += [f"missing: {p}" for p in sorted(expected - present)]
    problems += [f"missing: {COMMON_DIR}/{rel}" for rel in spec.common
                 if not (common_dir(base) / rel).is_file()]
    return problems
