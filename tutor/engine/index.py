"""Per-course lookup tables the engine needs on every call, computed once per ``Course``.

Unlocking rule (see docs/engine.md): a concept is *ready* when

1. every hard prerequisite in ``concept.requires`` that is a concept id has been mastered;
2. every entry of ``concept.requires`` that is an external module id (course.yaml ``externals``)
   has been met by ``tutor placement`` or an explicit skip;
3. its level has been reached in its topic: every concept of the same topic at the *gate level*
   has been mastered, where the gate level is the highest level below the concept's own that has
   any concept of that topic (level n-1 when the topic has one; a topic with no level-3 concept
   gates its level-4 concepts on level 2). Concepts at the lowest level of their topic have no
   level gate.

Soft prerequisites (``concept.recommends``) never lock; they only produce warnings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.curriculum.models import BktParams, Course


GroupKey = tuple[str, int]
"""(topic, level number): the unit of level gating."""


@dataclass
class CourseIndex:
    """Lookup tables derived from a course."""

    order: dict[str, int]
    """Concept id -> position (level, then file order): the tie-break everywhere."""
    bkt: dict[str, BktParams]
    """Concept id -> its BKT parameters."""
    concept_prereqs: dict[str, tuple[str, ...]]
    """Concept id -> hard prerequisites that are concepts."""
    external_prereqs: dict[str, tuple[str, ...]]
    """Concept id -> hard prerequisites that are external modules."""
    soft_prereqs: dict[str, tuple[str, ...]]
    """Concept id -> soft prerequisites (concept or external ids)."""
    group: dict[str, GroupKey]
    """Concept id -> its (topic, level)."""
    group_size: dict[GroupKey, int]
    """(topic, level) -> number of concepts in it."""
    gate: dict[str, GroupKey | None]
    """Concept id -> the (topic, level) group that must be fully mastered first, or None."""
    dependents: dict[str, tuple[str, ...]]
    """Concept id -> concepts whose readiness can change when it is mastered."""
    questions_by_concept: dict[str, tuple[str, ...]]
    """Concept id -> question ids that give evidence on it (level, then bank order)."""
    question_concepts: dict[str, tuple[str, ...]]
    """Question id -> all ids in its ``concepts`` (course concepts and externals)."""
    hard_externals: tuple[str, ...]
    """External prerequisites with strength hard (met by placement or skip)."""
    placement_questions: dict[str, tuple[str, ...]]
    """External id -> its placement question ids."""
    labs_by_concept: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Concept id -> labs that require it."""


def build_index(course: Course) -> CourseIndex:
    """Compute the lookup tables of ``course``."""
    concepts = course.concepts
    ids = sorted(concepts, key=lambda c: concepts[c].level)  # stable: file order within a level
    order = {cid: i for i, cid in enumerate(ids)}
    externals = {e.id: e for e in course.meta.externals if e.relation == "prerequisite"}

    group: dict[str, GroupKey] = {cid: (c.topic, c.level) for cid, c in concepts.items()}
    group_size: dict[GroupKey, int] = defaultdict(int)
    levels_by_topic: dict[str, set[int]] = defaultdict(set)
    for key in group.values():
        group_size[key] += 1
        levels_by_topic[key[0]].add(key[1])
    gate: dict[str, GroupKey | None] = {}
    for cid, (topic, level) in group.items():
        lower = [lv for lv in levels_by_topic[topic] if lv < level]
        gate[cid] = (topic, max(lower)) if lower else None

    concept_prereqs = {
        cid: tuple(r for r in c.requires if r in concepts) for cid, c in concepts.items()
    }
    external_prereqs = {
        cid: tuple(r for r in c.requires if r in externals and r not in concepts)
        for cid, c in concepts.items()
    }
    soft = {cid: tuple(c.recommends) for cid, c in concepts.items()}

    members: dict[GroupKey, list[str]] = defaultdict(list)
    for cid, key in group.items():
        members[key].append(cid)
    dependents: dict[str, set[str]] = defaultdict(set)
    for cid in concepts:
        for r in concept_prereqs[cid]:
            dependents[r].add(cid)
        g = gate[cid]
        if g is not None:
            for m in members[g]:
                dependents[m].add(cid)

    qs = sorted(course.questions.values(), key=lambda q: q.level)  # stable: bank order
    by_concept: dict[str, list[str]] = defaultdict(list)
    question_concepts: dict[str, tuple[str, ...]] = {}
    for q in qs:
        question_concepts[q.id] = tuple(q.concepts)
        for c in q.concepts:
            by_concept[c].append(q.id)

    placement: dict[str, tuple[str, ...]] = {}
    for ext in externals.values():
        chosen = [q for q in ext.placement if q in course.questions]
        if not chosen:
            chosen = list(by_concept.get(ext.id, []))
        placement[ext.id] = tuple(chosen)

    labs_by_concept: dict[str, list[str]] = defaultdict(list)
    for lab in course.labs.values():
        for c in lab.concepts:
            labs_by_concept[c].append(lab.id)

    return CourseIndex(
        order=order,
        bkt={cid: course.bkt_for(cid) for cid in concepts},
        concept_prereqs=concept_prereqs,
        external_prereqs=external_prereqs,
        soft_prereqs=soft,
        group=group,
        group_size=dict(group_size),
        gate=gate,
        dependents={k: tuple(sorted(v, key=order.__getitem__)) for k, v in dependents.items()},
        questions_by_concept={k: tuple(v) for k, v in by_concept.items()},
        question_concepts=question_concepts,
        hard_externals=tuple(e.id for e in externals.values() if e.strength == "hard"),
        placement_questions=placement,
        labs_by_concept={k: tuple(v) for k, v in labs_by_concept.items()},
    )


def unmasterable_concepts(course: Course) -> dict[str, tuple[int, float]]:
    """Concepts that cannot reach their mastery threshold even when every one of their
    questions is answered right at the first attempt (only first attempts update BKT).

    Returns concept id -> (number of questions, best reachable P(known)). An authoring check:
    such a concept, and everything that requires it, can only be studied in practice mode.
    """
    from tutor.engine.bkt import bkt_update

    counts: dict[str, int] = defaultdict(int)
    for q in course.questions.values():
        for c in set(q.concepts):
            counts[c] += 1
    out: dict[str, tuple[int, float]] = {}
    for cid in course.concepts:
        params = course.bkt_for(cid)
        p = params.p_init
        for _ in range(counts.get(cid, 0)):
            p = bkt_update(p, True, params)
        if p < params.threshold:
            out[cid] = (counts.get(cid, 0), p)
    return out
