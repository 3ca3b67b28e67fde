"""User-facing strings of the answer grader, in English and Traditional Chinese.

The grader is usable without ``tutor/``, so it keeps its own small catalogue instead of
``tutor.i18n``. Templates use ``str.format`` fields.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # parse errors (input is invalid; no attempt is counted)
    "err.empty": {"en": "the answer is empty", "zh-TW": "答案是空的"},
    "err.too_long": {
        "en": "the answer is too long ({n} characters; at most {max})",
        "zh-TW": "答案太長（{n} 個字元；最多 {max} 個）",
    },
    "err.unexpected_char": {
        "en": "unexpected character '{ch}' at column {col}",
        "zh-TW": "第 {col} 欄出現無法辨識的字元 '{ch}'",
    },
    "err.unexpected": {
        "en": "unexpected '{tok}' at column {col}",
        "zh-TW": "第 {col} 欄出現非預期的 '{tok}'",
    },
    "err.unexpected_end": {
        "en": "the answer ends too early (missing an operand or a closing bracket)",
        "zh-TW": "答案提早結束（缺少運算元或右括號）",
    },
    "err.expected": {
        "en": "expected '{want}' at column {col}, found '{tok}'",
        "zh-TW": "第 {col} 欄應為 '{want}'，但看到 '{tok}'",
    },
    "err.unclosed": {
        "en": "'{open}' at column {col} is never closed",
        "zh-TW": "第 {col} 欄的 '{open}' 沒有對應的右括號",
    },
    "err.unknown_function": {
        "en": "unknown function '{name}' at column {col}",
        "zh-TW": "第 {col} 欄的函數 '{name}' 無法辨識",
    },
    "err.unknown_command": {
        "en": "unknown LaTeX command '\\{name}' at column {col}",
        "zh-TW": "第 {col} 欄的 LaTeX 指令 '\\{name}' 無法辨識",
    },
    "err.underscore": {
        "en": "names may not start with '_' (column {col})",
        "zh-TW": "名稱不能以 '_' 開頭（第 {col} 欄）",
    },
    "err.bad_number": {
        "en": "malformed number '{text}' at column {col}",
        "zh-TW": "第 {col} 欄的數字 '{text}' 格式錯誤",
    },
    "err.number_too_large": {
        "en": "the number at column {col} is too large or too precise",
        "zh-TW": "第 {col} 欄的數字太大或位數太多",
    },
    "err.two_numbers": {
        "en": "two numbers in a row at column {col}; use '*' between them",
        "zh-TW": "第 {col} 欄出現連續兩個數字；請在中間加上 '*'",
    },
    "err.too_deep": {
        "en": "the expression is nested too deeply (more than {max} levels)",
        "zh-TW": "運算式巢狀太深（超過 {max} 層）",
    },
    "err.too_big": {
        "en": "the expression is too large (more than {max} parts)",
        "zh-TW": "運算式太大（超過 {max} 個部分）",
    },
    "err.exponent_too_large": {
        "en": "the exponent at column {col} is too large",
        "zh-TW": "第 {col} 欄的指數太大",
    },
    "err.tower": {
        "en": "exponent towers with variables in the exponent are not supported (column {col})",
        "zh-TW": "不支援指數中含變數的多層指數（第 {col} 欄）",
    },
    "err.value_too_large": {
        "en": "the value at column {col} is too large to work with",
        "zh-TW": "第 {col} 欄的數值太大，無法計算",
    },
    "err.factorial_too_large": {
        "en": "the factorial at column {col} is too large",
        "zh-TW": "第 {col} 欄的階乘太大",
    },
    "err.arity": {
        "en": "'{name}' at column {col} takes {want} argument(s), got {got}",
        "zh-TW": "第 {col} 欄的 '{name}' 需要 {want} 個參數，但給了 {got} 個",
    },
    "err.big_o_inside": {
        "en": "O(...) must be the whole answer (column {col})",
        "zh-TW": "O(...) 必須是整個答案（第 {col} 欄）",
    },
    "err.expected_number": {
        "en": "a number is expected; the answer contains {names}",
        "zh-TW": "這題需要一個數值；答案中含有 {names}",
    },
    "err.expected_expression": {
        "en": "a single expression is expected",
        "zh-TW": "這題需要單一個運算式",
    },
    "err.expected_equation": {
        "en": "an equation with '=' is expected",
        "zh-TW": "這題需要一個含 '=' 的等式",
    },
    "err.expected_inequality": {
        "en": "an inequality (<, <=, >, >=) is expected",
        "zh-TW": "這題需要一個不等式（<、<=、>、>=）",
    },
    "err.expected_set": {
        "en": "a set {{a, b}} or a list [a, b] is expected",
        "zh-TW": "這題需要一個集合 {{a, b}} 或串列 [a, b]",
    },
    "err.unknown_option": {
        "en": "unknown option '{opt}'; choose from {ids}",
        "zh-TW": "沒有選項 '{opt}'；請從 {ids} 中選擇",
    },
    "err.one_option": {
        "en": "choose exactly one option from {ids}",
        "zh-TW": "請從 {ids} 中只選一個選項",
    },
    "err.duplicate_option": {
        "en": "option '{opt}' appears more than once",
        "zh-TW": "選項 '{opt}' 出現了不只一次",
    },
    "err.ordering_incomplete": {
        "en": "put all options in order: {ids}",
        "zh-TW": "請把所有選項排序：{ids}",
    },
    "err.derivation_line": {
        "en": "line {line}: {error}",
        "zh-TW": "第 {line} 行：{error}",
    },
    "err.no_answer": {
        "en": "this question has no expected answer",
        "zh-TW": "這題沒有設定標準答案",
    },
    # warnings (the answer still counts)
    "warn.unknown_symbol": {
        "en": "unknown symbol '{name}' (the question uses {known})",
        "zh-TW": "未知的符號 '{name}'（本題使用 {known}）",
    },
    "warn.case": {
        "en": "'{name}' was read as the question's symbol '{known}'",
        "zh-TW": "'{name}' 被解讀為本題的符號 '{known}'",
    },
    "warn.implicit_call": {
        "en": "'{name}(…)' at column {col} was read as {name}·(…), a product",
        "zh-TW": "第 {col} 欄的 '{name}(…)' 被解讀為乘法 {name}·(…)",
    },
    "warn.division_product": {
        "en": "'{text}' at column {col} was read as ({text_div})·…; add parentheses if you meant "
        "a product in the denominator",
        "zh-TW": "第 {col} 欄的 '{text}' 被解讀為 ({text_div})·…；若分母是乘積，請加上括號",
    },
    "warn.sigmoid": {
        "en": "σ(…) was read as the sigmoid function",
        "zh-TW": "σ(…) 被解讀為 sigmoid 函數",
    },
    "warn.euler": {
        "en": "'e' was read as Euler's number e ≈ 2.718",
        "zh-TW": "'e' 被解讀為自然常數 e ≈ 2.718",
    },
    "warn.lhs_dropped": {
        "en": "the left side '{name} =' was dropped; only the right side is graded",
        "zh-TW": "已忽略左側的 '{name} ='；只評分右側",
    },
    "warn.function_no_paren": {
        "en": "'{name} …' at column {col} was read as {name}(…) of the next factor only",
        "zh-TW": "第 {col} 欄的 '{name} …' 被解讀為只作用於下一個因子的 {name}(…)",
    },
    # feedback
    "fb.correct": {"en": "Correct.", "zh-TW": "正確。"},
    "fb.incorrect": {
        "en": "Not equivalent to the expected answer.",
        "zh-TW": "與標準答案不等價。",
    },
    "err.points": {
        "en": "tick rubric points by number, 1 to {n}, separated by commas (0 = none)",
        "zh-TW": "請以編號勾選評分要點（1 到 {n}，以逗號分隔；0 表示都沒有）",
    },
    "fb.self_assess": {
        "en": "Compare your answer with the model answer and tick the points it covered "
        "(keywords only suggest: the grader found {found}). Points: {points}",
        "zh-TW": "請對照參考答案，勾選你的答案涵蓋的要點（關鍵字僅供參考：評分器找到 {found}）。"
        "要點：{points}",
    },
    "fb.points_ticked": {
        "en": "points covered (self-assessed): {points}",
        "zh-TW": "涵蓋的要點（自評）：{points}",
    },
    "err.unit_kind": {
        "en": "'{unit}' is not a unit of the same kind as {want} (the answer is in {want})",
        "zh-TW": "'{unit}' 與 {want} 不是同一類單位（答案以 {want} 表示）",
    },
    "fb.unit_mismatch": {
        "en": "{number} would be right in {right}, not in {unit}: check the unit "
        "(the answer is asked in {want}).",
        "zh-TW": "{number} 若以 {right} 為單位就對了，但不是 {unit}：請檢查單位"
        "（題目要求以 {want} 作答）。",
    },
    "fb.incorrect_number": {
        "en": "The value is not within the tolerance of the expected answer.",
        "zh-TW": "數值不在標準答案的容許誤差範圍內。",
    },
    "fb.undetermined": {
        "en": "The grader could not decide whether the answer is equivalent; try a simpler form.",
        "zh-TW": "評分器無法判定答案是否等價；請改用較簡單的寫法。",
    },
    "fb.timeout": {
        "en": "Checking the answer took too long or used too much memory; try a simpler form.",
        "zh-TW": "檢查答案花費太久或用了太多記憶體；請改用較簡單的寫法。",
    },
    "fb.wrong_form": {
        "en": "The value is right, but the answer is not in {form} form.",
        "zh-TW": "數值正確，但答案不是{form}的形式。",
    },
    "form.simplified": {"en": "simplified", "zh-TW": "化簡後"},
    "form.factored": {"en": "factored", "zh-TW": "因式分解"},
    "form.expanded": {"en": "expanded", "zh-TW": "展開"},
    "form.single_fraction": {"en": "single-fraction", "zh-TW": "單一分式"},
    "fb.set_partial": {
        "en": "{matched} of {total} elements are right.",
        "zh-TW": "{total} 個元素中有 {matched} 個正確。",
    },
    "fb.set_order": {
        "en": "The elements are right but in the wrong order.",
        "zh-TW": "元素正確，但順序錯誤。",
    },
    "fb.choice_wrong": {"en": "That is not the right option.", "zh-TW": "這不是正確的選項。"},
    "fb.multi_missing": {
        "en": "Some correct options are missing: {ids}.",
        "zh-TW": "漏選了正確選項：{ids}。",
    },
    "fb.ordering": {
        "en": "{good} of {total} pairs are in the right order.",
        "zh-TW": "{total} 組順序中有 {good} 組正確。",
    },
    "fb.text_missing": {
        "en": "Your answer does not yet mention: {ideas}.",
        "zh-TW": "你的答案還沒有提到：{ideas}。",
    },
    "fb.step_wrong": {
        "en": "Step {n} ({step}) does not follow from step {prev} ({prev_step}).",
        "zh-TW": "第 {n} 步（{step}）無法由第 {prev} 步（{prev_step}）推得。",
    },
    "fb.step_start": {
        "en": "Step 1 ({step}) is not the expression the derivation starts from ({start}).",
        "zh-TW": "第 1 步（{step}）不是推導的起點（{start}）。",
    },
    "fb.step_end": {
        "en": "Every step is valid, but the derivation does not reach the target.",
        "zh-TW": "每一步都成立，但推導沒有到達目標結果。",
    },
    "fb.not_growth": {
        "en": "That is not the same order of growth.",
        "zh-TW": "成長階數不同。",
    },
    "fb.hints": {
        "en": "({n} hint(s) used: -{cost})",
        "zh-TW": "（使用了 {n} 個提示：-{cost}）",
    },
}


def msg(key: str, lang: str = "en", **fields: object) -> str:
    """The message ``key`` in ``lang`` ("en" or "zh-TW"), with its fields filled."""
    entry = MESSAGES[key]
    template = entry.get(lang) or entry["en"]
    return template.format(**fields) if fields else template.replace("{{", "{").replace("}}", "}")
