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
    # --- engine and progress commands (tutor/engine, tutor/cli/progress.py) ---
    "engine.lock.prereq": {"en": "needs {ids} mastered first", "zh-TW": "需先精熟 {ids}"},
    "engine.lock.external": {
        "en": "needs the external prerequisite(s) {ids} (run `tutor placement`, or --skip)",
        "zh-TW": "需先滿足外部先備知識 {ids}（執行 `tutor placement`，或使用 --skip）",
    },
    "engine.lock.level": {
        "en": "level {level} of {topic} not reached: master {ids} first",
        "zh-TW": "尚未達到 {topic} 的第 {level} 層級：需先精熟 {ids}",
    },
    "engine.lock.lab": {"en": "master {ids} first", "zh-TW": "需先精熟 {ids}"},
    "engine.lab.unlocked": {"en": "{ids} mastered", "zh-TW": "已精熟 {ids}"},
    "engine.warn.soft": {
        "en": "{concept}: recommended first: {ids}", "zh-TW": "{concept}：建議先學習 {ids}",
    },
    "engine.warn.practice": {
        "en": "practice mode: {concept} is locked ({reason}); the answer still counts",
        "zh-TW": "練習模式：{concept} 尚未解鎖（{reason}）；此答案仍會計入",
    },
    "engine.unknown_lab": {
        "en": "unknown lab id {id!r}",
        "zh-TW": "未知的實驗編號 {id!r}",
    },
    "engine.unknown_question": {
        "en": "error: unknown question id '{id}' (see `tutor questions`)",
        "zh-TW": "錯誤：未知的題目 id「{id}」（請見 `tutor questions`）",
    },
    "engine.unknown_external": {
        "en": "error: '{id}' is not an external prerequisite of this course (known: {known})",
        "zh-TW": "錯誤：「{id}」不是本課程的外部先備知識（可用：{known}）",
    },
    "engine.unknown_item": {
        "en": "error: unknown item '{id}' (give a question, concept or external prerequisite id)",
        "zh-TW": "錯誤：未知的項目「{id}」（請提供題目、概念或外部先備知識的 id）",
    },
    "engine.reason.review_due": {
        "en": "Review: {concept} is due (estimated recall {r})",
        "zh-TW": "複習：{concept} 已到期（預估記憶保留率 {r}）",
    },
    "engine.reason.review_failed": {
        "en": "Review: you missed {concept} at the last review; it needs review",
        "zh-TW": "複習：上次複習 {concept} 答錯了，需要再複習",
    },
    "engine.reason.plan_today": {
        "en": "Today's plan (day {day}): {concept}",
        "zh-TW": "今日計畫（第 {day} 天）：{concept}",
    },
    "engine.reason.plan_behind": {
        "en": "Day {day} of the plan is not finished ({behind} day(s) behind): {concept}",
        "zh-TW": "計畫第 {day} 天尚未完成（落後 {behind} 天）：{concept}",
    },
    "engine.reason.plan_lab": {
        "en": "Day {day} of the plan: the lab \"{lab}\" is unlocked",
        "zh-TW": "計畫第 {day} 天：實驗「{lab}」已解鎖",
    },
    "engine.reason.lowest": {
        "en": "{concept} is ready and has your lowest mastery ({p})",
        "zh-TW": "{concept} 已可學習，且是你目前精熟度最低的概念（{p}）",
    },
    "engine.reason.lesson_no_fresh": {
        "en": "No new questions left for {concept}: reread the lesson",
        "zh-TW": "{concept} 已沒有新題目：請重讀課文",
    },
    "engine.reason.lesson_no_questions": {
        "en": "{concept} has no questions yet: read the lesson",
        "zh-TW": "{concept} 目前沒有題目：請閱讀課文",
    },
    "engine.reason.lab": {
        "en": "The lab \"{lab}\" is unlocked and not passed yet",
        "zh-TW": "實驗「{lab}」已解鎖，尚未通過",
    },
    "engine.reason.placement": {
        "en": "Concepts are locked behind external prerequisites ({externals}): "
        "run `tutor placement` (or --skip)",
        "zh-TW": "部分概念因外部先備知識（{externals}）而鎖定：請執行 `tutor placement`（或 --skip）",
    },
    "engine.reason.stuck": {
        "en": "{n} concept(s) are not mastered but none is ready or has questions left",
        "zh-TW": "尚有 {n} 個概念未精熟，但沒有可學習或仍有題目的概念",
    },
    "engine.reason.done": {
        "en": "Everything is mastered and every lab passed. Well done!",
        "zh-TW": "所有概念皆已精熟、所有實驗皆已通過。做得好！",
    },
    "engine.state.not_started": {"en": "not started", "zh-TW": "未開始"},
    "engine.state.learning": {"en": "learning", "zh-TW": "學習中"},
    "engine.state.mastered": {"en": "mastered", "zh-TW": "已精熟"},
    "engine.state.needs_review": {"en": "needs review", "zh-TW": "需要複習"},
    "progress.db_error": {"en": "error: {error}", "zh-TW": "錯誤：{error}"},
    "progress.bad_hints": {
        "en": "error: --hints must be 0 or more", "zh-TW": "錯誤：--hints 必須大於或等於 0",
    },
    "progress.status.correct": {"en": "Correct", "zh-TW": "正確"},
    "progress.status.partial": {"en": "Partly correct", "zh-TW": "部分正確"},
    "progress.status.incorrect": {"en": "Incorrect", "zh-TW": "不正確"},
    "progress.status.invalid": {"en": "Could not read the answer", "zh-TW": "無法解讀答案"},
    "progress.status.undetermined": {
        "en": "Could not decide", "zh-TW": "無法判定",
    },
    "progress.status.timeout": {"en": "Grading timed out", "zh-TW": "評分逾時"},
    "progress.not_recorded": {
        "en": "Not recorded: the answer could not be read, so it costs nothing. Try again.",
        "zh-TW": "未記錄：無法解讀此答案，因此不計分。請再試一次。",
    },
    "progress.mastery_line": {
        "en": "{concept}: {before} -> {after} ({state})",
        "zh-TW": "{concept}：{before} -> {after}（{state}）",
    },
    "progress.not_counted": {
        "en": "(not your first attempt at this question: recorded, mastery unchanged)",
        "zh-TW": "（非此題的第一次作答：已記錄，精熟度不變）",
    },
    "progress.mastered": {"en": "Mastered: {ids}", "zh-TW": "已精熟：{ids}"},
    "progress.unlocked": {"en": "Unlocked: {ids}", "zh-TW": "已解鎖：{ids}"},
    "progress.unlocked_labs": {"en": "Labs unlocked: {ids}", "zh-TW": "已解鎖實驗：{ids}"},
    "progress.kind.review": {"en": "Review", "zh-TW": "複習"},
    "progress.kind.question": {"en": "Question", "zh-TW": "題目"},
    "progress.kind.lesson": {"en": "Lesson", "zh-TW": "課文"},
    "progress.kind.lab": {"en": "Lab", "zh-TW": "實驗"},
    "progress.kind.placement": {"en": "Placement", "zh-TW": "分級測驗"},
    "progress.kind.done": {"en": "Done", "zh-TW": "完成"},
    "progress.header": {"en": "Progress of {learner}", "zh-TW": "{learner} 的學習進度"},
    "progress.pacing": {
        "en": "Plan day {plan_day} (calendar day {expected}: {pace}), {hours} h left",
        "zh-TW": "計畫第 {plan_day} 天（日曆第 {expected} 天：{pace}），剩餘 {hours} 小時",
    },
    "progress.pace.ahead": {"en": "{n} day(s) ahead", "zh-TW": "超前 {n} 天"},
    "progress.pace.behind": {"en": "{n} day(s) behind", "zh-TW": "落後 {n} 天"},
    "progress.pace.on_time": {"en": "on schedule", "zh-TW": "進度正常"},
    "progress.due": {"en": "Due for review: {ids}", "zh-TW": "待複習：{ids}"},
    "progress.level_line": {
        "en": "Level {level} {title}: {mastered}/{total} mastered, mean {mean}",
        "zh-TW": "第 {level} 層級 {title}：已精熟 {mastered}/{total}，平均 {mean}",
    },
    "progress.locked": {"en": "locked", "zh-TW": "未解鎖"},
    "progress.labs": {"en": "Labs", "zh-TW": "實驗"},
    "progress.passed": {"en": "passed", "zh-TW": "已通過"},
    "progress.open": {"en": "unlocked", "zh-TW": "已解鎖"},
    "progress.external.placement": {"en": "met (placement)", "zh-TW": "已滿足（分級測驗）"},
    "progress.external.skip": {"en": "met (skipped)", "zh-TW": "已滿足（略過）"},
    "progress.external.unmet": {"en": "not met", "zh-TW": "未滿足"},
    "progress.rubric_total": {
        "en": "Rubric total: {total} / 100 ({parts}; {graded}/{labs} labs graded; buckets without evidence left out)",
        "zh-TW": "評量總分：{total} / 100（{parts}；已評分實驗 {graded}/{labs}；無證據的項目不計入）",
    },
    "progress.rubric": {
        "en": "Rubric, concepts: {score} = {points}/{weight} points ({mastered}/{total} mastered)",
        "zh-TW": "評量標準，概念：{score} = {points}/{weight} 分（已精熟 {mastered}/{total}）",
    },
    "placement.skipped": {
        "en": "Skipped {id}: counted as met", "zh-TW": "已略過 {id}：視為已滿足",
    },
    "placement.bad_json": {
        "en": "error: --answers is not a JSON object of strings: {error}",
        "zh-TW": "錯誤：--answers 不是由字串組成的 JSON 物件：{error}",
    },
    "placement.no_questions": {
        "en": "{id}: no diagnostic questions; use --skip {id} if you know it",
        "zh-TW": "{id}：沒有診斷題目；若已具備可使用 --skip {id}",
    },
    "placement.header": {
        "en": "Placement: {title} ({n} question(s); an empty answer skips)",
        "zh-TW": "分級測驗：{title}（{n} 題；空白表示略過）",
    },
    "placement.passed": {
        "en": "{title}: passed ({correct}/{total})", "zh-TW": "{title}：通過（{correct}/{total}）",
    },
    "placement.failed": {
        "en": "{title}: not passed ({correct}/{total}); study it first or use --skip",
        "zh-TW": "{title}：未通過（{correct}/{total}）；請先補強，或使用 --skip",
    },
    "export.write_error": {
        "en": "error: cannot write {path}: {error}", "zh-TW": "錯誤：無法寫入 {path}：{error}",
    },
    "reset.refuse": {
        "en": "refusing to reset without --yes (nothing was changed)",
        "zh-TW": "未加上 --yes，拒絕重設（未做任何變更）",
    },
    "reset.done_all": {
        "en": "Reset all progress of {learner}: earlier attempts stay in the log but no longer count.",
        "zh-TW": "已重設 {learner} 的全部進度：先前的作答仍保留在紀錄中，但不再計入。",
    },
    "reset.done_item": {
        "en": "Reset {id} for {learner}: earlier attempts stay in the log but no longer count.",
        "zh-TW": "已重設 {learner} 的 {id}：先前的作答仍保留在紀錄中，但不再計入。",
    },
    "progress.next_line": {"en": "{kind}: {id}", "zh-TW": "{kind}：{id}"},
    "progress.question_error": {
        "en": "error: question {id} is broken ({error}); nothing was recorded",
        "zh-TW": "錯誤：題目 {id} 有誤（{error}）；未記錄任何作答",
    },
    "progress.status_line": {"en": "{status} ({score})", "zh-TW": "{status}（{score}）"},
    # answers (tutor check / tutor questions)
    "check.status": {"en": "Status: {status} (score {score})", "zh-TW": "結果：{status}（得分 {score}）"},
    "check.read_as": {"en": "Read as: {text}", "zh-TW": "解讀為：{text}"},
    "check.feedback": {"en": "Feedback: {text}", "zh-TW": "回饋：{text}"},
    "check.warning": {"en": "Warning: {text}", "zh-TW": "警告：{text}"},
    "check.note": {"en": "Note: {note}  ({ms} ms)", "zh-TW": "註記：{note}（{ms} 毫秒）"},
    "check.pitfall": {"en": "Pitfall: {id}", "zh-TW": "常見誤區：{id}"},
    "check.status.correct": {"en": "correct", "zh-TW": "正確"},
    "check.status.partial": {"en": "partly correct", "zh-TW": "部分正確"},
    "check.status.incorrect": {"en": "incorrect", "zh-TW": "錯誤"},
    "check.status.invalid": {"en": "invalid input (no attempt counted)", "zh-TW": "輸入無效（不計作答次數）"},
    "check.status.undetermined": {"en": "undetermined", "zh-TW": "無法判定"},
    "check.status.timeout": {"en": "timed out", "zh-TW": "逾時"},
    "check.unknown_question": {"en": "error: unknown question id '{id}'", "zh-TW": "錯誤：找不到題目 '{id}'"},
    "check.usage": {
        "en": "give QUESTION_ID ANSWER, or --expected EXPR --answer EXPR",
        "zh-TW": "請提供 QUESTION_ID ANSWER，或 --expected EXPR --answer EXPR",
    },
    "check.bad_assumption": {
        "en": "unknown assumption '{name}' (use {allowed})",
        "zh-TW": "未知的假設 '{name}'（可用：{allowed}）",
    },
    "check.bad_expected": {"en": "error: {error}", "zh-TW": "錯誤：{error}"},
    "check.question_broken": {"en": "error: the question is broken: {error}", "zh-TW": "錯誤：題目本身有誤：{error}"},
    "check.course_fallback": {
        "en": "warning: the course does not validate; reading its questions directly",
        "zh-TW": "警告：課程未通過驗證；直接讀取題庫",
    },
    "questions.none": {"en": "no questions match", "zh-TW": "沒有符合條件的題目"},
    "questions.count": {"en": "{n} question(s)", "zh-TW": "共 {n} 題"},
}


def t(key: str, lang: Lang | None = None, **fields: object) -> str:
    """Translate ``key`` into ``lang`` (default: the current language) and fill its fields."""
    entry = MESSAGES[key]
    template = entry.get(lang or _current) or entry["en"]
    return template.format(**fields) if fields else template
