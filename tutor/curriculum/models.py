"""Typed models of a course, validated from YAML with pydantic v2.

A course is a directory ``curriculum/<course-id>/`` holding several YAML files (see
docs/authoring.md): ``course.yaml``, ``levels.yaml``, ``concepts.yaml``, ``plan.yaml``,
``labs.yaml``, ``pitfalls.yaml`` and ``questions/*.yaml``. Each file's top-level mapping is one of
the ``*File`` models below; the loader merges them into a ``Course``.

Localised text is a ``Text``: a mapping with both ``en`` and ``zh-TW``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from graders.answers.schema import Question
from graders.schema_base import Model, Text

if TYPE_CHECKING:
    from tutor.curriculum.yamlsrc import SourceDoc

__all__ = ["Model", "Text"]  # re-exported: curriculum code refers to m.Model, m.Text

FORMAT_VERSION = 1
"""The curriculum format this code reads. Files declare it in course.yaml ``format_version``."""

ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]*$"
"""Ids are lower-case kebab-case (dots allowed, as in ``lab-1.1``)."""

TOPIC_PATTERN = r"^[a-z0-9][a-z0-9\-]*$"
"""Topic strands are free kebab-case ids chosen by the course (``peft``, ``counting``)."""

Feature = Literal["calculators"]
"""Optional app features a course opts into (``calculators``: memory estimator and advisor)."""
Strength = Literal["hard", "soft"]


class EstimatedHours(Model):
    """Estimated study time for the whole module, in hours."""

    reading: float = Field(ge=0)
    """Hours of reading."""
    practice: float = Field(ge=0)
    """Hours of hands-on practice (labs, exercises)."""
    mastery: float = Field(ge=0)
    """Hours until mastery, reading and practice included."""


class ModuleMeta(Model):
    """Module metadata (the seed's JSON header)."""

    id: str = Field(pattern=ID_PATTERN)
    """Course id (kebab-case); the directory may have another name."""
    title: Text
    """Course title: the app's title bar and every heading that names the course."""
    category: str | None = None
    """Category in the wider programme, e.g. ``llm-training-fundamentals``."""
    difficulty_levels: dict[str, int] = Field(default_factory=dict)
    """Named difficulty levels and their numeric value (elementary 2 … research 5)."""
    estimated_hours: EstimatedHours | None = None
    """Estimated reading / practice / mastery hours."""
    tags: list[str] = Field(default_factory=list)
    """Free-form tags."""
    version: str = "1.0"
    """Content version of the course."""
    last_updated: date | None = None
    """Date the content was last revised."""


class BktParams(Model):
    """Bayesian Knowledge Tracing parameters (OATutor defaults)."""

    p_init: float = Field(0.1, ge=0, le=1)
    """Probability the concept is known before any practice."""
    p_transit: float = Field(0.1, ge=0, le=1)
    """Probability of learning the concept at each practice opportunity."""
    p_slip: float = Field(0.1, ge=0, le=0.5)
    """Probability of a wrong answer although the concept is known."""
    p_guess: float = Field(0.1, ge=0, le=0.5)
    """Probability of a right answer although the concept is not known."""
    threshold: float = Field(0.95, gt=0, le=1)
    """Mastery threshold on P(known)."""


class RubricBucket(Model):
    """One bucket of the assessment rubric."""

    id: Literal["concepts", "implementation", "analysis", "innovation"]
    """Bucket id; graders tag results with it."""
    title: Text
    """Bucket title."""
    weight: int = Field(ge=0, le=100)
    """Weight in percent; the four weights sum to 100."""
    criteria: list[Text] = Field(min_length=1)
    """Checklist of what the bucket assesses."""
    source: Literal["quiz", "lab_checks", "analysis_questions", "design_challenge"]
    """Where the evidence for this bucket comes from."""


class Rubric(Model):
    """The assessment framework (the shipped course: 40/30/20/10; default: concepts 100)."""

    buckets: list[RubricBucket] = Field(min_length=1)
    """Rubric buckets in display order."""


class DecisionRule(Model):
    """One branch of the technique decision tree (model size → method)."""

    min_params_b: float = Field(0, ge=0)
    """Smallest model size, in billions of parameters, this rule covers (inclusive)."""
    max_params_b: float | None = Field(None, gt=0)
    """Upper bound in billions (exclusive); null = no upper bound."""
    recommendation: Text
    """What to use, in words."""
    concepts: list[str] = Field(default_factory=list)
    """Concept ids of the techniques the rule recommends."""
    rationale: Text
    """Why, including the memory arithmetic behind it."""


class External(Model):
    """A knowledge module outside this course: a prerequisite or something this course enables."""

    id: str = Field(pattern=ID_PATTERN)
    """External module id, e.g. ``llm-fundamentals``."""
    relation: Literal["prerequisite", "enables"]
    """Whether the course needs it (prerequisite) or leads to it (enables)."""
    strength: Literal["hard", "soft", "direct", "indirect"]
    """Prerequisites: hard/soft; enabled modules: direct/indirect."""
    title: Text
    """Display name."""
    reason: Text
    """Why the relation holds."""
    placement: list[str] = Field(default_factory=list)
    """Question ids of the placement diagnostic for this prerequisite."""


class IntegrationPoint(Model):
    """Where this course meets another module."""

    id: str = Field(pattern=ID_PATTERN)
    """Integration point id."""
    title: Text
    """Short title."""
    description: Text
    """What carries over and how."""
    externals: list[str] = Field(default_factory=list)
    """External ids involved."""


class Resource(Model):
    """Extended reading: a paper, an open-source project or a course."""

    id: str = Field(pattern=ID_PATTERN)
    """Resource id."""
    kind: Literal["paper", "project", "course"]
    """Kind of resource."""
    title: str
    """Original title (not translated)."""
    note: Text
    """Why it is worth reading."""
    authors: str | None = None
    """Authors and year, for papers."""
    url: str | None = None
    """Stable URL (arXiv abs page, repository), shown, never fetched."""
    concepts: list[str] = Field(default_factory=list)
    """Concepts the resource covers."""


class TopicInfo(Model):
    """A topic strand's display title. Declaring a topic is optional: an undeclared one shows its id."""

    id: str = Field(pattern=TOPIC_PATTERN)
    """Topic id, as concepts name it in ``topic``."""
    title: Text
    """Topic title."""


def _default_rubric() -> Rubric:
    """A course without a ``rubric`` is assessed on its questions alone (one bucket, 100 %)."""
    return Rubric(buckets=[RubricBucket(
        id="concepts", weight=100, source="quiz",
        title=Text.model_validate({"en": "Concepts", "zh-TW": "概念"}),
        criteria=[Text.model_validate({"en": "Mastery of the course's concepts",
                                       "zh-TW": "精熟課程中的概念"})],
    )])


class CourseFile(Model):
    """Top level of ``course.yaml``."""

    format_version: int
    """Curriculum format version; this code reads version 1."""
    module: ModuleMeta
    """Module metadata."""
    content_dir: str = "content"
    """Lesson pages root, relative to the course directory; holds ``en/`` and ``zh-TW/``."""
    exercises_dir: str = "exercises"
    """Lab exercises root, relative to the course directory."""
    features: list[Feature] = Field(default_factory=list)
    """Optional app features: ``calculators`` adds the memory estimator and advisor screen."""
    topics: list[TopicInfo] = Field(default_factory=list)
    """Titles of the topic strands; a topic not listed here shows its id."""
    bkt: BktParams = Field(default_factory=BktParams)
    """Default BKT parameters for every concept."""
    rubric: Rubric = Field(default_factory=_default_rubric)
    """Assessment rubric; without one, questions alone count (concepts 100 %)."""
    decision_tree: list[DecisionRule] = Field(default_factory=list)
    """Decision tree for the advisor (``features: [calculators]``), ordered by model size."""
    externals: list[External] = Field(default_factory=list)
    """External prerequisites and enabled modules."""
    integration_points: list[IntegrationPoint] = Field(default_factory=list)
    """Integration points with other modules."""
    resources: list[Resource] = Field(default_factory=list)
    """Extended resources."""

    @field_validator("format_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != FORMAT_VERSION:
            raise ValueError(f"unsupported format_version {v}; this tutor reads {FORMAT_VERSION}")
        return v


class Level(Model):
    """One level of the course's path (1 to 9 levels)."""

    id: str = Field(pattern=ID_PATTERN)
    """Level id, e.g. ``intuitive``."""
    number: int = Field(ge=1, le=9)
    """Position on the path, 1-based; numbers are consecutive."""
    title: Text
    """Level title."""
    goal: Text
    """What the learner should be able to do after the level."""
    core_questions: list[Text] = Field(default_factory=list)
    """Guiding questions of the level."""
    intuition: Text | None = None
    """Intuitive framing (e.g. the seed's 'moving a mountain' analogy)."""
    visual_aids: list[Text] = Field(default_factory=list)
    """Visualisations the level uses."""
    self_check: list[str] = Field(default_factory=list)
    """Question ids of the level's self-check questions."""
    page: str
    """Lesson page name (content/<lang>/<page>.md)."""


class LevelsFile(Model):
    """Top level of ``levels.yaml``."""

    levels: list[Level] = Field(min_length=1, max_length=9)
    """The levels in order (1 to 9)."""


class Concept(Model):
    """A knowledge component: the unit of mastery."""

    id: str = Field(pattern=ID_PATTERN)
    """Concept id, e.g. ``lora``."""
    title: Text
    """Concept title."""
    level: int = Field(ge=1)
    """Number of the cognitive level the concept belongs to."""
    topic: str = Field(pattern=TOPIC_PATTERN)
    """Topic strand (free kebab-case id); levels follow each other per topic."""
    summary: Text
    """One or two sentences shown in the map and lesson header."""
    page: str
    """Lesson page name (content/<lang>/<page>.md)."""
    requires: list[str] = Field(default_factory=list)
    """Hard prerequisites (concept or external ids): must be mastered first."""
    recommends: list[str] = Field(default_factory=list)
    """Soft prerequisites: only warned about."""
    bkt: BktParams | None = None
    """Per-concept BKT parameters; defaults to course.yaml ``bkt``."""


class ConceptsFile(Model):
    """Top level of ``concepts.yaml``."""

    concepts: list[Concept] = Field(min_length=1)
    """All concepts of the course."""


class Phase(Model):
    """A phase of the study plan (e.g. days 1-3, intuition building)."""

    id: str = Field(pattern=ID_PATTERN)
    """Phase id."""
    first_day: int = Field(ge=1)
    """First day of the phase."""
    last_day: int = Field(ge=1)
    """Last day of the phase (inclusive)."""
    title: Text
    """Phase title."""
    goal: Text
    """Phase goal."""
    level: int = Field(ge=1)
    """The cognitive level the phase builds."""


class Day(Model):
    """One day of the study plan."""

    day: int = Field(ge=1)
    """Day number, consecutive from 1."""
    phase: str
    """Phase id."""
    title: Text
    """What the day is about."""
    theory_hours: float = Field(ge=0)
    """Planned hours of theory."""
    practice_hours: float = Field(ge=0)
    """Planned hours of practice."""
    concepts: list[str] = Field(default_factory=list)
    """Concepts studied that day."""
    labs: list[str] = Field(default_factory=list)
    """Labs done that day."""
    activities: list[Text] = Field(default_factory=list)
    """Concrete activities (what to read, build, write)."""


class PlanFile(Model):
    """Top level of ``plan.yaml``."""

    phases: list[Phase] = Field(min_length=1)
    """Plan phases."""
    days: list[Day] = Field(min_length=1)
    """Plan days."""


class Lab(Model):
    """A lab's place in the course; its runnable spec is exercises/<exercise>/lab.yaml."""

    id: str = Field(pattern=ID_PATTERN)
    """Lab id, e.g. ``lab-1.1``."""
    title: Text
    """Lab title."""
    summary: Text
    """What the learner builds and measures."""
    concepts: list[str] = Field(min_length=1)
    """Concepts that must be mastered before the lab unlocks."""
    exercise: str | None = None
    """Exercise directory name under the exercises root; null while the lab has no runnable kit."""
    gpu: Literal["none", "optional", "required"] = "none"
    """Whether the lab needs a GPU (flash-attn parts do)."""


class LabsFile(Model):
    """Top level of ``labs.yaml``."""

    labs: list[Lab] = Field(default_factory=list)
    """The course's labs (the file is optional; a course without labs has no Labs screen)."""


class Pitfall(Model):
    """A common misconception that questions can diagnose."""

    id: str = Field(pattern=ID_PATTERN)
    """Pitfall id."""
    title: Text
    """The misconception, stated as learners hold it."""
    problem: Text
    """What it overlooks."""
    remedy: Text
    """How to correct it."""
    concepts: list[str] = Field(default_factory=list)
    """Concepts the misconception concerns."""
    diagnosed_by: list[str] = Field(default_factory=list)
    """Question ids whose wrong options reveal it."""


class PitfallsFile(Model):
    """Top level of ``pitfalls.yaml``."""

    pitfalls: list[Pitfall] = Field(default_factory=list)
    """Common pitfalls."""


class QuestionsFile(Model):
    """Top level of each ``questions/*.yaml``."""

    questions: list[Question] = Field(default_factory=list)
    """Questions; the schema lives in graders.answers.schema."""


class Course(Model):
    """A whole course, merged from its files. Built by ``tutor.curriculum.load_course``."""

    meta: CourseFile
    """course.yaml."""
    levels: list[Level]
    """Cognitive levels, in order."""
    concepts: dict[str, Concept]
    """Concepts by id, in file order."""
    phases: list[Phase]
    """Plan phases."""
    days: list[Day]
    """Plan days, in order."""
    labs: dict[str, Lab]
    """Labs by id."""
    pitfalls: list[Pitfall]
    """Common pitfalls."""
    questions: dict[str, Question]
    """Questions by id."""
    root: str
    """Absolute path of the course directory."""

    @property
    def id(self) -> str:
        return self.meta.module.id

    @property
    def externals(self) -> dict[str, External]:
        return {e.id: e for e in self.meta.externals}

    def level(self, number: int) -> Level:
        """The level with this number."""
        for lv in self.levels:
            if lv.number == number:
                return lv
        raise KeyError(number)

    def bkt_for(self, concept_id: str) -> BktParams:
        """The concept's BKT parameters, falling back to the course default."""
        return self.concepts[concept_id].bkt or self.meta.bkt

    def day(self, number: int) -> Day:
        return self.days[number - 1]

    @property
    def has_labs(self) -> bool:
        """Whether the course has labs (otherwise the app shows no Labs screen)."""
        return bool(self.labs)

    def has_feature(self, name: str) -> bool:
        """Whether course.yaml opts into an app feature (``calculators``)."""
        return name in self.meta.features

    def title(self, lang: str) -> str:
        """The course title in ``lang``."""
        return self.meta.module.title.get(lang)

    def topic_title(self, topic: str, lang: str) -> str:
        """A topic's title from course.yaml ``topics``, or its id."""
        for info in self.meta.topics:
            if info.id == topic:
                return info.title.get(lang)
        return topic


class Loaded:
    """Everything read from a course directory, before the merge (the loader fills it; the
    semantic checks read it: it lives here so that neither of them imports the other)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.docs: dict[str, SourceDoc] = {}
        self.files: dict[str, Any] = {}
        self.question_files: list[tuple[SourceDoc, QuestionsFile]] = []
        self.failed_questions: set[str] = set()
        """Ids of questions in files that did not load: references to them are not reported
        again (the file's own problem is the root cause)."""
        self.questions_unreadable = False
        """Whether a questions file could not be parsed at all (its ids are unknown)."""
