"""Semantic checks of a merged course: what a schema cannot see.

Duplicate ids, unknown references, prerequisite cycles, plan consistency, rubric weights, missing
lesson pages and lab kits. Every problem points at the YAML node that causes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tutor.curriculum import models as m
from tutor.curriculum.messages import did_you_mean, msg
from tutor.curriculum.models import Loaded
from tutor.curriculum.yamlsrc import Problem, SourceDoc

LANG_DIRS = ("en", "zh-TW")


class _Reporter:
    def __init__(self, loaded: Loaded) -> None:
        self.docs: dict[str, SourceDoc] = {d.file: d for d in loaded.docs.values()}
        for doc, _qf in loaded.question_files:
            self.docs[doc.file] = doc
        self.problems: list[Problem] = []
        self.failed_questions = loaded.failed_questions
        self.questions_unreadable = loaded.questions_unreadable

    def at(self, obj: m.Model, sub: tuple[Any, ...], message: str, key: bool = False,
           severity: str = "error") -> None:
        file, path = obj._src or ("", ())
        doc = self.docs.get(file)
        if doc is None:
            problem = Problem(file or "?", 1, 1, message)
        else:
            problem = doc.problem(path + sub, message, prefer_key=key)
        if severity != "error":
            from dataclasses import replace

            problem = replace(problem, severity=severity)
        self.problems.append(problem)


def _dupes(rep: _Reporter, items: Iterable[m.Model], what: str, key: str = "id") -> None:
    seen: dict[Any, m.Model] = {}
    for item in items:
        value = getattr(item, key)
        if value in seen:
            first_file, first_path = seen[value]._src or ("", ())
            doc = rep.docs.get(first_file)
            line = doc.pos(first_path)[0] if doc else 0
            rep.at(item, (key,), msg("duplicate-id", what=what, value=value,
                                     first=f"{first_file}:{line}"))
        else:
            seen[value] = item


def _refs(rep: _Reporter, obj: m.Model, field: str, known: Iterable[str] | dict[str, Any],
          what: str) -> None:
    values = getattr(obj, field)
    if isinstance(values, str):
        values = [values]
    for i, ref in enumerate(values or []):
        if ref not in known:
            if what == "question" and (ref in rep.failed_questions or rep.questions_unreadable):
                continue  # knock-on of a questions file that did not load: reported there
            sub: tuple[Any, ...] = (field, i) if isinstance(getattr(obj, field), list) else (field,)
            rep.at(obj, sub, msg("unknown-ref", what=what, ref=ref,
                                 hint=did_you_mean(ref, known)))


def _cycles(rep: _Reporter, course: m.Course) -> None:
    """Report each prerequisite cycle once, naming it a → b → c → a."""
    graph: dict[str, list[str]] = {
        cid: [p for p in c.requires + c.recommends if p in course.concepts and p != cid]
        for cid, c in course.concepts.items()
    }
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(graph, WHITE)
    reported: set[frozenset[str]] = set()
    for start in graph:
        if color[start] != WHITE:
            continue
        # iterative DFS keeping the path, so deep chains cannot hit the recursion limit
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        color[start] = GREY
        while stack:
            node, idx = stack[-1]
            deps = graph[node]
            if idx < len(deps):
                stack[-1] = (node, idx + 1)
                nxt = deps[idx]
                if color[nxt] == WHITE:
                    color[nxt] = GREY
                    stack.append((nxt, 0))
                    path.append(nxt)
                elif color[nxt] == GREY:
                    cyc = path[path.index(nxt):]
                    key = frozenset(cyc)
                    if key not in reported:
                        reported.add(key)
                        # dependency edges point from a concept to its prerequisite; print the
                        # cycle in "requires" order starting at the smallest id, for stable output
                        first = min(range(len(cyc)), key=lambda i: cyc[i])
                        cyc = cyc[first:] + cyc[:first]
                        names = " → ".join(cyc + [cyc[0]])
                        concept = course.concepts[cyc[0]]
                        fld = "requires" if cyc[1 % len(cyc)] in concept.requires else "recommends"
                        lst = getattr(concept, fld)
                        rep.at(concept, (fld, lst.index(cyc[1 % len(cyc)])),
                               msg("cycle", names=names))
            else:
                color[node] = BLACK
                stack.pop()
                path.pop()


def _pages(rep: _Reporter, course: m.Course) -> None:
    content = (Path(course.root) / course.meta.content_dir).resolve()
    cache: dict[str, set[str]] = {}
    for lang in LANG_DIRS:
        d = content / lang
        cache[lang] = {p.stem for p in d.glob("*.md")} if d.is_dir() else set()
    items: list[m.Level | m.Concept] = [*course.levels, *course.concepts.values()]
    for item in items:
        for lang in LANG_DIRS:
            if item.page not in cache[lang]:
                rel = f"{course.meta.content_dir}/{lang}/{item.page}.md"
                rep.at(item, ("page",), msg("missing-page", path=rel))


def _labs(rep: _Reporter, course: m.Course) -> None:
    root = (Path(course.root) / course.meta.exercises_dir).resolve()
    for lab in course.labs.values():
        if lab.exercise is not None and not (root / lab.exercise / "lab.yaml").is_file():
            rep.at(lab, ("exercise",), msg("missing-kit", path=f"{course.meta.exercises_dir}/"
                                                                   f"{lab.exercise}/lab.yaml"))


def _plan(rep: _Reporter, course: m.Course) -> None:
    phases = {p.id: p for p in course.phases}
    _dupes(rep, course.phases, "phase")
    _dupes(rep, course.days, "day", key="day")
    for expected, day in enumerate(course.days, start=1):
        if day.day != expected:
            rep.at(day, ("day",), msg("day-numbers", expected=expected, found=day.day))
            break
    for day in course.days:
        _refs(rep, day, "concepts", course.concepts, "concept")
        _refs(rep, day, "labs", course.labs, "lab")
        phase = phases.get(day.phase)
        if phase is None:
            rep.at(day, ("phase",), msg("unknown-ref", what="phase", ref=day.phase,
                                        hint=did_you_mean(day.phase, phases)))
        elif not phase.first_day <= day.day <= phase.last_day:
            rep.at(day, ("phase",), msg("day-outside-phase", day=day.day, phase=phase.id,
                                        first=phase.first_day, last=phase.last_day))
    levels = {lv.number for lv in course.levels}
    for phase in course.phases:
        if phase.last_day < phase.first_day:
            rep.at(phase, ("last_day",), msg("phase-order", phase=phase.id, last=phase.last_day,
                                             first=phase.first_day))
        if phase.level not in levels:
            rep.at(phase, ("level",), msg("unknown-level", level=phase.level))
    scheduled = {c for d in course.days for c in d.concepts}
    for cid, concept in course.concepts.items():
        if cid not in scheduled:
            rep.at(concept, ("id",), msg("unscheduled-concept", id=cid), key=False)
    labs_scheduled = {lab for d in course.days for lab in d.labs}
    for lid, lab in course.labs.items():
        if lid not in labs_scheduled:
            rep.at(lab, ("id",), msg("unscheduled-lab", id=lid))


def _questions(rep: _Reporter, course: m.Course, concept_or_external: set[str],
               all_questions: list[Any]) -> None:
    pitfalls = {p.id for p in course.pitfalls}
    listed = {(q, p.id) for p in course.pitfalls for q in p.diagnosed_by}
    level_numbers = {lv.number for lv in course.levels}
    for q in all_questions:
        diagnosed = [(("options", i, "pitfall"), o.pitfall) for i, o in enumerate(q.options)
                     if o.pitfall] + [(("tree", i, "pitfall"), n.pitfall)
                                      for i, n in enumerate(q.tree) if n.pitfall]
        for sub, pid in diagnosed:
            if pid in pitfalls and (q.id, pid) not in listed:
                rep.at(q, sub, msg("pitfall-not-listed", question=q.id, pitfall=pid))
                listed.add((q.id, pid))
        _refs(rep, q, "concepts", concept_or_external, "concept")
        if q.level not in level_numbers:
            rep.at(q, ("level",), msg("unknown-level", level=q.level))
        for i, node in enumerate(q.tree):
            if node.pitfall and node.pitfall not in pitfalls:
                rep.at(q, ("tree", i, "pitfall"), msg("unknown-ref", what="pitfall",
                                                      ref=node.pitfall,
                                                      hint=did_you_mean(node.pitfall, pitfalls)))
        for i, opt in enumerate(q.options):
            if opt.pitfall and opt.pitfall not in pitfalls:
                rep.at(q, ("options", i, "pitfall"), msg("unknown-ref", what="pitfall",
                                                         ref=opt.pitfall,
                                                         hint=did_you_mean(opt.pitfall, pitfalls)))


def semantic_problems(course: m.Course, loaded: Loaded) -> list[Problem]:
    """Every cross-reference and consistency problem in a schema-valid course."""
    rep = _Reporter(loaded)
    f = loaded.files
    all_concepts: list[m.Concept] = f["concepts.yaml"].concepts
    all_labs: list[m.Lab] = f["labs.yaml"].labs if "labs.yaml" in f else []
    all_questions = [q for _doc, qf in loaded.question_files for q in qf.questions]
    _dupes(rep, course.levels, "level")
    _dupes(rep, course.levels, "level number", key="number")
    _dupes(rep, all_concepts, "concept")
    _dupes(rep, all_labs, "lab")
    _dupes(rep, all_questions, "question")
    _dupes(rep, course.pitfalls, "pitfall")
    _dupes(rep, course.meta.externals, "external")
    _dupes(rep, course.meta.rubric.buckets, "rubric bucket")
    _dupes(rep, course.meta.topics, "topic")

    meta = course.meta
    # module.id need not equal the directory name: a renamed copy of a course still loads (the
    # id keys learners' progress, so keep it when you move a course; see docs/authoring.md)
    total = sum(b.weight for b in meta.rubric.buckets)
    if total != 100:
        weights = " + ".join(str(b.weight) for b in meta.rubric.buckets)
        rep.at(meta.rubric, ("buckets",), msg("rubric-weights", total=total, weights=weights))

    for expected, level in enumerate(course.levels, start=1):
        if level.number != expected:
            rep.at(level, ("number",), msg("level-numbers", expected=expected,
                                           found=level.number))
            break
    level_numbers = {lv.number for lv in course.levels}
    externals = course.externals
    prereq_externals = {e.id for e in meta.externals if e.relation == "prerequisite"}
    concept_or_external = set(course.concepts) | set(externals)
    prereq_ids = set(course.concepts) | prereq_externals
    for c in all_concepts:
        if c.level not in level_numbers:
            rep.at(c, ("level",), msg("unknown-level", level=c.level))
        _refs(rep, c, "requires", prereq_ids, "prerequisite")
        _refs(rep, c, "recommends", prereq_ids, "prerequisite")
        if c.id in c.requires or c.id in c.recommends:
            fld = "requires" if c.id in c.requires else "recommends"
            rep.at(c, (fld, getattr(c, fld).index(c.id)), msg("self-prerequisite", id=c.id))
    _cycles(rep, course)
    declared = {t.id for t in meta.topics}
    if declared:  # an undeclared topic is fine (its id is its title), a near-miss is a typo
        for c in all_concepts:
            hint = did_you_mean(c.topic, declared) if c.topic not in declared else None
            if hint:
                rep.at(c, ("topic",), msg("undeclared-topic", topic=c.topic, hint=hint),
                       severity="warning")
    for level in course.levels:
        _refs(rep, level, "self_check", course.questions, "question")
    for lab in all_labs:
        _refs(rep, lab, "concepts", course.concepts, "concept")
    for p in course.pitfalls:
        _refs(rep, p, "concepts", course.concepts, "concept")
        _refs(rep, p, "diagnosed_by", course.questions, "question")
    for rule in meta.decision_tree:
        _refs(rep, rule, "concepts", course.concepts, "concept")
    for res in meta.resources:
        _refs(rep, res, "concepts", course.concepts, "concept")
    for ext in meta.externals:
        _refs(rep, ext, "placement", course.questions, "question")
    for ip in meta.integration_points:
        _refs(rep, ip, "externals", externals, "external")
    _plan(rep, course)
    _questions(rep, course, concept_or_external, all_questions)
    _pages(rep, course)
    _labs(rep, course)
    return rep.problems


def question_test_problems(course: m.Course, loaded: Loaded) -> list[Problem]:
    """Run every question's test cases through the answer grader."""
    try:
        from graders.answers.selftest import run_cases
    except ImportError:
        return []
    rep = _Reporter(loaded)
    for q in course.questions.values():
        for failure in run_cases(q):
            index = getattr(failure, "index", 0)
            rep.at(q, ("cases", index), msg("question-test", detail=failure))
    return rep.problems
