"""The JSON Schema of the course files (`tutor schema`, and the copy `tutor new` writes).

It lives in the curriculum package, not in tutor/cli/, because the scaffold writes it too and the
curriculum must not import the command line.
"""

from __future__ import annotations

from typing import Any


def schema_dict(which: str = "all") -> dict[str, Any]:
    """The JSON Schema for one course file kind, or for any of them."""
    from typing import Union

    from pydantic import TypeAdapter

    from tutor.curriculum import models as m

    files: dict[str, Any] = {
        "course": m.CourseFile, "levels": m.LevelsFile, "concepts": m.ConceptsFile,
        "plan": m.PlanFile, "labs": m.LabsFile, "pitfalls": m.PitfallsFile,
        "questions": m.QuestionsFile,
    }
    if which == "all":
        target: Any = Union[tuple(files.values())]  # noqa: UP007 - runtime Union of classes
        title = "Curriculum file (any of course, levels, concepts, plan, labs, pitfalls, questions)"
    else:
        target = files[which]
        title = f"Curriculum {which} file"
    schema = TypeAdapter(target).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema
