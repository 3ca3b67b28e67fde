"""Load a course directory into a validated ``Course``, collecting every problem with its location.

Pipeline: each file -> ``yamlsrc.load_yaml`` (syntax, duplicate keys, positions) -> its pydantic
``*File`` model (schema: types, required fields, unknown keys, missing translations) -> merged
``Course`` -> ``checks.semantic_problems`` (ids, references, cycles, plan, rubric, pages) ->
optional question self-tests. Problems point at the YAML node as ``file:line:col``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tutor.curriculum import models as m
from tutor.curriculum.messages import Hint, Msg, did_you_mean, msg
from tutor.curriculum.models import Loaded
from tutor.curriculum.yamlsrc import Problem, SourceDoc, load_yaml

__all__ = ["CourseError", "Problem", "load_course", "validate_course"]

COURSE_FILES: dict[str, type[BaseModel]] = {
    "course.yaml": m.CourseFile,
    "levels.yaml": m.LevelsFile,
    "concepts.yaml": m.ConceptsFile,
    "plan.yaml": m.PlanFile,
    "labs.yaml": m.LabsFile,
    "pitfalls.yaml": m.PitfallsFile,
}
"""The files of a course and the model each one's top level must satisfy."""

OPTIONAL_FILES = {"pitfalls.yaml", "labs.yaml"}
"""Files a course may leave out: no pitfalls, no labs (then no Labs screen)."""


class CourseError(Exception):
    """The course does not load; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the course")
        self.problems = problems


def _display(path: Path) -> str:
    """A path as the instructor would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def _keys_at(model: Any, loc: tuple[Any, ...]) -> set[str]:
    """The keys allowed in the mapping at ``loc`` below ``model``, for "did you mean"."""
    import typing

    models: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for mdl in models:
            if isinstance(part, int) or not (isinstance(mdl, type) and issubclass(mdl, BaseModel)):
                nxt.append(mdl)  # list index or dict key: the element type is unwrapped below
                continue
            for name, info in mdl.model_fields.items():
                if part in (name, info.alias):
                    nxt.append(info.annotation)
        models = []
        stack = nxt
        while stack:  # unwrap list[X], dict[str, X], X | None, unions
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                models.append(tp)
            else:
                args = typing.get_args(tp)
                stack.extend(args[-1:] if typing.get_origin(tp) is dict else args)
    keys: set[str] = set()
    for mdl in models:
        if isinstance(mdl, type) and issubclass(mdl, BaseModel):
            keys.update(info.alias or name for name, info in mdl.model_fields.items())
    return keys


def _format_error(err: Any, model: Any, doc: SourceDoc) -> tuple[tuple[Any, ...], Msg, bool]:
    """Turn one pydantic error into (path, message, prefer_key_position)."""
    loc = tuple(err["loc"])
    typ = err["type"]
    # Strip pydantic's internal tags for unions/functions from the location.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    if typ == "missing":
        name = loc[-1] if loc else "?"
        if name in ("en", "zh-TW"):
            return loc[:-1], msg("missing-translation", lang=name), False
        return loc[:-1], msg("missing-field", name=name), False
    if typ == "extra_forbidden":
        key = str(loc[-1])
        hint: Hint = did_you_mean(key, _keys_at(model, loc[:-1]))
        if not hint and loc[:-1] in doc.flow_maps and err.get("input") is None:
            # `{en: Hello, world}` reads as keys 'en' and 'world': the comma split the text
            hint = Hint("quote-flow")
        return loc, msg("unknown-key", key=key, hint=hint), True
    detail = err["msg"]
    if detail.startswith("Value error, "):
        detail = detail[len("Value error, "):]
    field = loc[-1] if loc else ""
    where = f"'{field}': " if isinstance(field, str) and field else ""
    inp = err.get("input")
    if typ == "string_pattern_mismatch":
        return loc, msg("invalid-id", where=where, value=repr(inp)), False
    if typ == "literal_error":
        expected = [e.strip().strip("'") for e in
                    str(err.get("ctx", {}).get("expected", "")).replace(" or ", ",").split(",")]
        hint = did_you_mean(str(inp), [e for e in expected if e])
        return loc, msg("not-allowed", where=where, value=repr(inp),
                        detail=f"{detail[0].lower()}{detail[1:]}", hint=hint), False
    return loc, msg("schema", where=where, detail=f"{detail[0].lower()}{detail[1:]}"), False


def _attach_sources(obj: Any, file: str, path: tuple[Any, ...]) -> None:
    """Record (file, path) on every model in the tree, for later semantic errors."""
    if isinstance(obj, m.Model):
        obj._src = (file, path)
        for name, info in type(obj).model_fields.items():
            key = info.alias or name
            _attach_sources(getattr(obj, name), file, path + (key,))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _attach_sources(item, file, path + (i,))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _attach_sources(v, file, path + (k,))


