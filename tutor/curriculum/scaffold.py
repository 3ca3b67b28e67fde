"""``tutor new course DIR``: a minimal valid bilingual course to start from.

One level, two concepts, one day, three questions of different kinds (choice, numeric,
expression), the lesson pages in ``content/en`` and ``content/zh-TW`` inside the course directory,
and the YAML language-server modeline pointing at the JSON Schema by a relative path.
"""

from __future__ import annotations

import os
from pathlib import Path

from tutor.curriculum.models import ID_PATTERN

SCHEMA_NAME = "course.schema.json"

COURSE = """\
{modeline}
# The course's metadata. Everything the app says about the course comes from here.
format_version: 1
module:
  id: {course_id}
  title: {{en: My first course, zh-TW: 我的第一門課}}
topics:
  - id: fractions
    title: {{en: Fractions, zh-TW: 分數}}
# A starter course has two questions per concept; with the default p_transit (0.1) a concept
# needs three right first answers to reach the 0.95 mastery threshold, so each answer counts
# for more here (0.1 -> 0.75 -> 0.96). Add questions and drop this block as the course grows.
bkt:
  p_transit: 0.5
"""

LEVELS = """\
{modeline}
levels:
  - id: basics
    number: 1
    title: {{en: Basics, zh-TW: 基礎}}
    goal: {{en: Read and add simple fractions, zh-TW: 讀懂並相加簡單的分數}}
    self_check: [q-what-is-a-half]
    page: level-1
"""

CONCEPTS = """\
{modeline}
concepts:
  - id: fraction
    title: {{en: Fractions, zh-TW: 分數}}
    level: 1
    topic: fractions
    summary:
      en: A fraction a/b is a parts of a whole cut into b equal parts.
      zh-TW: 分數 a/b 表示把整體平均分成 b 份後取其中 a 份。
    page: fraction
  - id: adding-fractions
    title: {{en: Adding fractions, zh-TW: 分數加法}}
    level: 1
    topic: fractions
    summary:
      en: To add a/b and c/d, rewrite both over the common denominator b*d.
      zh-TW: 要相加 a/b 與 c/d，先把兩者通分成分母 b*d。
    page: adding-fractions
    requires: [fraction]
"""

PLAN = """\
{modeline}
phases:
  - id: start
    first_day: 1
    last_day: 1
    level: 1
    title: {{en: Getting started, zh-TW: 入門}}
    goal: {{en: Add two fractions, zh-TW: 能相加兩個分數}}
days:
  - day: 1
    phase: start
    title: {{en: Fractions and their sum, zh-TW: 分數與分數加法}}
    theory_hours: 1
    practice_hours: 1
    concepts: [fraction, adding-fractions]
"""

QUESTIONS = """\
{modeline}
questions:
  - id: q-what-is-a-half
    level: 1
    concepts: [fraction]
    kind: choice
    prompt: {{en: "What does 1/2 of a pizza mean?", zh-TW: "半個披薩（1/2）是什麼意思？"}}
    options:
      - id: a
        text: {{en: One of two equal parts, zh-TW: 平均分成兩份中的一份}}
        correct: true
      - id: b
        text: {{en: One of two parts of any size, zh-TW: 分成兩份（大小不拘）中的一份}}
    cases:
      - {{answer: a, status: correct, score: 1}}
      - {{answer: b, status: incorrect, score: 0}}
  - id: q-half-plus-quarter
    level: 1
    concepts: [adding-fractions, fraction]
    kind: numeric
    prompt: {{en: "What is 1/2 + 1/4 as a decimal number?", zh-TW: "1/2 + 1/4 等於多少（以小數表示）？"}}
    answer: "0.75"
    tolerance: {{rel: 0.0}}
    cases:
      - {{answer: "0.75", status: correct, score: 1}}
      - {{answer: "0.5", status: incorrect, score: 0}}
  - id: q-sum-formula
    level: 1
    concepts: [adding-fractions]
    kind: expression
    prompt: {{en: "Write a/b + c/d as one fraction.", zh-TW: "把 a/b + c/d 寫成一個分數。"}}
    symbols: {{a: [positive], b: [positive], c: [positive], d: [positive]}}
    answer: "(a*d + b*c)/(b*d)"
    cases:
      - {{answer: "(a*d + c*b)/(b*d)", status: correct, score: 1}}
      - {{answer: "(a + c)/(b + d)", status: incorrect, score: 0}}
"""

PAGES: dict[str, tuple[str, str]] = {
    "level-1": ("# Basics\n\nWhat a fraction is, and how to add two of them.\n",
                "# 基礎\n\n分數是什麼，以及如何相加兩個分數。\n"),
    "fraction": ("# Fractions\n\nThe fraction a/b takes a parts of a whole cut into b equal "
                 "parts: 1/2 is one of two equal halves.\n",
                 "# 分數\n\n分數 a/b 表示把整體平均分成 b 份後取其中 a 份：1/2 就是兩個相等的半份之一。\n"),
    "adding-fractions": ("# Adding fractions\n\nRewrite both fractions over a common denominator, "
                         "then add the numerators: a/b + c/d = (a·d + b·c)/(b·d). "
                         "For example 1/2 + 1/4 = 2/4 + 1/4 = 3/4 = 0.75.\n",
                         "# 分數加法\n\n先把兩個分數通分，再把分子相加：a/b + c/d = (a·d + b·c)/(b·d)。"
                         "例如 1/2 + 1/4 = 2/4 + 1/4 = 3/4 = 0.75。\n"),
}
"""page -> (English, zh-TW) Markdown."""


class ScaffoldError(Exception):
    """The course cannot be created there (the message says why)."""


def _schema_target(course_dir: Path) -> tuple[Path, bool]:
    """The schema the modeline should name: the repository's, or a copy written in the course."""
    from tutor.paths import data_root

    repo_schema = data_root() / "schema" / SCHEMA_NAME
    if repo_schema.is_file():
        return repo_schema, False
    return course_dir / SCHEMA_NAME, True


def new_course(directory: str | os.PathLike[str], course_id: str | None = None) -> list[Path]:
    """Write a minimal valid course into ``directory`` (absent or empty); returns the files."""
    import re

    root = Path(directory)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(str(root))
    cid = course_id or root.resolve().name.lower()
    if not re.match(ID_PATTERN, cid):
        raise ScaffoldError(cid)
    root.mkdir(parents=True, exist_ok=True)
    schema, copy = _schema_target(root)
    if copy:
        import json

        from tutor.curriculum.schema import schema_dict

        schema.write_text(json.dumps(schema_dict(), ensure_ascii=False, indent=2) + "\n",
                          encoding="utf-8")
    written: list[Path] = [schema] if copy else []

    def write(rel: str, text: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        modeline = "# yaml-language-server: $schema=" + Path(
            os.path.relpath(schema.resolve(), path.parent.resolve())).as_posix()
        path.write_text(text.format(modeline=modeline, course_id=cid), encoding="utf-8")
        written.append(path)

    write("course.yaml", COURSE)
    write("levels.yaml", LEVELS)
    write("concepts.yaml", CONCEPTS)
    write("plan.yaml", PLAN)
    write("questions/starter.yaml", QUESTIONS)
    for page, (en, zh) in PAGES.items():
        for lang, body in (("en", en), ("zh-TW", zh)):
            path = root / "content" / lang / f"{page}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written
