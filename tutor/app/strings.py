"""Every string the app shows, in English and Traditional Chinese (Taiwan).

``STRINGS[key] = {"en": ..., "zh-TW": ...}``; templates use ``str.format`` fields. Binding labels
are ``key.<binding id>`` with tooltips ``tip.<binding id>``. A test checks that both languages
have every key and the same fields.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # app
    # the title bar shows the course's own title; this is the word before the course loads
    "app.title": {"en": "Tutor", "zh-TW": "學習導師"},
    "app.loading": {"en": "Loading the course…", "zh-TW": "正在載入課程…"},
    "error.course": {"en": "The course does not load; run `tutor validate` for details.\n\n{problems}",
                     "zh-TW": "課程無法載入；請執行 `tutor validate` 查看細節。\n\n{problems}"},
    "error.unavailable": {"en": "Unavailable: {what}", "zh-TW": "無法使用：{what}"},
    # bindings: labels (key.*) and tooltips (tip.*)
    "key.nav.home": {"en": "Home", "zh-TW": "首頁"},
    "tip.nav.home": {"en": "Levels, today's plan and what to do next",
                     "zh-TW": "層級、今日計畫與下一步"},
    "key.nav.map": {"en": "Map", "zh-TW": "地圖"},
    "tip.nav.map": {"en": "The prerequisite graph with each concept's state",
                    "zh-TW": "先備知識圖與每個概念的狀態"},
    "key.nav.plan": {"en": "Plan", "zh-TW": "計畫"},
    "tip.nav.plan": {"en": "The course's day-by-day study plan", "zh-TW": "課程的逐日學習計畫"},
    "key.nav.labs": {"en": "Labs", "zh-TW": "實驗"},
    "tip.nav.labs": {"en": "Run the hands-on labs", "zh-TW": "執行動手實驗"},
    "key.nav.report": {"en": "Report", "zh-TW": "報告"},
    "tip.nav.report": {"en": "The course's rubric and the evidence behind it",
                       "zh-TW": "課程的評分標準與其依據"},
    "key.nav.calculators": {"en": "Calc", "zh-TW": "計算器"},
    "tip.nav.calculators": {"en": "Training-memory estimator, plots, technique advisor",
                            "zh-TW": "訓練記憶體估算、圖表與技術選擇建議"},
    "key.nav.settings": {"en": "Settings", "zh-TW": "設定"},
    "tip.nav.settings": {"en": "Language, learner profile, theme",
                         "zh-TW": "語言、學習者檔案、主題"},
    "navkey.home": {"en": "h", "zh-TW": "h"},
    "navkey.map": {"en": "m", "zh-TW": "m"},
    "navkey.plan": {"en": "p", "zh-TW": "p"},
    "navkey.labs": {"en": "l", "zh-TW": "l"},
    "navkey.report": {"en": "r", "zh-TW": "r"},
    "navkey.calculators": {"en": "c", "zh-TW": "c"},
    "navkey.settings": {"en": "s", "zh-TW": "s"},
    "key.app.help": {"en": "Help", "zh-TW": "說明"},
    "tip.app.help": {"en": "What each screen does and its keys", "zh-TW": "各畫面的功能與按鍵"},
    "key.app.lang": {"en": "中文", "zh-TW": "English"},
    "tip.app.lang": {"en": "Switch the interface language (English / 繁體中文)",
                     "zh-TW": "切換介面語言（English / 繁體中文）"},
    "key.app.quit": {"en": "Quit", "zh-TW": "離開"},
    "tip.app.quit": {"en": "Leave the tutor (progress is saved)",
                     "zh-TW": "離開導師（進度已儲存）"},
    "key.screen.back": {"en": "Back", "zh-TW": "返回"},
    "tip.screen.back": {"en": "Back to the previous screen", "zh-TW": "回到上一個畫面"},
    "key.home.next": {"en": "Next", "zh-TW": "下一步"},
    "tip.home.next": {"en": "Open the recommended next item", "zh-TW": "開啟建議的下一個項目"},
    "key.map.open": {"en": "Open", "zh-TW": "開啟"},
    "tip.map.open": {"en": "Open the concept's lesson", "zh-TW": "開啟此概念的課程"},
    "key.map.practice": {"en": "Practise", "zh-TW": "練習"},
    "tip.map.practice": {"en": "Practise the concept's questions", "zh-TW": "練習此概念的題目"},
    "key.lesson.practice": {"en": "Practise", "zh-TW": "練習"},
    "tip.lesson.practice": {"en": "Answer this concept's self-check questions",
                            "zh-TW": "回答此概念的自我檢核題"},
    "key.quiz.hint": {"en": "Hint", "zh-TW": "提示"},
    "tip.quiz.hint": {"en": "Show the next hint (costs part of the score)",
                      "zh-TW": "顯示下一個提示（會扣部分分數）"},
    "key.quiz.next": {"en": "Next question", "zh-TW": "下一題"},
    "tip.quiz.next": {"en": "The question the engine picks next", "zh-TW": "引擎挑選的下一題"},
    "tip.quiz.submit": {"en": "Grade the answer (Enter)", "zh-TW": "批改答案（Enter）"},
    "key.labs.start": {"en": "Workspace", "zh-TW": "工作區"},
    "tip.labs.start": {"en": "Copy the starter files into your workspace (never overwrites)",
                       "zh-TW": "將起始檔案複製到你的工作區（不會覆寫）"},
    "key.labs.run_solution": {"en": "Run solution", "zh-TW": "執行參考解答"},
    "tip.labs.run_solution": {"en": "Run the reference solution with live progress",
                              "zh-TW": "執行參考解答並即時顯示進度"},
    "key.labs.run_mine": {"en": "Run mine", "zh-TW": "執行我的"},
    "tip.labs.run_mine": {"en": "Run your workspace copy and check it",
                          "zh-TW": "執行你的工作區版本並檢查"},
    "key.report.export": {"en": "Export", "zh-TW": "匯出"},
    "tip.report.export": {"en": "Write the report as JSON and Markdown",
                          "zh-TW": "將報告寫成 JSON 與 Markdown"},
    "key.help.close": {"en": "Close", "zh-TW": "關閉"},
    "tip.help.close": {"en": "Close the help", "zh-TW": "關閉說明"},
    # command palette
    "cmd.screen": {"en": "Go to: {name}", "zh-TW": "前往：{name}"},
    "cmd.lesson": {"en": "Lesson: {title} ({id})", "zh-TW": "課程：{title}（{id}）"},
    "cmd.question": {"en": "Question: {id}", "zh-TW": "題目：{id}"},
    # states
    "state.locked": {"en": "locked", "zh-TW": "未解鎖"},
    "state.ready": {"en": "ready", "zh-TW": "可學習"},
    "state.learning": {"en": "learning", "zh-TW": "學習中"},
    "state.mastered": {"en": "mastered", "zh-TW": "已精熟"},
    "state.review": {"en": "needs review", "zh-TW": "需複習"},
    "status.correct": {"en": "Correct", "zh-TW": "正確"},
    "status.partial": {"en": "Partly right", "zh-TW": "部分正確"},
    "status.incorrect": {"en": "Not right", "zh-TW": "不正確"},
    "status.invalid": {"en": "Cannot read that", "zh-TW": "無法解讀"},
    "status.undetermined": {"en": "Could not decide", "zh-TW": "無法判定"},
    "status.timeout": {"en": "Took too long to check", "zh-TW": "檢查逾時"},
    # home
    "home.title": {"en": "Home", "zh-TW": "首頁"},
    "home.path": {"en": "Your path through the {count} levels",
                  "zh-TW": "你在 {count} 個層級的學習路徑"},
    "home.path_one": {"en": "Your path through the level", "zh-TW": "你在這個層級的學習路徑"},
    "home.next": {"en": "Recommended next", "zh-TW": "建議的下一步"},
    "home.go": {"en": "Go (n)", "zh-TW": "開始（n）"},
    "home.why": {"en": "Why:", "zh-TW": "原因："},
    "home.today": {"en": "Today", "zh-TW": "今天"},
    "home.reviews": {"en": "Reviews due", "zh-TW": "待複習"},
    "home.no_reviews": {"en": "None due.", "zh-TW": "目前沒有。"},
    "home.all_done": {"en": "Nothing left to recommend.", "zh-TW": "沒有其他建議項目。"},
    "home.kind.lab": {"en": "Lab: {title}", "zh-TW": "實驗：{title}"},
    "home.kind.lesson": {"en": "Read the lesson: {title}", "zh-TW": "閱讀課程：{title}"},
    "home.kind.review": {"en": "Review: {title}", "zh-TW": "複習：{title}"},
    "home.kind.question": {"en": "Question {id} ({title})", "zh-TW": "題目 {id}（{title}）"},
    "home.kind.placement": {"en": "Placement: {title}", "zh-TW": "先備知識診斷：{title}"},
    "home.placement_why": {"en": "Level 1 builds on this prerequisite. Take a short diagnostic "
                                  "(n), or skip it if you know it (k).",
                            "zh-TW": "第 1 層建立在這項先備知識上。進行簡短的診斷（n），"
                                     "或在你已具備時略過（k）。"},
    "key.home.skip": {"en": "Skip placement", "zh-TW": "略過診斷"},
    "tip.home.skip": {"en": "Mark this prerequisite as known without the diagnostic",
                      "zh-TW": "不做診斷，直接標記為已具備此先備知識"},
    "home.placement_take": {"en": "Take the diagnostic (n)", "zh-TW": "進行診斷（n）"},
    "home.placement_skip": {"en": "Skip (k)", "zh-TW": "略過（k）"},
    "home.placement_skipped": {"en": "Marked as known: {title}", "zh-TW": "已標記為具備：{title}"},
    "home.day": {"en": "Day {day} of {total}: {title}", "zh-TW": "第 {day}/{total} 天：{title}"},
    "home.labs_today": {"en": "Labs: {labs}", "zh-TW": "實驗：{labs}"},
    "home.ahead": {"en": "{n} day(s) ahead", "zh-TW": "超前 {n} 天"},
    "home.behind": {"en": "{n} day(s) behind", "zh-TW": "落後 {n} 天"},
    "home.on_track": {"en": "on schedule", "zh-TW": "進度正常"},
    "home.hours_left": {"en": "{h} h left", "zh-TW": "剩 {h} 小時"},
    "home.no_pacing": {"en": "Pacing is not available.", "zh-TW": "無法取得進度資訊。"},
    "home.no_engine": {"en": "Progress is kept in memory only (not saved): {why}",
                       "zh-TW": "進度只保存在記憶體中（不會儲存）：{why}"},
    # map
    "map.title": {"en": "Concept map", "zh-TW": "概念地圖"},
    "map.generation": {"en": "── Generation {n} ({count}) ──", "zh-TW": "── 第 {n} 代（{count}）──"},
    "map.attempts": {"en": "{n} attempt(s)", "zh-TW": "{n} 次作答"},
    "map.requires": {"en": "Requires:", "zh-TW": "必要先備："},
    "map.recommends": {"en": "Recommended first:", "zh-TW": "建議先學："},
    "map.hint": {"en": "Enter: open the lesson · x: practise",
                 "zh-TW": "Enter：開啟課程 · x：練習"},
    # lesson
    "lesson.title": {"en": "Lesson", "zh-TW": "課程"},
    "lesson.locked": {"en": "Locked: master {missing} first. You can still read and practise "
                            "(practice mode).",
                      "zh-TW": "尚未解鎖：請先精熟 {missing}。你仍可閱讀與練習（練習模式）。"},
    "lesson.missing": {"en": "This lesson page is not written yet ({page}).",
                       "zh-TW": "這一頁課程尚未撰寫（{page}）。"},
    "lesson.pitfalls": {"en": "Common pitfalls", "zh-TW": "常見誤區"},
    "lesson.remedy": {"en": "Remedy:", "zh-TW": "修正："},
    "lesson.resources": {"en": "Further reading", "zh-TW": "延伸閱讀"},
    # quiz
    "quiz.title": {"en": "Practice", "zh-TW": "練習"},
    "quiz.none": {"en": "No questions for {concept} yet.", "zh-TW": "{concept} 目前還沒有題目。"},
    "quiz.head": {"en": "{id} · level {level} · {concepts}", "zh-TW": "{id} · 第 {level} 層 · {concepts}"},
    "quiz.practice_mode": {"en": "Practice mode: this concept is still locked; your answer "
                                 "counts, with a warning.",
                           "zh-TW": "練習模式：此概念尚未解鎖；答案仍會計入，但會附上警告。"},
    "quiz.placeholder": {"en": "Your answer", "zh-TW": "你的答案"},
    "quiz.placeholder.expression": {"en": "An expression, e.g. (a + b)/2",
                                    "zh-TW": "一個算式，例如 (a + b)/2"},
    "quiz.placeholder.expression.in": {"en": "An expression in {symbols}",
                                       "zh-TW": "以 {symbols} 寫出的算式"},
    "quiz.placeholder.equation.in": {"en": "An equation in {symbols}, written with =",
                                     "zh-TW": "以 {symbols} 寫出的等式（用 =）"},
    "quiz.placeholder.inequality.in": {"en": "An inequality in {symbols}",
                                       "zh-TW": "以 {symbols} 寫出的不等式"},
    "quiz.placeholder.set.in": {"en": "A set in {symbols}, written {{...}}",
                                "zh-TW": "以 {symbols} 寫出的集合（用 {{...}}）"},
    "quiz.placeholder.asymptotic.in": {"en": "A growth order in {symbols}, written O(...)",
                                       "zh-TW": "以 {symbols} 寫出的漸進階數（用 O(...)）"},
    "quiz.placeholder.choice.ids": {"en": "One option: {ids}", "zh-TW": "選一個選項：{ids}"},
    "quiz.placeholder.multi.ids": {"en": "Every correct option among {ids}, separated by commas",
                                   "zh-TW": "{ids} 中所有正確的選項，以逗號分隔"},
    "quiz.placeholder.ordering.ids": {"en": "All of {ids}, in the right order",
                                      "zh-TW": "把 {ids} 全部依正確順序排列"},
    "quiz.placeholder.numeric": {"en": "A number, e.g. 0.0039 or 1e9",
                                 "zh-TW": "一個數字，例如 0.0039 或 1e9"},
    "quiz.placeholder.equation": {"en": "An equation, e.g. a = b", "zh-TW": "一個等式，例如 a = b"},
    "quiz.placeholder.set": {"en": "A set, e.g. {a, b}", "zh-TW": "一個集合，例如 {a, b}"},
    "quiz.placeholder.inequality": {"en": "An inequality, e.g. x <= 2",
                                    "zh-TW": "一個不等式，例如 x <= 2"},
    "quiz.placeholder.asymptotic": {"en": "A growth order, e.g. O(N**2)",
                                    "zh-TW": "一個漸進階數，例如 O(N**2)"},
    "quiz.placeholder.choice": {"en": "The option's letter, e.g. b", "zh-TW": "選項代號，例如 b"},
    "quiz.placeholder.multi": {"en": "All correct options, e.g. a, c",
                               "zh-TW": "所有正確選項，例如 a, c"},
    "quiz.placeholder.ordering": {"en": "The options in order, e.g. c, a, b",
                                  "zh-TW": "依序排列選項，例如 c, a, b"},
    "quiz.placeholder.text": {"en": "A sentence or two", "zh-TW": "一兩句話"},
    "quiz.placeholder.derivation": {"en": "Steps separated by ';'", "zh-TW": "以 ; 分隔各步驟"},
    "quiz.preview_idle": {"en": "[dim]Type an answer: you will see how it is read before it "
                                "counts.[/]",
                          "zh-TW": "[dim]輸入答案：計分前會先顯示系統如何解讀。[/]"},
    "quiz.read_as": {"en": "Read as: {expr}", "zh-TW": "解讀為：{expr}"},
    "quiz.cannot_read": {"en": "Cannot read it yet: {why}", "zh-TW": "尚無法解讀：{why}"},
    "quiz.preview_unavailable": {"en": "[dim]No preview: {why}[/]", "zh-TW": "[dim]無法預覽：{why}[/]"},
    "quiz.submit": {"en": "Submit ⏎", "zh-TW": "送出 ⏎"},
    "quiz.hint_btn": {"en": "Hint {n}/{total} (−{cost})", "zh-TW": "提示 {n}/{total}（−{cost}）"},
    "quiz.hints_all": {"en": "No more hints", "zh-TW": "沒有更多提示"},
    "quiz.no_hints": {"en": "No hints", "zh-TW": "無提示"},
    "quiz.to_lesson": {"en": "Lesson", "zh-TW": "課程"},
    "quiz.empty": {"en": "Type an answer first.", "zh-TW": "請先輸入答案。"},
    "quiz.grading": {"en": "Checking…", "zh-TW": "批改中…"},
    "quiz.grader_error": {"en": "The grader could not check this: {why}",
                          "zh-TW": "批改器無法檢查此答案：{why}"},
    "quiz.score": {"en": "score {score}", "zh-TW": "得分 {score}"},
    "quiz.not_counted": {"en": "Not counted: fix the input and submit again.",
                         "zh-TW": "不計分：請修正輸入後再送出。"},
    "quiz.not_saved": {"en": "Not saved: {why}", "zh-TW": "未儲存：{why}"},
    "quiz.mastery": {"en": "Mastery of {concept}: {before} → {after} {bar}",
                     "zh-TW": "{concept} 精熟度：{before} → {after} {bar}"},
    "quiz.first_only": {"en": "This answer did not change mastery: a question you have "
                              "answered counts again only in a retry round, an hour after your "
                              "last try at it.",
                        "zh-TW": "這次作答沒有改變精熟度：答過的題目要在重試回合（距上次作答至少"
                                 "一小時）才會再次計入。"},
    "quiz.model_answer": {"en": "Model answer:", "zh-TW": "參考答案："},
    "quiz.self_assess": {"en": "Compare with the model answer: type the numbers of the points "
                                "your answer covered (e.g. 1,3; 0 = none) and press Enter.",
                         "zh-TW": "請對照參考答案：輸入你的答案涵蓋的要點編號（例如 1,3；0 表示都"
                                  "沒有）後按 Enter。"},
    "quiz.self_assess_bad": {"en": "Type point numbers from 1 to {n}, separated by commas "
                                   "(0 = none).",
                             "zh-TW": "請輸入 1 到 {n} 的要點編號，以逗號分隔（0 表示都沒有）。"},
    "quiz.unlocked": {"en": "Unlocked: {names}", "zh-TW": "已解鎖：{names}"},
    "quiz.solution": {"en": "Worked solution:", "zh-TW": "詳解："},
    "quiz.no_more": {"en": "No fresh question here; try the map or the home screen.",
                     "zh-TW": "這裡沒有新的題目；請到地圖或首頁看看。"},
    "quiz.placement_head": {"en": "Placement diagnostic: {title} (question {n} of {total})",
                            "zh-TW": "先備知識診斷：{title}（第 {n}/{total} 題）"},
    "quiz.placement_done": {"en": "Diagnostic finished: {correct}/{total} correct — {result}",
                            "zh-TW": "診斷完成：答對 {correct}/{total} — {result}"},
    "quiz.placement_passed": {"en": "prerequisite met", "zh-TW": "已具備先備知識"},
    "quiz.placement_failed": {"en": "review this prerequisite first",
                              "zh-TW": "請先複習這項先備知識"},
    "quiz.placement_none": {"en": "No diagnostic questions for {title}; you may skip it.",
                            "zh-TW": "{title} 沒有診斷題目；你可以略過。"},
    # plan
    "plan.title": {"en": "Plan", "zh-TW": "計畫"},
    "plan.title_days": {"en": "{days}-day plan", "zh-TW": "{days} 天計畫"},
    "plan.title_one": {"en": "One-day plan", "zh-TW": "一天計畫"},
    "plan.summary": {"en": "You have reached day {reached}; the calendar says day {today} "
                           "({pace}, {h} h left).",
                     "zh-TW": "你的進度到第 {reached} 天；依日曆應在第 {today} 天"
                              "（{pace}，剩 {h} 小時）。"},
    "plan.col.day": {"en": "Day", "zh-TW": "天"},
    "plan.col.phase": {"en": "Phase", "zh-TW": "階段"},
    "plan.col.title": {"en": "Topic", "zh-TW": "主題"},
    "plan.col.hours": {"en": "Hours", "zh-TW": "時數"},
    "plan.col.labs": {"en": "Labs", "zh-TW": "實驗"},
    "plan.col.status": {"en": "Status", "zh-TW": "狀態"},
    "plan.done": {"en": "done", "zh-TW": "完成"},
    "plan.here": {"en": "you are here", "zh-TW": "目前進度"},
    "plan.today": {"en": "today", "zh-TW": "今天"},
    "plan.concepts": {"en": "Concepts:", "zh-TW": "概念："},
    # labs
    "labs.title": {"en": "Labs", "zh-TW": "實驗"},
    "labs.no_kit": {"en": "no kit yet", "zh-TW": "尚無實驗包"},
    "labs.needs": {"en": "Needs: {concepts}", "zh-TW": "需要：{concepts}"},
    "labs.unlocked": {"en": "Unlocked.", "zh-TW": "已解鎖。"},
    "labs.locked": {"en": "Locked ({reason}); you can still run it in practice mode.",
                    "zh-TW": "尚未解鎖（{reason}）；仍可用練習模式執行。"},
    "labs.gpu.optional": {"en": "A GPU makes parts of this lab faster (optional).",
                          "zh-TW": "有 GPU 可加速部分內容（非必要）。"},
    "labs.gpu.required": {"en": "Parts of this lab need a CUDA GPU.",
                          "zh-TW": "此實驗部分內容需要 CUDA GPU。"},
    "labs.no_readme": {"en": "This lab has no runnable kit yet.", "zh-TW": "此實驗尚未提供可執行的實驗包。"},
    "labs.tab.readme": {"en": "README", "zh-TW": "說明"},
    "labs.tab.log": {"en": "Run log", "zh-TW": "執行紀錄"},
    "labs.tab.checks": {"en": "Checks", "zh-TW": "檢查結果"},
    "labs.no_run": {"en": "No run yet.", "zh-TW": "尚未執行。"},
    "labs.running": {"en": "Running {lab} ({what})…", "zh-TW": "正在執行 {lab}（{what}）…"},
    "labs.solution": {"en": "reference solution", "zh-TW": "參考解答"},
    "labs.mine": {"en": "your workspace", "zh-TW": "你的工作區"},
    "labs.finished": {"en": "Finished in {s} s.", "zh-TW": "完成，耗時 {s} 秒。"},
    "labs.failed": {"en": "The run failed: {why}", "zh-TW": "執行失敗：{why}"},
    "labs.no_checks": {"en": "The run finished; no checks were reported.",
                       "zh-TW": "執行完成；沒有回報檢查結果。"},
    "labs.contribution": {"en": "{bucket}: {got}/{total} points → {share} of the {weight} % "
                                "bucket.",
                          "zh-TW": "{bucket}：{got}/{total} 分 → 該項目（{weight}%）得 {share} 分。"},
    "bucket.implementation": {"en": "Implementation", "zh-TW": "實作"},
    "bucket.analysis": {"en": "Analysis", "zh-TW": "分析"},
    "bucket.innovation": {"en": "Innovation", "zh-TW": "創新"},
    "labs.workspace_exists": {"en": "Your workspace already has work (not overwritten): {path}",
                              "zh-TW": "工作區已有你的作品（不會覆寫）：{path}"},
    "labs.start_first": {"en": "start the workspace first (w)", "zh-TW": "請先建立工作區（w）"},
    "key.labs.stop": {"en": "Stop", "zh-TW": "停止"},
    "tip.labs.stop": {"en": "Stop the running lab", "zh-TW": "停止正在執行的實驗"},
    "labs.solution_not_counted": {"en": "Reference solution: these checks do not count in your "
                                        "report. Run your own work (y) to be graded.",
                                  "zh-TW": "參考解答：這些檢查不計入你的報告。執行你自己的作品（y）才會評分。"},
    "labs.step": {"en": "step {step}/{total} · loss {loss}", "zh-TW": "第 {step}/{total} 步 · 損失 {loss}"},
    "labs.starting": {"en": "starting (loading torch takes a few seconds)…",
                      "zh-TW": "啟動中（載入 torch 需要幾秒）…"},
    "labs.checking": {"en": "Checking the artifacts (the grader recomputes every number)…",
                      "zh-TW": "正在檢查產出檔（評分器會重新計算每個數字）…"},
    "labs.workspace_ready": {"en": "Workspace ready: {path}", "zh-TW": "工作區已就緒：{path}"},
    # report
    "report.title": {"en": "Report", "zh-TW": "報告"},
    "report.total": {"en": "Total", "zh-TW": "總分"},
    "report.total_line": {"en": "Total: {total} / 100  {bar}", "zh-TW": "總分：{total} / 100  {bar}"},
    "report.no_evidence": {"en": "no evidence yet", "zh-TW": "尚無證據"},
    "report.ev.mastered": {"en": "{done} of {total} concepts mastered",
                           "zh-TW": "已精熟 {done}/{total} 個概念"},
    "report.ev.mean": {"en": "mean P(known): {mean}", "zh-TW": "平均掌握機率：{mean}"},
    "report.ev.no_labs": {"en": "no lab checked yet", "zh-TW": "尚未檢查任何實驗"},
    "report.ev.none": {"en": "graded from lab submissions (`tutor grade`); none yet",
                       "zh-TW": "由實驗繳交評分（`tutor grade`）；目前沒有"},
    "report.exported": {"en": "Exported: {paths}", "zh-TW": "已匯出：{paths}"},
    "report.export_failed": {"en": "Export failed: {why}", "zh-TW": "匯出失敗：{why}"},
    # calculators
    "calc.title": {"en": "Calculators", "zh-TW": "計算器"},
    "calc.tab.memory": {"en": "Memory", "zh-TW": "記憶體"},
    "calc.tab.plots": {"en": "Plots", "zh-TW": "圖表"},
    "calc.tab.advisor": {"en": "Advisor", "zh-TW": "技術建議"},
    "calc.params": {"en": "Params", "zh-TW": "參數量"},
    "calc.params_tip": {"en": "Number of parameters: 7e9, 7B, 350M",
                        "zh-TW": "參數數量：7e9、7B、350M"},
    "calc.gpus": {"en": "GPUs", "zh-TW": "GPU 數"},
    "calc.rank": {"en": "LoRA r", "zh-TW": "LoRA r"},
    "calc.gpu_mem": {"en": "GB/GPU", "zh-TW": "每張 GB"},
    "calc.method": {"en": "Method", "zh-TW": "方法"},
    "calc.precision": {"en": "Precision", "zh-TW": "精度"},
    "calc.compute": {"en": "Compute", "zh-TW": "計算"},
    "calc.advise": {"en": "Advise", "zh-TW": "建議"},
    "calc.method.full": {"en": "Full fine-tuning", "zh-TW": "全參數微調"},
    "calc.method.lora": {"en": "LoRA", "zh-TW": "LoRA"},
    "calc.method.qlora": {"en": "QLoRA (4-bit)", "zh-TW": "QLoRA（4 位元）"},
    "calc.method.zero1": {"en": "ZeRO-1", "zh-TW": "ZeRO-1"},
    "calc.method.zero2": {"en": "ZeRO-2", "zh-TW": "ZeRO-2"},
    "calc.method.zero3": {"en": "ZeRO-3", "zh-TW": "ZeRO-3"},
    "calc.method.offload": {"en": "ZeRO-3 + CPU offload", "zh-TW": "ZeRO-3 + CPU 卸載"},
    "calc.bad_input": {"en": "Enter positive numbers (e.g. 7e9 or 7B parameters, 1 GPU).",
                       "zh-TW": "請輸入正數（例如 7e9 或 7B 參數、1 張 GPU）。"},
    "calc.per_gpu": {"en": "{method} on {gpus} GPU(s): {total} per GPU",
                     "zh-TW": "{method}，{gpus} 張 GPU：每張 {total}"},
    "calc.plot.size": {"en": "Memory per GPU vs model size ({method})",
                       "zh-TW": "每張 GPU 記憶體 vs 模型大小（{method}）"},
    "calc.plot.lora": {"en": "LoRA trainable parameters vs rank (7B Llama, q+v in 32 layers)",
                       "zh-TW": "LoRA 可訓練參數 vs 秩（7B Llama，32 層的 q 與 v）"},
    "calc.plot.lora_note": {"en": "r(d+k) per adapted d×k matrix; share of the adapted matrices "
                                  "in brackets.",
                            "zh-TW": "每個 d×k 矩陣為 r(d+k)；括號內為佔被調整矩陣的比例。"},
    "calc.plot.attn_std": {"en": "Attention scores memory vs sequence length: standard, O(N²) "
                                 "(log scale)",
                           "zh-TW": "注意力分數記憶體 vs 序列長度：標準做法 O(N²)（對數刻度）"},
    "calc.plot.attn_flash": {"en": "FlashAttention: O(N), no N×N matrix stored (log scale)",
                             "zh-TW": "FlashAttention：O(N)，不儲存 N×N 矩陣（對數刻度）"},
    "calc.plot.attn_note": {"en": "32 heads, head dim 128, fp16, batch 1.",
                            "zh-TW": "32 個頭、頭維度 128、fp16、批次 1。"},
    "calc.tree": {"en": "Decision tree:", "zh-TW": "決策樹："},
    "calc.learn": {"en": "Learn: {concepts}", "zh-TW": "相關概念：{concepts}"},
    "calc.estimator_says": {"en": "Estimator:", "zh-TW": "估算器："},
    # settings
    "settings.title": {"en": "Settings", "zh-TW": "設定"},
    "settings.lang": {"en": "Language", "zh-TW": "語言"},
    "settings.learner": {"en": "Learner profile", "zh-TW": "學習者檔案"},
    "settings.learner_now": {"en": "Showing the progress of: {name}", "zh-TW": "目前顯示的學習者：{name}"},
    "settings.learner_placeholder": {"en": "profile name", "zh-TW": "檔案名稱"},
    "settings.switch": {"en": "Switch", "zh-TW": "切換"},
    "settings.switched": {"en": "Now showing {name}", "zh-TW": "已切換為 {name}"},
    "settings.bad_learner": {"en": "Use letters, digits, - and _ (at most 64).",
                             "zh-TW": "請使用字母、數字、- 與 _（最多 64 個字元）。"},
    "settings.theme": {"en": "Theme", "zh-TW": "主題"},
    "settings.paths": {"en": "Files", "zh-TW": "檔案位置"},
    "settings.db": {"en": "Progress database: {path}", "zh-TW": "進度資料庫：{path}"},
    "settings.course": {"en": "Course: {path}", "zh-TW": "課程：{path}"},
    # help
    "help.title": {"en": "Help", "zh-TW": "說明"},
    "help.close": {"en": "Esc, q or ? closes this help.", "zh-TW": "按 Esc、q 或 ? 關閉說明。"},
    # the help is assembled from the sections of the screens the course has (screens/help.py)
    "help.nav": {
        "en": "**Getting around** — {screens} · `?`/`F1` this help · `F2` 中文/English · "
              "`Ctrl+P` command palette (jump to any screen, lesson or question) · `Esc` back · "
              "`q` quit. The top line and the footer are clickable.",
        "zh-TW": "**移動方式** — {screens} · `?`/`F1` 本說明 · `F2` 中文/English · "
                 "`Ctrl+P` 指令面板（跳到任何畫面、課程或題目）· `Esc` 返回 · `q` 離開。"
                 "最上方一列與底部按鍵列都可以用滑鼠點擊。",
    },
    "help.home": {
        "en": "**Home** — your progress on the course's {levels} level(s), today's day of the "
              "{days}-day plan, the recommended next item and why (`n` or Enter opens it), "
              "reviews due and whether you are ahead or behind.",
        "zh-TW": "**首頁** — 課程 {levels} 個層級的進度、{days} 天計畫中的今天、建議的下一步與原因"
                 "（按 `n` 或 Enter 開啟）、待複習項目，以及你是超前還是落後。",
    },
    "help.map": {
        "en": "**Map** — concepts in generations: everything a concept needs is in an earlier "
              "generation. ○ ready · ◐ learning · ● mastered · ↻ needs review · ⊘ locked. "
              "Enter opens the lesson, `x` practises.",
        "zh-TW": "**地圖** — 依「代」排列概念：每個概念需要的先備都在較前面的代。"
                 "○ 可學習 · ◐ 學習中 · ● 已精熟 · ↻ 需複習 · ⊘ 未解鎖。Enter 開啟課程，`x` 練習。",
    },
    "help.plan": {
        "en": "**Plan** — the days of the plan with their phases, hours and concepts, and where "
              "you stand.",
        "zh-TW": "**計畫** — 計畫中的每一天及其階段、時數與概念，以及你目前的位置。",
    },
    "help.lesson": {
        "en": "**Lesson** — the page in your language, common pitfalls and further reading; "
              "`x` practises.",
        "zh-TW": "**課程** — 以你的語言顯示課程頁、常見誤區與延伸閱讀；`x` 練習。",
    },
    "help.practice": {
        "en": "**Practice** — type the answer; the line below shows how it is read *before* it "
              "counts. Enter submits. Hints (`F3`) cost part of the score. A wrong first answer "
              "lowers mastery; you may try again. `Ctrl+N`/`F4` asks the engine for the next "
              "question.",
        "zh-TW": "**練習** — 輸入答案；下方會在計分*之前*顯示系統如何解讀。Enter 送出。提示（`F3`）"
                 "會扣部分分數。第一次答錯會降低精熟度；你可以再試一次。`Ctrl+N`/`F4` 由引擎挑選下一題。",
    },
    "help.labs": {
        "en": "**Labs** — locked labs say why. `w` copies the starter files to your workspace, "
              "`u` runs the reference solution, `y` runs your copy; the log and progress bar "
              "update live and the checks show when it ends.",
        "zh-TW": "**實驗** — 未解鎖的實驗會說明原因。`w` 將起始檔案複製到工作區，`u` 執行參考解答，"
                 "`y` 執行你的版本；紀錄與進度條即時更新，結束後顯示檢查結果。",
    },
    "help.report": {
        "en": "**Report** — the course's rubric: {buckets}; `e` exports JSON and Markdown.",
        "zh-TW": "**報告** — 課程的評分標準：{buckets}；`e` 匯出 JSON 與 Markdown。",
    },
    "help.calculators": {
        "en": "**Calculators** — memory per GPU for full fine-tuning, LoRA, QLoRA, ZeRO-1/2/3 "
              "and offload, with plots, and the decision-tree advisor.",
        "zh-TW": "**計算器** — 全參數微調、LoRA、QLoRA、ZeRO-1/2/3 與卸載的每張 GPU 記憶體，"
                 "附圖表，以及依決策樹給出的技術建議。",
    },
    "help.settings": {
        "en": "**Settings** — language, learner profile and theme.",
        "zh-TW": "**設定** — 語言、學習者檔案與主題。",
    },
}


def s(key: str, lang: str = "en", **fields: object) -> str:
    """The string ``key`` in ``lang`` (English when missing), with ``fields`` filled in.

    An unknown key returns the key itself (visible, never a crash).
    """
    entry = STRINGS.get(key)
    if entry is None:
        return key
    template = entry.get(lang) or entry["en"]
    if not fields:
        return template
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return template
