"""Language selection and the message catalogue for user-facing strings.

Every user-facing string lives in ``MESSAGES`` in both languages. Course text (titles, prompts,
feedback) is localised in the YAML itself as ``{en: ..., zh-TW: ...}`` objects.
"""

from __future__ import annotations

import locale
import os
from typing import Literal

Lang = Literal["en", "zh-TW"]
LANGS: tuple[Lang, ...] = ("en", "zh-TW")
DEFAULT_LANG: Lang = "en"


def normalise_lang(value: str | None) -> Lang | None:
    """Map 'zh_TW.UTF-8', 'zh-tw', 'zh_Hant', 'en_US' ... onto a supported language."""
    if not value:
        return None
    v = value.split(".")[0].replace("_", "-").lower()
    if v.startswith("zh"):
        return "zh-TW"
    if v.startswith("en") or v in ("c", "posix"):
        return "en"
    return None


def resolve_lang(cli_value: str | None = None) -> Lang:
    """--lang, then TUTOR_LANG, then the locale (LC_ALL, LC_MESSAGES, LANG), then English."""
    for candidate in (
        cli_value,
        os.environ.get("TUTOR_LANG"),
        os.environ.get("LC_ALL"),
        os.environ.get("LC_MESSAGES"),
        os.environ.get("LANG"),
    ):
        lang = normalise_lang(candidate)
        if lang:
            return lang
    try:
        loc = locale.getlocale()[0]
    except ValueError:
        loc = None
    return normalise_lang(loc) or DEFAULT_LANG


_current: Lang = DEFAULT_LANG


def set_lang(lang: Lang) -> None:
    global _current
    _current = lang


def get_lang() -> Lang:
    return _current


# key -> {lang: template}. Templates use str.format fields.
MESSAGES: dict[str, dict[str, str]] = {
    "validate.ok": {
        "en": "ok: {course}: {levels} levels, {concepts} concepts, {days} days, {labs} labs, "
        "{questions} questions, {edges} edges",
        "zh-TW": "通過：{course}：{levels} 個層級、{concepts} 個概念、{days} 天、{labs} 個實驗、"
        "{questions} 題、{edges} 條邊",
    },
    "validate.failed": {
        "en": "{count} problem(s) found",
        "zh-TW": "發現 {count} 個問題",
    },
    "plan.day": {"en": "Day {day}", "zh-TW": "第 {day} 天"},
    "plan.hours": {
        "en": "{theory} h theory + {practice} h practice",
        "zh-TW": "{theory} 小時理論 + {practice} 小時實作",
    },
    "plan.labs": {"en": "Labs", "zh-TW": "實驗"},
    "plan.items": {"en": "Items", "zh-TW": "學習項目"},
    "plan.no_day": {
        "en": "error: no day {day} in the plan (1..{last})",
        "zh-TW": "錯誤：計畫中沒有第 {day} 天（1..{last}）",
    },
    "graph.nodes": {"en": "{n} nodes, {e} edges", "zh-TW": "{n} 個節點、{e} 條邊"},
    "error.course": {
        "en": "error: the course does not load; run `tutor validate` for details",
        "zh-TW": "錯誤：課程無法載入；請執行 `tutor validate` 查看細節",
    },
}


def t(key: str, lang: Lang | None = None, **fields: object) -> str:
    """Translate ``key`` into ``lang`` (default: the current language) and fill its fields."""
    entry = MESSAGES[key]
    template = entry.get(lang or _current) or entry["en"]
    return template.format(**fields) if fields else template
