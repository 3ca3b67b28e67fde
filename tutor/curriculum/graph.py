"""The course as a typed networkx DiGraph.

Nodes: ``level:<id>``, ``concept:<id>``, ``day:<n>``, ``lab:<id>``, ``external:<id>`` with
``kind`` = level | concept | day | lab | external, ``label`` (English title) and ``label_zh``.
Edges carry ``kind``:
- ``prerequisite`` (``strength`` hard | soft): from the prerequisite to what depends on it
  (concept → concept, external → concept, concept → lab);
- ``contains``: level → concept;
- ``scheduled_on``: day → concept, day → lab;
- ``enables``: concept/level of the course → external module it enables (from the last level).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from tutor.curriculum.models import Course


def node_id(kind: str, ident: object) -> str:
    return f"{kind}:{ident}"


def build_graph(course: Course) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph(course=course.id)
    for lv in course.levels:
        g.add_node(node_id("level", lv.id), kind="level", label=lv.title.en,
                   label_zh=lv.title.zh_TW, number=lv.number)
    for ext in course.meta.externals:
        g.add_node(node_id("external", ext.id), kind="external", label=ext.title.en,
                   label_zh=ext.title.zh_TW, relation=ext.relation, strength=ext.strength)
    level_ids = {lv.number: lv.id for lv in course.levels}
    for c in course.concepts.values():
        cn = node_id("concept", c.id)
        g.add_node(cn, kind="concept", label=c.title.en, label_zh=c.title.zh_TW,
                   level=c.level, topic=c.topic)
        g.add_edge(node_id("level", level_ids[c.level]), cn, kind="contains")
    for c in course.concepts.values():
        cn = node_id("concept", c.id)
        for strength, refs in (("hard", c.requires), ("soft", c.recommends)):
            for ref in refs:
                src = node_id("concept", ref) if ref in course.concepts else node_id("external", ref)
                g.add_edge(src, cn, kind="prerequisite", strength=strength)
    for lab in course.labs.values():
        ln = node_id("lab", lab.id)
        g.add_node(ln, kind="lab", label=lab.title.en, label_zh=lab.title.zh_TW, gpu=lab.gpu)
        for ref in lab.concepts:
            g.add_edge(node_id("concept", ref), ln, kind="prerequisite", strength="hard")
    for day in course.days:
        dn = node_id("day", day.day)
        g.add_node(dn, kind="day", label=day.title.en, label_zh=day.title.zh_TW, phase=day.phase,
                   theory_hours=day.theory_hours, practice_hours=day.practice_hours)
        for ref in day.concepts:
            g.add_edge(dn, node_id("concept", ref), kind="scheduled_on")
        for ref in day.labs:
            g.add_edge(dn, node_id("lab", ref), kind="scheduled_on")
    if course.levels:
        last = node_id("level", course.levels[-1].id)
        for ext in course.meta.externals:
            if ext.relation == "enables":
                g.add_edge(last, node_id("external", ext.id), kind="enables",
                           strength=ext.strength)
    return g


def prerequisite_view(g: nx.DiGraph) -> nx.DiGraph:
    """Only prerequisite edges (the learning order), as a subgraph view."""
    return nx.subgraph_view(g, filter_edge=lambda u, v: g.edges[u, v]["kind"] == "prerequisite")


def to_node_link(g: nx.DiGraph) -> dict[str, Any]:
    """Node-link JSON (networkx's format, edges under "links")."""
    data: dict[str, Any] = nx.node_link_data(g, edges="links")
    return data


def to_dot(g: nx.DiGraph, lang: str = "en") -> str:
    """Graphviz DOT text (no pygraphviz needed)."""
    shapes = {"level": "box3d", "concept": "ellipse", "day": "note", "lab": "component",
              "external": "octagon"}
    styles = {("prerequisite", "hard"): "solid", ("prerequisite", "soft"): "dashed",
              ("contains", None): "dotted", ("scheduled_on", None): "dotted",
              ("enables", None): "bold"}

    def q(s: object) -> str:
        return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(g.graph.get('course', 'course'))} {{", "  rankdir=LR;"]
    for n, d in g.nodes(data=True):
        label = d.get("label_zh") if lang == "zh-TW" else d.get("label")
        lines.append(f"  {q(n)} [label={q(label or n)}, shape={shapes.get(d['kind'], 'ellipse')}];")
    for u, v, d in g.edges(data=True):
        kind = d["kind"]
        style = styles.get((kind, d.get("strength") if kind == "prerequisite" else None), "solid")
        lines.append(f"  {q(u)} -> {q(v)} [label={q(kind)}, style={style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(g: nx.DiGraph, course: Course, lang: str = "en") -> str:
    """Human-readable outline: levels, their concepts and each concept's prerequisites."""
    out: list[str] = []
    for lv in course.levels:
        out.append(f"L{lv.number} {lv.title.get(lang)}")
        for c in course.concepts.values():
            if c.level != lv.number:
                continue
            req = ", ".join(c.requires) or "-"
            soft = f"  (soft: {', '.join(c.recommends)})" if c.recommends else ""
            out.append(f"  {c.id:<28} {c.title.get(lang)}")
            out.append(f"  {'':<28} ← {req}{soft}")
    if course.labs:
        out.append("Labs")
        for lab in course.labs.values():
            out.append(f"  {lab.id:<10} {lab.title.get(lang)}  ← {', '.join(lab.concepts)}")
    out.append(f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    return "\n".join(out) + "\n"
