"""The validator's problem messages, in English and Traditional Chinese (Taiwan).

Every problem ``tutor validate`` reports has a stable ``code`` (for editors and CI, printed by
``--format json``) and a message in both languages. ``msg(code, **fields)`` returns a ``Msg``: the
English text as a ``str`` (so existing code and tests read it as before) that also carries its code
and its zh-TW text, which ``Problem.format(lang)`` prints under ``--lang zh-TW``.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # files and YAML syntax
    "missing-file": ("missing course file '{name}'", "缺少課程檔案 '{name}'"),
    "dir-not-found": ("course directory not found", "找不到課程目錄"),
    "file-not-found": ("file not found", "找不到檔案"),
    "not-utf8": ("not valid UTF-8 ({reason} at byte {byte})",
                 "不是有效的 UTF-8（第 {byte} 位元組：{reason}）"),
    "unreadable": ("cannot read file: {reason}", "無法讀取檔案：{reason}"),
    "empty-file": ("file is empty", "檔案是空的"),
    "too-large": ("document too large (more than {limit} nodes after expanding aliases)",
                  "文件過大（展開別名後超過 {limit} 個節點）"),
    "not-mapping": ("expected a mapping at the top of the file, found {found}",
                    "檔案最上層應為對應（mapping），實際為 {found}"),
    "yaml-syntax": ("YAML syntax error: {detail}", "YAML 語法錯誤：{detail}"),
    "yaml-error": ("YAML error: {detail}", "YAML 錯誤：{detail}"),
    "yaml-tab": ("tab character: YAML indents with spaces only; replace the tab with spaces",
                 "Tab 字元：YAML 只能用空白縮排；請把 Tab 換成空白"),
    "yaml-indent": ("bad indentation: this line is indented {found} spaces, but the {kind} it "
                    "belongs to (line {line}) is indented {expected}; give every key of a mapping "
                    "(every '-' of a list) the same indentation",
                    "縮排錯誤：這一行縮排 {found} 個空白，但它所屬的{kind_zh}（第 {line} 行）縮排 "
                    "{expected} 個；同一個對應的每個鍵（同一個清單的每個 '-'）縮排必須相同"),
    "yaml-indent-item": ("this line is indented {found} spaces like the items of the list at line "
                         "{line}, but it does not start with '- ': indent it like the keys above "
                         "it ({above} spaces) or make it a new '- ' item",
                         "這一行縮排 {found} 個空白，與第 {line} 行清單的項目相同，卻不是以 '- ' 開頭："
                         "請把它縮排成與上方的鍵相同（{above} 個空白），或改成新的 '- ' 項目"),
    "yaml-colon": ("': ' inside a value: if it is part of the text, quote the whole text "
                   "(en: \"Note: this\"); otherwise check this line's indentation",
                   "值裡出現 ': '：若它是文字的一部分，請用引號把整段文字括起來"
                   "（en: \"Note: this\"）；否則請檢查這一行的縮排"),
    "yaml-flow": ("the {open} opened at line {line} is not closed here: close it with '{close}', "
                  "or, if a ':' or ',' is part of the text, quote the text, e.g. "
                  "{{en: \"Note: this, too\"}}",
                  "第 {line} 行開始的 {open} 在這裡沒有結束：請以 '{close}' 結束它；若 ':' 或 ',' "
                  "是文字的一部分，請用引號括起文字，例如 {{en: \"Note: this, too\"}}"),
    "duplicate-key": ("duplicate key '{key}' (first defined at line {line})",
                      "重複的鍵 '{key}'（第一次定義於第 {line} 行）"),
    "merge-key": ("merge keys ('<<') are not supported", "不支援合併鍵（'<<'）"),
    "complex-key": ("mapping keys must be plain scalars", "對應的鍵必須是單純的純量"),
    # schema
    "missing-translation": ("missing translation '{lang}'", "缺少翻譯 '{lang}'"),
    "missing-field": ("missing required field '{name}'", "缺少必要欄位 '{name}'"),
    "unknown-key": ("unknown key '{key}'{hint}", "未知的鍵 '{key}'{hint_zh}"),
    "invalid-id": ("{where}invalid id {value} (use lower-case letters, digits, '-' and '.')",
                   "{where}無效的 id {value}（請用小寫字母、數字、'-' 與 '.'）"),
    "not-allowed": ("{where}{value} is not allowed; {detail}{hint}",
                    "{where}不允許 {value}；{detail}{hint_zh}"),
    "schema": ("{where}{detail}", "{where}{detail}"),
    # semantic checks
    "duplicate-id": ("duplicate {what} '{value}' (first defined at {first})",
                     "重複的{what_zh} '{value}'（第一次定義於 {first}）"),
    "unknown-ref": ("unknown {what} '{ref}'{hint}", "未知的{what_zh} '{ref}'{hint_zh}"),
    "undeclared-topic": ("topic '{topic}' is not among course.yaml topics{hint}",
                         "主題 '{topic}' 不在 course.yaml 的 topics 中{hint_zh}"),
    "cycle": ("prerequisite cycle: {names}", "先備知識形成循環：{names}"),
    "self-prerequisite": ("concept '{id}' requires itself", "概念 '{id}' 以自己為先備"),
    "rubric-weights": ("rubric weights sum to {total} ({weights}), not 100",
                       "評分標準權重總和為 {total}（{weights}），不是 100"),
    "level-numbers": ("level numbers must be consecutive from 1: expected {expected}, found {found}",
                      "層級編號必須從 1 連續編號：應為 {expected}，實際為 {found}"),
    "unknown-level": ("unknown level number {level}", "未知的層級編號 {level}"),
    "day-numbers": ("days must be numbered consecutively from 1: expected day {expected}, "
                    "found {found}",
                    "天數必須從 1 連續編號：應為第 {expected} 天，實際為第 {found} 天"),
    "day-outside-phase": ("day {day} is outside phase '{phase}' (days {first}-{last})",
                          "第 {day} 天不在階段 '{phase}' 的範圍內（第 {first}-{last} 天）"),
    "phase-order": ("phase '{phase}' ends (day {last}) before it starts (day {first})",
                    "階段 '{phase}' 的結束日（第 {last} 天）早於開始日（第 {first} 天）"),
    "unscheduled-concept": ("concept '{id}' is not scheduled on any day of the plan",
                            "概念 '{id}' 沒有排在計畫的任何一天"),
    "unscheduled-lab": ("lab '{id}' is not scheduled on any day of the plan",
                        "實驗 '{id}' 沒有排在計畫的任何一天"),
    "pitfall-not-listed": ("question '{question}' diagnoses pitfall '{pitfall}' but the pitfall's "
                           "diagnosed_by does not list it",
                           "題目 '{question}' 診斷誤區 '{pitfall}'，但該誤區的 diagnosed_by 沒有列出它"),
    "missing-page": ("missing content page '{path}'", "缺少課程頁面 '{path}'"),
    "missing-kit": ("missing lab kit '{path}'", "缺少實驗套件 '{path}'"),
    "question-test": ("question test failed: {detail}", "題目測試未通過：{detail}"),
}
"""code -> (English template, zh-TW template); ``str.format`` fields."""

WHAT_ZH: dict[str, str] = {
    "concept": "概念", "question": "題目", "lab": "實驗", "phase": "階段", "pitfall": "誤區",
    "external": "外部模組", "prerequisite": "先備知識", "level": "層級", "level number": "層級編號",
    "day": "天", "rubric bucket": "評分項目", "topic": "主題",
    "list": "清單", "mapping": "對應",
}
"""zh-TW names of the things messages talk about (``what`` fields)."""


class Msg(str):
    """An English problem message that also knows its ``code`` and its zh-TW text."""

    code: str
    zh: str
    hint_name: str
    """For ``unknown-key``: the key "did you mean" suggests ('' when none)."""
    field: str
    """For ``missing-field``: the missing key."""

    def __new__(cls, code: str, **fields: Any) -> Msg:
        en_t, zh_t = MESSAGES[code]
        both = dict(fields)
        for name in ("what", "kind"):
            if name in fields:
                both[f"{name}_zh"] = WHAT_ZH.get(str(fields[name]), str(fields[name]))
        obj = super().__new__(cls, en_t.format(**both))  # format ignores unused fields
        obj.code = code
        obj.zh = zh_t.format(**both)
        hint = fields.get("hint")
        obj.hint_name = getattr(hint, "name", "") if isinstance(hint, Hint) else ""
        obj.field = str(fields.get("name", fields.get("lang", "")))
        return obj


HINTS: dict[str, tuple[str, str]] = {
    "did-you-mean": ("; did you mean '{name}'?", "；是否指 '{name}'？"),
    "quote-flow": ("; a ',' inside {{...}} text splits it into keys: quote the text, "
                   "e.g. {{en: \"Hello, world\"}}",
                   "；{{...}} 中文字裡的 ',' 會把它拆成多個鍵：請用引號括起文字，"
                   "例如 {{en: \"Hello, world\"}}"),
}


class Hint(str):
    """A message fragment appended to another message (``hint`` field), in both languages."""

    code: str
    zh: str
    name: str
    """The suggested name, for "did you mean"."""

    def __new__(cls, code: str, **fields: Any) -> Hint:
        en_t, zh_t = HINTS[code]
        obj = super().__new__(cls, en_t.format(**fields))
        obj.code = code
        obj.zh = zh_t.format(**fields)
        obj.name = str(fields.get("name", ""))
        return obj


NO_HINT: Hint = str.__new__(Hint, "")
"""The empty hint."""
NO_HINT.code, NO_HINT.zh, NO_HINT.name = "", "", ""


def did_you_mean(word: str, candidates: Any) -> Hint:
    """'; did you mean 'x'?' for the closest candidate (difflib, cutoff 0.6), or no hint."""
    import difflib

    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1)
    return Hint("did-you-mean", name=close[0]) if close else NO_HINT


def msg(code: str, hint: Hint | None = None, **fields: Any) -> Msg:
    """The problem message ``code``; ``hint`` (for templates with ``{hint}``) defaults to none."""
    if "{hint}" in MESSAGES[code][0]:
        h = hint if hint is not None else NO_HINT
        fields["hint"] = h
        fields["hint_zh"] = h.zh
    return Msg(code, **fields)
