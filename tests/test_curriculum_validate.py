"""`tutor validate` on broken courses: each fault is reported at its exact file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.curriculum import validate_course

MINI = Path(__file__).parent / "fixtures" / "courses" / "mini"

# (name, file, old text, new text, expected problem lines). old=None deletes the file.
FAULTS = [
    ("yaml-syntax", "concepts.yaml",
     "    level: 2\n    topic: peft\n    summary: {en: Low-rank update",
     "    level: 2\n    topic: [peft\n    summary: {en: Low-rank update",
     ["concepts.yaml:13:12: error: the '[' opened at line 12 is not closed here: close it with "
      "']', or, if a ':' or ',' is part of the text, quote the text, e.g. "
      "{en: \"Note: this, too\"}"]),
    ("tab-indent", "labs.yaml", "    concepts: [lora]", "\tconcepts: [lora]",
     ["labs.yaml:5:1: error: tab character: YAML indents with spaces only; replace the tab with "
      "spaces"]),
    ("duplicate-yaml-key", "concepts.yaml", "    level: 1\n", "    level: 1\n    level: 2\n",
     ["concepts.yaml:5:5: error: duplicate key 'level' (first defined at line 4)"]),
    ("duplicate-concept-id", "concepts.yaml", "  - id: qlora", "  - id: lora",
     ["concepts.yaml:16:9: error: duplicate concept 'lora' (first defined at "
      "mini-course/concepts.yaml:9)"]),
    ("unknown-key", "levels.yaml", "    page: level-2", "    page: level-2\n    pages: level-2",
     ["levels.yaml:13:5: error: unknown key 'pages'; did you mean 'page'?"]),
    ("missing-required-field", "concepts.yaml", "    topic: peft\n    summary: {en: 4-bit",
     "    summary: {en: 4-bit",
     ["concepts.yaml:16:5: error: missing required field 'topic'"]),
    ("missing-translation", "concepts.yaml", "title: {en: LoRA, zh-TW: LoRA}", "title: {en: LoRA}",
     ["concepts.yaml:10:12: error: missing translation 'zh-TW'"]),
    ("empty-translation", "levels.yaml", "goal: {en: How, zh-TW: 如何}", "goal: {en: How, zh-TW: ''}",
     ["levels.yaml:11:28: error: 'zh-TW': string should have at least 1 character"]),
    ("wrong-type", "plan.yaml", "    theory_hours: 2\n", "    theory_hours: lots\n",
     ["plan.yaml:24:19: error: 'theory_hours': input should be a valid number, unable to parse "
      "string as a number"]),
    ("bad-literal", "labs.yaml", "    concepts: [lora]", "    concepts: [lora]\n    gpu: optinal",
     ["labs.yaml:6:10: error: 'gpu': 'optinal' is not allowed; input should be 'none', "
      "'optional' or 'required'; did you mean 'optional'?"]),
    ("bad-id", "labs.yaml", "  - id: lab-1.1", "  - id: Lab 1.1",
     ["labs.yaml:2:9: error: 'id': invalid id 'Lab 1.1' (use lower-case letters, digits, '-' "
      "and '.')"]),
    ("unknown-prerequisite", "concepts.yaml", "    requires: [lora]", "    requires: [lora, lorra]",
     ["concepts.yaml:22:22: error: unknown prerequisite 'lorra'; did you mean 'lora'?"]),
    ("prerequisite-cycle", "concepts.yaml", "    requires: [peft-intuition]",
     "    requires: [peft-intuition, qlora]",
     ["concepts.yaml:15:32: error: prerequisite cycle: lora → qlora → lora"]),
    ("self-prerequisite", "concepts.yaml", "    requires: [lora]", "    requires: [qlora]",
     ["concepts.yaml:22:16: error: concept 'qlora' requires itself"]),
    ("rubric-weights", "course.yaml", "      weight: 10", "      weight: 15",
     ["course.yaml:15:5: error: rubric weights sum to 105 (40 + 30 + 20 + 15), not 100"]),
    ("missing-content-page", "concepts.yaml", "    page: qlora", "    page: qlora-page",
     ["concepts.yaml:21:11: error: missing content page '../content/en/qlora-page.md'",
      "concepts.yaml:21:11: error: missing content page '../content/zh-TW/qlora-page.md'"]),
    ("unknown-self-check", "levels.yaml", "self_check: [q-why]", "self_check: [q-what]",
     ["levels.yaml:6:18: error: unknown question 'q-what'; did you mean 'q-why'?"]),
    ("unknown-day-concept", "plan.yaml", "concepts: [lora, qlora]", "concepts: [lora, qlora, zero]",
     ["plan.yaml:26:29: error: unknown concept 'zero'"]),
    ("unknown-day-lab", "plan.yaml", "labs: [lab-1.1]", "labs: [lab-1.1, lab-9.9]",
     ["plan.yaml:27:21: error: unknown lab 'lab-9.9'; did you mean 'lab-1.1'?"]),
    ("unknown-phase", "plan.yaml", "    phase: concepts\n", "    phase: concept\n",
     ["plan.yaml:22:12: error: unknown phase 'concept'; did you mean 'concepts'?"]),
    ("day-outside-phase", "plan.yaml", "    first_day: 2", "    first_day: 3",
     ["plan.yaml:22:12: error: day 2 is outside phase 'concepts' (days 3-2)",
      "plan.yaml:10:15: error: phase 'concepts' ends (day 2) before it starts (day 3)"]),
    ("day-gap", "plan.yaml", "  - day: 2", "  - day: 3",
     ["plan.yaml:21:10: error: days must be numbered consecutively from 1: expected day 2, "
      "found 3",
      "plan.yaml:22:12: error: day 3 is outside phase 'concepts' (days 2-2)"]),
    ("unknown-level", "concepts.yaml",
     "    level: 2\n    topic: peft\n    summary: {en: 4-bit",
     "    level: 3\n    topic: peft\n    summary: {en: 4-bit",
     ["concepts.yaml:18:12: error: unknown level number 3"]),
    ("format-version", "course.yaml", "format_version: 1", "format_version: 2",
     ["course.yaml:1:17: error: 'format_version': unsupported format_version 2; this tutor "
      "reads 1"]),
    ("unknown-lab-concept", "labs.yaml", "    concepts: [lora]", "    concepts: [lora, dpo]",
     ["labs.yaml:5:22: error: unknown concept 'dpo'"]),
    ("unknown-diagnosing-question", "pitfalls.yaml", "diagnosed_by: [q-why]",
     "diagnosed_by: [q-how]",
     ["pitfalls.yaml:7:20: error: unknown question 'q-how'; did you mean 'q-why'?"]),
    ("unknown-option-pitfall", "questions/basics.yaml", "pitfall: pitfall-compute",
     "pitfall: pitfall-computing",
     ["questions/basics.yaml:13:18: error: unknown pitfall 'pitfall-computing'; did you mean "
      "'pitfall-compute'?"]),
    ("duplicate-question", "questions/basics.yaml", "  - id: q-ratio", "  - id: q-why",
     ["questions/basics.yaml:16:9: error: duplicate question 'q-why' (first defined at "
      "mini-course/questions/basics.yaml:2)"]),
    ("question-unknown-concept", "questions/basics.yaml", "    concepts: [lora]",
     "    concepts: [loraa]",
     ["questions/basics.yaml:18:16: error: unknown concept 'loraa'; did you mean 'lora'?"]),
    ("unscheduled-concept", "plan.yaml", "concepts: [lora, qlora]", "concepts: [lora]",
     ["concepts.yaml:16:9: error: concept 'qlora' is not scheduled on any day of the plan"]),
    ("missing-file", "levels.yaml", None, None,
     ["levels.yaml:1:1: error: missing course file 'levels.yaml'"]),
    ("top-level-not-mapping", "pitfalls.yaml", "", "- just\n- a list\n",
     ["pitfalls.yaml:1:1: error: expected a mapping at the top of the file, found list"]),
    ("empty-file", "levels.yaml", "", "",
     ["levels.yaml:1:1: error: file is empty"]),
    ("merge-key", "labs.yaml", "    concepts: [lora]", "    <<: {x: 1}\n    concepts: [lora]",
     ["labs.yaml:5:5: error: merge keys ('<<') are not supported"]),
    ("invalid-date", "course.yaml", "last_updated: 2026-11-29", "last_updated: yesterday",
     ["course.yaml:10:17: error: 'last_updated': input should be a valid date or datetime, "
      "input is too short"]),
    ("bkt-out-of-range", "course.yaml", "content_dir: ../content",
     "content_dir: ../content\nbkt: {p_slip: 0.9}",
     ["course.yaml:12:15: error: 'p_slip': input should be less than or equal to 0.5"]),
    ("pitfall-not-listing-question", "pitfalls.yaml", "diagnosed_by: [q-why]", "diagnosed_by: []",
     ["questions/basics.yaml:13:18: error: question 'q-why' diagnoses pitfall 'pitfall-compute' but "
      "the pitfall's diagnosed_by does not list it"]),
    ("missing-lab-kit", "labs.yaml", "    concepts: [lora]", "    concepts: [lora]\n    exercise: lab-x",
     ["labs.yaml:6:15: error: missing lab kit '../exercises/lab-x/lab.yaml'"]),
]


def _broken(tmp_path: Path, file: str, old: str | None, new: str | None) -> Path:
    shutil.copytree(MINI, tmp_path / "mini")
    target = tmp_path / "mini" / "mini-course" / file
    if old is None:
        target.unlink()
    elif old == "":
        target.write_text(new or "")
    else:
        text = target.read_text(encoding="utf-8")
        assert old in text, f"fixture text not found: {old!r}"
        target.write_text(text.replace(old, new or "", 1), encoding="utf-8")
    return tmp_path / "mini"


def test_fixture_course_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(MINI)
    course, problems = validate_course("mini-course")
    assert problems == []
    assert course is not None and list(course.concepts) == ["peft-intuition", "lora", "qlora"]


def test_at_least_25_distinct_faults() -> None:
    assert len({f[0] for f in FAULTS}) >= 25


@pytest.mark.parametrize(("name", "file", "old", "new", "expected"), FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_fault_reported_at_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                    file: str, old: str | None, new: str | None,
                                    expected: list[str]) -> None:
    root = _broken(tmp_path, file, old, new)
    monkeypatch.chdir(root)
    course, problems = validate_course("mini-course")
    assert course is None
    got = [p.format() for p in problems]
    for line in expected:
        assert f"mini-course/{line}" in got, f"{name}: {got}"


def test_billion_laughs_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _broken(tmp_path, "pitfalls.yaml", None, None)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    (root / "mini-course" / "pitfalls.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(root)
    course, problems = validate_course("mini-course")
    assert course is None
    assert any("document too large" in p.message for p in problems)


def test_not_a_directory(tmp_path: Path) -> None:
    course, problems = validate_course(tmp_path / "nope")
    assert course is None and "course directory not found" in problems[0].message
