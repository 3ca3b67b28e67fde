"""Lesson pages: both languages exist for every level and concept and have the same structure."""

from __future__ import annotations

import re

import pytest

from tutor.curriculum import load_course
from tutor.paths import content_dir, default_course_dir

COURSE = load_course(default_course_dir())
PAGES = sorted({c.page for c in COURSE.concepts.values()} | {lv.page for lv in COURSE.levels})


def _headings(text: str) -> list[str]:
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,3} ", line):
            out.append(line.split(" ", 1)[0])
    return out


@pytest.mark.parametrize("page", PAGES)
def test_page_pair_has_matching_structure(page: str) -> None:
    en = (content_dir() / "en" / f"{page}.md").read_text(encoding="utf-8")
    zh = (content_dir() / "zh-TW" / f"{page}.md").read_text(encoding="utf-8")
    assert en.startswith("# ") and zh.startswith("# ")
    assert _headings(en) == _headings(zh), "en and zh-TW pages have different section outlines"
    assert re.search(r"[\u4e00-\u9fff]", zh), "zh-TW page has no Chinese text"
    assert "$$" not in en + zh, "use Unicode math, not LaTeX blocks (rendered in a terminal)"


def test_orpo_named_correctly_everywhere() -> None:
    """The seed's error (ORPO expanded as 奇偶排序偏好優化) must not survive outside the errata;
    a page may still warn about the mix-up."""
    for path in content_dir().rglob("*.md"):
        if path.name == "ERRATA.md":
            continue
        assert "奇偶排序偏好" not in path.read_text(encoding="utf-8"), path
