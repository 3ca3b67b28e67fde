"""User-facing strings of the lab commands, in en and zh-TW (kept here, next to their only user,
so that the shared tutor/i18n.py catalogue is not edited by several people at once)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "lab.unknown": {
        "en": "unknown lab {lab!r}; known: {known}",
        "zh-TW": "未知的實驗 {lab!r}；已知：{known}",
    },
    "lab.no_exercise": {
        "en": "{lab} has no runnable exercise yet",
        "zh-TW": "{lab} 尚未提供可執行的練習",
    },
    "lab.spec_error": {"en": "invalid lab spec:", "zh-TW": "實驗規格無效："},
    "lab.col.id": {"en": "ID", "zh-TW": "編號"},
    "lab.col.state": {"en": "STATE", "zh-TW": "狀態"},
    "lab.col.exercise": {"en": "EXERCISE", "zh-TW": "練習"},
    "lab.col.title": {"en": "TITLE", "zh-TW": "標題"},
    "lab.state.unlocked": {"en": "unlocked", "zh-TW": "已解鎖"},
    "lab.state.locked": {"en": "locked", "zh-TW": "未解鎖"},
    "lab.state.passed": {"en": "passed", "zh-TW": "已通過"},
    "lab.state.unknown": {"en": "unknown", "zh-TW": "未知"},
    "lab.exercise.yes": {"en": "ready", "zh-TW": "可執行"},
    "lab.exercise.no": {"en": "-", "zh-TW": "-"},
    "lab.concepts": {"en": "concepts: {ids}", "zh-TW": "概念：{ids}"},
    "lab.started": {
        "en": "{lab}: starter files copied to {path}\nedit the files marked TODO, then: tutor lab run {lab}",
        "zh-TW": "{lab}：起始檔案已複製到 {path}\n完成標記 TODO 的部分後執行：tutor lab run {lab}",
    },
    "lab.exists": {
        "en": "{path} already holds your work for {lab}; nothing was overwritten "
              "(use --force to start over)",
        "zh-TW": "{path} 已有你在 {lab} 的作業；未覆寫任何檔案（要重新開始請加 --force）",
    },
    "lab.no_stack": {
        "en": "the lab stack is not installed (missing: {missing}); install it with: "
              "pip install -e \".[labs]\"",
        "zh-TW": "尚未安裝實驗所需套件（缺少：{missing}）；請執行：pip install -e \".[labs]\"",
    },
    "lab.not_started": {
        "en": "{lab} has no workspace yet: run `tutor lab start {lab}` first",
        "zh-TW": "{lab} 尚無工作區：請先執行 `tutor lab start {lab}`",
    },
    "lab.locked_warning": {
        "en": "note: {lab} is still locked for this learner ({reason})",
        "zh-TW": "注意：此學習者的 {lab} 尚未解鎖（{reason}）",
    },
    "lab.running": {
        "en": "running {lab} ({what}) -> {out}\nlog: {log}",
        "zh-TW": "正在執行 {lab}（{what}）-> {out}\n紀錄檔：{log}",
    },
    "lab.what.solution": {"en": "reference solution", "zh-TW": "參考解答"},
    "lab.what.workspace": {"en": "your workspace", "zh-TW": "你的工作區"},
    "lab.progress": {
        "en": "step {step}/{total}  loss {loss}",
        "zh-TW": "步驟 {step}/{total}  損失 {loss}",
    },
    "lab.done": {
        "en": "finished in {elapsed:.1f} s; artifacts in {out}",
        "zh-TW": "完成，耗時 {elapsed:.1f} 秒；產出檔位於 {out}",
    },
    "lab.failed": {
        "en": "the run failed (exit code {code}) after {elapsed:.1f} s; last log lines:\n{tail}",
        "zh-TW": "執行失敗（結束碼 {code}），耗時 {elapsed:.1f} 秒；紀錄檔最後幾行：\n{tail}",
    },
    "lab.timeout": {
        "en": "the run was stopped after {limit:.0f} s (time budget)",
        "zh-TW": "執行超過 {limit:.0f} 秒（時間預算），已停止",
    },
    "lab.no_done": {
        "en": "the run ended without its final {{\"event\": \"done\"}} line",
        "zh-TW": "執行結束，但沒有輸出最後的 {{\"event\": \"done\"}} 行",
    },
    "lab.check.line": {
        "en": "[{mark}] {title} ({points:g}/{max_points:g}): {message}",
        "zh-TW": "[{mark}] {title}（{points:g}/{max_points:g}）：{message}",
    },
    "lab.check.total": {
        "en": "{passed}/{total} checks passed; {points:g}/{max_points:g} points "
              "(full graded report: tutor grade)",
        "zh-TW": "{passed}/{total} 項檢查通過；{points:g}/{max_points:g} 分（完整評分報告：tutor grade）",
    },
    "dev.lab": {"en": "{lab}: {status}", "zh-TW": "{lab}：{status}"},
    "dev.ok": {"en": "ok", "zh-TW": "通過"},
    "dev.problem": {"en": "  - {problem}", "zh-TW": "  - {problem}"},
    "dev.starter_passes": {
        "en": "the starter passes every check (it must fail at least one)",
        "zh-TW": "起始檔案通過了所有檢查（至少要有一項失敗）",
    },
    "dev.starter_result": {
        "en": "starter: {passed}/{total} checks pass (expected: not all)",
        "zh-TW": "起始檔案：{passed}/{total} 項檢查通過（預期：不全部通過）",
    },
    "dev.solution_result": {
        "en": "solution: {passed}/{total} checks pass in {elapsed:.1f} s",
        "zh-TW": "解答：{passed}/{total} 項檢查通過，耗時 {elapsed:.1f} 秒",
    },
    "dev.solution_fails": {
        "en": "solution fails {check}: {message}",
        "zh-TW": "解答未通過 {check}：{message}",
    },
    "dev.no_todo": {
        "en": "starter file {file} has no TODO marker",
        "zh-TW": "起始檔案 {file} 沒有 TODO 標記",
    },
    "dev.starter_is_solution": {
        "en": "every starter file equals its solution: there is nothing to do",
        "zh-TW": "每個起始檔案都與解答相同：沒有需要完成的部分",
    },
    "dev.unknown_question": {
        "en": "analysis question {id!r} is not in the course's question bank",
        "zh-TW": "分析題 {id!r} 不在課程題庫中",
    },
    "dev.unknown_concept": {
        "en": "concept {id!r} is not in the course",
        "zh-TW": "概念 {id!r} 不在課程中",
    },
    "dev.new_error": {"en": "tutor dev new: {error}", "zh-TW": "tutor dev new：{error}"},
    "dev.new_done": {
        "en": "wrote {lab}\n      {checker}\n      {test}\nnext: tutor dev check --lab {id}",
        "zh-TW": "已寫入 {lab}\n      {checker}\n      {test}\n下一步：tutor dev check --lab {id}",
    },
    "dev.param_mismatch": {
        "en": "{file}: {name} = {code} but lab.yaml params.{param} = {yaml}",
        "zh-TW": "{file}：{name} = {code}，但 lab.yaml 的 params.{param} = {yaml}",
    },
    "dev.course_field": {
        "en": "the course's labs.yaml says {field} = {course}, lab.yaml says {lab}",
        "zh-TW": "課程的 labs.yaml 寫 {field} = {course}，lab.yaml 寫 {lab}",
    },
    "dev.no_exercise": {
        "en": "{lab}: the course's labs.yaml names exercises/{exercise}, which has no lab.yaml",
        "zh-TW": "{lab}：課程的 labs.yaml 指向 exercises/{exercise}，但那裡沒有 lab.yaml",
    },
    "dev.checker_import": {
        "en": "checker graders.labs.{checker} cannot be imported: {error}",
        "zh-TW": "無法匯入評分模組 graders.labs.{checker}：{error}",
    },
    "dev.no_check_fn": {
        "en": "check {check} has no @check function in graders.labs.{checker}",
        "zh-TW": "檢查 {check} 在 graders.labs.{checker} 中沒有 @check 函式",
    },
    "dev.extra_check_fn": {
        "en": "graders.labs.{checker} has @check({check}) but lab.yaml has no such check",
        "zh-TW": "graders.labs.{checker} 有 @check({check})，但 lab.yaml 沒有這項檢查",
    },
    "dev.not_in_course": {
        "en": "lab {lab} is not listed in the course's labs.yaml",
        "zh-TW": "實驗 {lab} 未列在課程的 labs.yaml 中",
    },
    "dev.summary_ok": {
        "en": "dev check passed: {count} lab(s)",
        "zh-TW": "dev check 通過：{count} 個實驗",
    },
    "dev.summary_failed": {
        "en": "dev check failed: {count} problem(s)",
        "zh-TW": "dev check 失敗：{count} 個問題",
    },
}


def t(key: str, **fields: object) -> str:
    """The message ``key`` in the current language (tutor.i18n), formatted with ``fields``."""
    from tutor.i18n import get_lang

    entry = MESSAGES[key]
    template = entry.get(get_lang()) or entry["en"]
    return template.format(**fields)
