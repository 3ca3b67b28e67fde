"""Messages of the lab grader and its reports, in English and Traditional Chinese (Taiwan)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # pipeline
    "not_dir": {"en": "the submission is not a directory", "zh-TW": "提交的不是目錄"},
    "refused": {"en": "refused: {what}", "zh-TW": "已拒絕：{what}"},
    "no_entry": {"en": "the submission has no {entry}; nothing was run",
                 "zh-TW": "提交中沒有 {entry}；未執行任何程式"},
    "not_run": {"en": "not run: {entry} missing", "zh-TW": "未執行：缺少 {entry}"},
    "timeout": {"en": "the run was stopped after {s:g} s (time limit)",
                "zh-TW": "執行在 {s:g} 秒後被停止（時間限制）"},
    "killed": {"en": "the run was stopped: {reason} limit", "zh-TW": "執行被停止：超過 {reason} 限制"},
    "exit": {"en": "the run failed with exit code {rc}: {last}",
             "zh-TW": "執行失敗，結束碼 {rc}：{last}"},
    "changed": {"en": "artifacts changed after the run ended; the snapshot taken when it ended "
                      "was graded",
                "zh-TW": "執行結束後產出檔仍被改動；評分使用結束當下的快照"},
    "no_result": {"en": "the check did not report a result", "zh-TW": "此項檢查沒有回報結果"},
    "could_not_eval": {"en": "grader error: could not evaluate {ids}",
                       "zh-TW": "評分器錯誤：無法評估 {ids}"},
    "grader_error": {"en": "grader error: {detail}", "zh-TW": "評分器錯誤：{detail}"},
    "not_graded_error": {"en": "not graded: grader error", "zh-TW": "未評分：評分器錯誤"},
    "no_db": {"en": "no learner database given", "zh-TW": "未提供學習者資料庫"},
    # analysis
    "person": {"en": "free-form answer: graded by a person", "zh-TW": "自由作答：由人工評分"},
    "person_missing": {"en": "free-form answer missing (graded by a person)",
                       "zh-TW": "缺少自由作答（由人工評分）"},
    "no_answers": {"en": "no answers.yaml / answers.json in the submission",
                   "zh-TW": "提交中沒有 answers.yaml / answers.json"},
    "no_answer": {"en": "no answer to this question", "zh-TW": "此題未作答"},
    "not_in_bank": {"en": "question not in the bank", "zh-TW": "題庫中沒有此題"},
    "no_bounded": {"en": "the bounded answer grader is not available",
                   "zh-TW": "有時限的答案評分器無法使用"},
    "answer_error": {"en": "answer grader error: {name}", "zh-TW": "答案評分器錯誤：{name}"},
    # design challenge
    "no_design": {"en": "no design.yaml / design.json in the submission",
                  "zh-TW": "提交中沒有 design.yaml / design.json"},
    "bad_constraints": {"en": "the lab's design constraints are malformed",
                        "zh-TW": "實驗的設計限制格式錯誤"},
    "bad_field": {"en": "design field {key!r} must be {typ}", "zh-TW": "設計欄位 {key!r} 必須是 {typ}"},
    "impossible": {"en": "impossible design: {why}", "zh-TW": "不可行的設計：{why}"},
    "design": {"en": "estimated {gb:.2f} GB per GPU on {gpus} GPU(s) (limit {mem:g} GB, "
                     "{max_gpus} GPU(s)): {verdict}",
               "zh-TW": "估計每張 GPU {gb:.2f} GB，共 {gpus} 張（限制 {mem:g} GB、{max_gpus} 張）：{verdict}"},
    "fits": {"en": "fits", "zh-TW": "放得下"},
    "no_fit": {"en": "does not fit", "zh-TW": "放不下"},
    "too_many_gpus": {"en": "; uses more GPUs than allowed", "zh-TW": "；使用的 GPU 超過限制"},
    "fixed_field": {"en": "the challenge fixes {key} = {value}; design.yaml says otherwise",
                    "zh-TW": "題目已固定 {key} = {value}；design.yaml 的值與之不符"},
    "claim_off": {"en": "; your own estimate is missing or more than 15 % off",
                  "zh-TW": "；缺少你自己的估計，或誤差超過 15 %"},
    # quiz evidence (concepts bucket)
    "no_evidence": {"en": "no evidence", "zh-TW": "沒有證據"},
    "db_missing": {"en": "no learner database at {path}", "zh-TW": "{path} 沒有學習者資料庫"},
    "db_unreadable": {"en": "learner database unreadable: {why}", "zh-TW": "學習者資料庫無法讀取：{why}"},
    "no_learner": {"en": "no learner {name!r} in the database", "zh-TW": "資料庫中沒有學習者 {name!r}"},
    "no_learners": {"en": "no learner in the database", "zh-TW": "資料庫中沒有學習者"},
    "no_schema": {"en": "the database has no quiz attempts table (engine schema not found)",
                  "zh-TW": "資料庫沒有測驗作答表（找不到引擎的資料表結構）"},
    "quiz_title": {"en": "quiz mastery: {cid}", "zh-TW": "測驗掌握度：{cid}"},
    "quiz_seen": {"en": "{n} recent attempt(s), mean score {mean:.2f}",
                  "zh-TW": "最近 {n} 次作答，平均分數 {mean:.2f}"},
    "quiz_none": {"en": "no quiz attempts on this concept", "zh-TW": "此概念沒有測驗作答"},
    "mastery_seen": {"en": "P(known) {p:.2f}, {state}", "zh-TW": "掌握機率 P(known) {p:.2f}，{state}"},
    # Markdown report
    "md_total": {"en": "Total", "zh-TW": "總分"},
    "md_not_scored": {"en": "none: grader error, this submission was not graded",
                      "zh-TW": "無：評分器錯誤，此提交未被評分"},
    "md_bucket": {"en": "Bucket", "zh-TW": "評分類別"},
    "md_weight": {"en": "Weight", "zh-TW": "權重"},
    "md_points": {"en": "Points", "zh-TW": "得分"},
    "md_note": {"en": "Note", "zh-TW": "說明"},
    "md_check": {"en": "Check", "zh-TW": "檢查"},
    "md_status": {"en": "Status", "zh-TW": "狀態"},
    "md_message": {"en": "Message", "zh-TW": "訊息"},
    "md_run": {"en": "Run", "zh-TW": "執行"},
    "md_exit": {"en": "exit code: {rc}; timed out: {to}", "zh-TW": "結束碼：{rc}；逾時：{to}"},
    "md_killed": {"en": "; killed: {reason}", "zh-TW": "；被終止：{reason}"},
    "md_wall": {"en": "wall time: {s:g} s; peak memory: {mib} MiB",
                "zh-TW": "執行時間：{s:g} 秒；記憶體峰值：{mib} MiB"},
    "md_iso": {"en": "isolation: {iso}; seed: {seed}", "zh-TW": "隔離方式：{iso}；種子：{seed}"},
    "yes": {"en": "yes", "zh-TW": "是"},
    "no": {"en": "no", "zh-TW": "否"},
}


def msg(msg_id: str, lang: str = "en", **fields: object) -> str:
    """The message ``msg_id`` in ``lang`` (English when the language is unknown)."""
    entry = MESSAGES[msg_id]
    return entry.get(lang, entry["en"]).format(**fields)
