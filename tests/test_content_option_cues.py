"""The shipped bank does not give away its single-answer choice keys by position or by length.

Per-learner shuffling (the engine) hides the position at display time; these tests keep the
YAML itself honest, so an author reading or exporting the bank, or a shuffle-free view, shows no
cue either (item-writing rules: homogeneous, equally plausible options; issue 13, item 3).
Three cues are measured over the bank, in both languages where length is concerned:
- the key is the longest option ("pick the longest" must not pay),
- the key's YAML position ("pick a" must not pay),
- the key's length rank ("pick the second longest" must not pay either: lengthening one
  distractor per question would otherwise just move the cue).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.answers.schema import Question

QDIR = Path(__file__).resolve().parents[1] / "curriculum" / "core-training-techniques" / "questions"
LANGS = ("en", "zh-TW")
MAX_LONGEST_SHARE = 0.35
"""The key may be the strictly longest option in at most this share of the questions (with 3-4
equally long options it would be so by chance in 25-33 %)."""
MAX_POSITION_SHARE = 0.40
"""No YAML position may hold more than this share of the keys (the issue's 40 % rule)."""
MAX_RANK_SHARE = 0.60
"""No length rank (number of distractors longer than the key) may hold more than this share."""


def _single_answer_choices() -> list[Question]:
    out: list[Question] = []
    for path in sorted(QDIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in data.get("questions", []):
            q = Question.model_validate(raw)
            if q.kind == "choice" and sum(o.correct for o in q.options) == 1:
                out.append(q)
    return out


def _key_index(q: Question) -> int:
    return next(i for i, o in enumerate(q.options) if o.correct)


def _longer_distractors(q: Question, lang: str) -> int:
    """How many distractors are strictly longer than the key (0 = the key is longest or tied)."""
    k = _key_index(q)
    key_len = len(q.options[k].text.get(lang))
    return sum(len(o.text.get(lang)) > key_len for i, o in enumerate(q.options) if i != k)


def _key_is_longest(q: Question, lang: str) -> bool:
    """True when the key is strictly longer than every distractor (a tie gives nothing away)."""
    k = _key_index(q)
    key_len = len(q.options[k].text.get(lang))
    return all(key_len > len(o.text.get(lang)) for i, o in enumerate(q.options) if i != k)


def longest_share(questions: list[Question], lang: str) -> float:
    """Share of questions whose key is the strictly longest option."""
    return sum(_key_is_longest(q, lang) for q in questions) / len(questions)


def position_share(questions: list[Question]) -> float:
    """Share of keys at the most common YAML position."""
    return Counter(_key_index(q) for q in questions).most_common(1)[0][1] / len(questions)


def rank_share(questions: list[Question], lang: str) -> float:
    """Share of keys at the most common length rank."""
    ranks = Counter(_longer_distractors(q, lang) for q in questions)
    return ranks.most_common(1)[0][1] / len(questions)


QUESTIONS = _single_answer_choices()


def test_the_bank_has_enough_choice_questions_to_measure() -> None:
    assert len(QUESTIONS) >= 40


@pytest.mark.parametrize("lang", LANGS)
def test_the_key_is_rarely_the_longest_option(lang: str) -> None:
    longest = [q.id for q in QUESTIONS if _key_is_longest(q, lang)]
    assert longest_share(QUESTIONS, lang) <= MAX_LONGEST_SHARE, (
        f"{lang}: the key is the longest option in {len(longest)}/{len(QUESTIONS)}: {longest}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_key_length_rank_is_spread(lang: str) -> None:
    ranks = Counter(_longer_distractors(q, lang) for q in QUESTIONS)
    assert rank_share(QUESTIONS, lang) <= MAX_RANK_SHARE, (
        f"{lang}: distractors longer than the key, per question: {dict(ranks)}")


def test_the_key_position_is_spread() -> None:
    positions = Counter(_key_index(q) for q in QUESTIONS)
    assert position_share(QUESTIONS) <= MAX_POSITION_SHARE, (
        f"key positions over {len(QUESTIONS)} questions: {dict(positions)}")


def _ordering_questions() -> list[Question]:
    out: list[Question] = []
    for path in sorted(QDIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out.extend(q for q in (Question.model_validate(r) for r in data.get("questions", []))
                   if q.kind == "ordering")
    return out


def listed_in_answer_order(q: Question) -> bool:
    """True when the YAML lists an ordering question's items in the right order."""
    answer = q.answer if isinstance(q.answer, str) else ",".join(q.answer or [])
    return [o.id for o in q.options] == [a.strip() for a in answer.split(",")]


def test_ordering_items_are_not_listed_in_the_answer_order() -> None:
    ordered = [q.id for q in _ordering_questions() if listed_in_answer_order(q)]
    assert not ordered, f"listed in the right order already: {ordered}"


def _synthetic(key_text: str, other_text: str, key_first: bool) -> Question:
    key: dict[str, Any] = {"id": "a", "correct": True, "text": {"en": key_text, "zh-TW": key_text}}
    other: dict[str, Any] = {"id": "b", "text": {"en": other_text, "zh-TW": other_text}}
    options = [key, other] if key_first else [other, key]
    for i, o in enumerate(options):
        o["id"] = "ab"[i]
    answer = "a" if key_first else "b"
    return Question.model_validate({
        "id": "cue", "level": 1, "concepts": ["c"], "kind": "choice",
        "prompt": {"en": "p", "zh-TW": "p"}, "options": options, "answer": answer,
        "cases": [{"answer": answer, "status": "correct"}],
    })


def test_the_measures_can_fail() -> None:
    """A bank that always puts the longest option first fails all three measures."""
    bad = [_synthetic("a long, careful answer", "short", key_first=True) for _ in range(5)]
    assert longest_share(bad, "en") == 1.0 > MAX_LONGEST_SHARE
    assert position_share(bad) == 1.0 > MAX_POSITION_SHARE
    assert rank_share(bad, "zh-TW") == 1.0 > MAX_RANK_SHARE
    listed = Question.model_validate({
        "id": "ord", "level": 1, "concepts": ["c"], "kind": "ordering",
        "prompt": {"en": "p", "zh-TW": "p"}, "answer": "b,a",
        "options": [{"id": "b", "text": {"en": "1", "zh-TW": "1"}},
                    {"id": "a", "text": {"en": "2", "zh-TW": "2"}}],
        "cases": [{"answer": "b,a", "status": "correct"}],
    })
    assert listed_in_answer_order(listed)
    mixed = [_synthetic("short", "a long, careful answer", key_first=i % 2 == 0) for i in range(4)]
    assert longest_share(mixed, "en") == 0.0
    assert position_share(mixed) == 0.5
