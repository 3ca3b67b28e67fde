"""The lab catalogue: the course's labs (curriculum labs.yaml) joined with their runnable specs
(exercises/<dir>/lab.yaml)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graders.labs.spec import LabSpec, find_labs

if TYPE_CHECKING:
    from tutor.curriculum.models import Lab


@dataclass(frozen=True)
class LabEntry:
    """One lab as the learner sees it."""

    id: str
    """Lab id, e.g. ``lab-1.1``."""
    title: dict[str, str]
    """Title by language (``en``, ``zh-TW``)."""
    concepts: tuple[str, ...]
    """Concepts that unlock it."""
    lab_dir: Path | None
    """Exercise directory; None while the lab has no runnable kit."""
    spec: LabSpec | None
    """The runnable spec; None while the lab has no runnable kit."""

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title["en"]


def exercise_specs(exercises_root: Path | None = None) -> dict[str, tuple[Path, LabSpec]]:
    """Runnable labs under ``exercises_root`` (default: the shipped exercises)."""
    from tutor.paths import exercises_dir

    return find_labs(exercises_root or exercises_dir())


def course_labs_from_file(course_dir: Path) -> list[Lab]:
    """The labs of ``<course_dir>/labs.yaml`` alone (used while the whole course does not validate,
    so that `tutor lab list` still shows every lab). Empty when that file is unreadable too."""
    import yaml
    from pydantic import ValidationError

    from tutor.curriculum.models import LabsFile

    try:
        raw = yaml.safe_load((course_dir / "labs.yaml").read_text(encoding="utf-8"))
        return list(LabsFile.model_validate(raw).labs)
    except (OSError, yaml.YAMLError, ValidationError):
        return []


def catalogue(course_labs: Iterable[Lab] | None, exercises_root: Path | None = None
              ) -> dict[str, LabEntry]:
    """Every lab: the course's labs in course order, plus runnable labs the course does not list."""
    specs = exercise_specs(exercises_root)
    out: dict[str, LabEntry] = {}
    if course_labs is not None:
        for lab in course_labs:
            found = specs.get(lab.id)
            out[lab.id] = LabEntry(
                id=lab.id, title={"en": lab.title.en, "zh-TW": lab.title.zh_TW},
                concepts=tuple(lab.concepts), lab_dir=found[0] if found else None,
                spec=found[1] if found else None,
            )
    for lab_id, (lab_dir, spec) in specs.items():
        if lab_id not in out:
            out[lab_id] = LabEntry(
                id=lab_id, title={"en": spec.title.en, "zh-TW": spec.title.zh_TW},
                concepts=tuple(spec.concepts), lab_dir=lab_dir, spec=spec,
            )
    return out
