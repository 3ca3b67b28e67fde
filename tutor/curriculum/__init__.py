"""Load and validate a course from YAML; build its prerequisite graph.

Public API: ``load_course(path) -> Course`` (raises ``CourseError`` with every problem),
``validate_course(path) -> (Course | None, list[Problem])``, ``build_graph(course) -> nx.DiGraph``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Course", "CourseError", "Problem", "build_graph", "load_course", "validate_course"]


def __getattr__(name: str) -> Any:  # PEP 562: keep `import tutor.curriculum` cheap
    if name in ("load_course", "validate_course", "CourseError", "Problem"):
        from tutor.curriculum import loader

        return getattr(loader, name)
    if name == "build_graph":
        from tutor.curriculum.graph import build_graph

        return build_graph
    if name == "Course":
        from tutor.curriculum.models import Course

        return Course
    raise AttributeError(name)