def _validate_doc(doc: SourceDoc, model: type[BaseModel], problems: list[Problem]) -> Any:
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), msg("not-mapping", found=type(doc.data).__name__)))
        return None
    try:
        obj = model.model_validate(doc.data)
    except ValidationError as exc:
        found = [_format_error(err, model, doc) for err in exc.errors(include_url=False)]
        # a typo'd key is the root cause of the "missing required field" for the key it meant:
        # report the typo (with its "did you mean") and not the knock-on
        meant = {path[:-1] + (msg_.hint_name,) for path, msg_, _k in found
                 if msg_.code == "unknown-key" and msg_.hint_name}
        for path, message, prefer_key in found:
            if (message.code in ("missing-field", "missing-translation")
                    and path + (message.field,) in meant):
                continue
            problems.append(doc.problem(path, message, prefer_key))
        return None
    _attach_sources(obj, doc.file, ())
    return obj


def _read(root: Path, problems: list[Problem]) -> Loaded:
    loaded = Loaded(root)
    for name, model in COURSE_FILES.items():
        path = root / name
        if not path.exists():
            if name in OPTIONAL_FILES:
                continue
            problems.append(Problem(_display(path), 1, 1, msg("missing-file", name=name)))
            continue
        doc, probs = load_yaml(path, _display(path))
        problems.extend(probs)
        if doc is None:
            continue
        loaded.docs[name] = doc
        obj = _validate_doc(doc, model, problems)
        if obj is not None:
            loaded.files[name] = obj
    qdir = root / "questions"
    if qdir.is_dir():
        for path in sorted(qdir.glob("*.yaml")):
            doc, probs = load_yaml(path, _display(path))
            problems.extend(probs)
            if doc is None:
                loaded.questions_unreadable = True
                continue
            qf = _validate_doc(doc, m.QuestionsFile, problems)
            if qf is not None:
                loaded.question_files.append((doc, qf))
            else:
                items = doc.data.get("questions") if isinstance(doc.data, dict) else None
                if not isinstance(items, list):
                    loaded.questions_unreadable = True
                    continue
                for item in items:
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        loaded.failed_questions.add(item["id"])
    return loaded


def _merge(loaded: Loaded, problems: list[Problem]) -> m.Course | None:
    f = loaded.files
    if len(f) < len([n for n in COURSE_FILES if (loaded.root / n).exists()]) or any(
        n not in f for n in COURSE_FILES if n not in OPTIONAL_FILES
    ):
        return None
    concepts: dict[str, m.Concept] = {}
    for c in f["concepts.yaml"].concepts:
        concepts.setdefault(c.id, c)
    labs: dict[str, m.Lab] = {}
    for lab in f["labs.yaml"].labs if "labs.yaml" in f else []:
        labs.setdefault(lab.id, lab)
    questions: dict[str, Any] = {}
    for _doc, qf in loaded.question_files:
        for q in qf.questions:
            questions.setdefault(q.id, q)
    pitfalls = f["pitfalls.yaml"].pitfalls if "pitfalls.yaml" in f else []
    return m.Course.model_construct(
        meta=f["course.yaml"],
        levels=sorted(f["levels.yaml"].levels, key=lambda lv: lv.number),
        concepts=concepts,
        phases=f["plan.yaml"].phases,
        days=sorted(f["plan.yaml"].days, key=lambda d: d.day),
        labs=labs,
        pitfalls=pitfalls,
        questions=questions,
        root=str(loaded.root.resolve()),
    )


def validate_course(
    path: str | os.PathLike[str] | None = None, *, run_question_tests: bool = False
) -> tuple[m.Course | None, list[Problem]]:
    """Load and check a course directory. Returns the course (None if it cannot be built) and
    every problem found, sorted by file and position."""
    from tutor.curriculum.checks import semantic_problems

    if path is None:
        from tutor.paths import default_course_dir

        path = default_course_dir()
    root = Path(path)
    problems: list[Problem] = []
    if root.is_file():  # `tutor validate curriculum/x/course.yaml` means its directory
        root = root.parent
    if not root.is_dir():
        return None, [Problem(_display(root), 1, 1, msg("dir-not-found"))]
    loaded = _read(root, problems)
    course = _merge(loaded, problems)
    if course is not None:
        problems.extend(semantic_problems(course, loaded))
        if run_question_tests and not problems:
            from tutor.curriculum.checks import question_test_problems

            problems.extend(question_test_problems(course, loaded))
    problems.sort(key=lambda p: (p.file, p.line, p.col, p.message))
    errors = [p for p in problems if p.severity == "error"]
    return (course if not errors else None), problems


_cache: dict[tuple[str, float], m.Course] = {}


def load_course(path: str | os.PathLike[str] | None = None) -> m.Course:
    """Load a course, raising ``CourseError`` with every problem if it is invalid.

    Cached per (directory, newest mtime of its YAML files) within a process.
    """
    from tutor.paths import default_course_dir

    root = Path(path) if path is not None else default_course_dir()
    try:
        stamp = max((p.stat().st_mtime for p in root.rglob("*.yaml")), default=0.0)
    except OSError:
        stamp = 0.0
    key = (str(root.resolve()), stamp)
    if key in _cache:
        return _cache[key]
    course, problems = validate_course(root)
    if course is None:
        raise CourseError([p for p in problems if p.severity == "error"])
    _cache[key] = course
    return course
