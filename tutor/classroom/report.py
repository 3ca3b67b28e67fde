"""The class report: JSON, Markdown, one self-contained HTML file, or plots in the terminal.

``build_report(data, course)`` computes everything once (mastery per concept across the class,
item statistics and flags, lab score distributions per rubric bucket, learners behind the plan);
the renderers only format it. Every learner-supplied string (names, answers) is escaped for its
target: HTML through ``html.escape``, Markdown cells with their control characters removed and
``| * _ [ ] ! < > ` `` escaped, the terminal with control characters removed.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import asdict
from typing import Any

from tutor.classroom.data import ClassData
from tutor.classroom.stats import behind_plan, concept_mastery, item_stats, lab_distribution

FORMATS = ("md", "html", "json", "text")
"""Output formats of `tutor class report`."""

_L: dict[str, dict[str, str]] = {
    "title": {"en": "Class report", "zh-TW": "班級報告"},
    "learners": {"en": "learners", "zh-TW": "位學習者"},
    "mastery": {"en": "Mastery per concept", "zh-TW": "各概念的精熟度"},
    "concept": {"en": "Concept", "zh-TW": "概念"},
    "mean_p": {"en": "Mean P(known)", "zh-TW": "平均 P(已掌握)"},
    "mastered": {"en": "Mastered", "zh-TW": "已精熟"},
    "items": {"en": "Item statistics (first attempts)", "zh-TW": "題目統計（首次作答）"},
    "item": {"en": "Question", "zh-TW": "題目"},
    "n": {"en": "n", "zh-TW": "人數"},
    "p": {"en": "Difficulty p", "zh-TW": "難度 p"},
    "r": {"en": "Discrimination r_pb", "zh-TW": "鑑別度 r_pb"},
    "time": {"en": "Mean time (s)", "zh-TW": "平均時間（秒）"},
    "answers": {"en": "First answers", "zh-TW": "首次答案分布"},
    "flags": {"en": "Flags", "zh-TW": "標記"},
    "flagged": {"en": "Flagged items", "zh-TW": "被標記的題目"},
    "too_easy": {"en": "too easy", "zh-TW": "太簡單"},
    "too_hard": {"en": "too hard", "zh-TW": "太難"},
    "non_discriminating": {"en": "non-discriminating", "zh-TW": "無鑑別力"},
    "labs": {"en": "Lab scores per rubric bucket", "zh-TW": "各實驗依評分項目的分數分布"},
    "lab": {"en": "Lab", "zh-TW": "實驗"},
    "bucket": {"en": "Bucket", "zh-TW": "評分項目"},
    "graded": {"en": "graded", "zh-TW": "已評分"},
    "passed": {"en": "passed", "zh-TW": "通過"},
    "mean": {"en": "Mean", "zh-TW": "平均"},
    "median": {"en": "Median", "zh-TW": "中位數"},
    "hist": {"en": "Distribution (0-100 %)", "zh-TW": "分布（0-100 %）"},
    "behind": {"en": "Learners behind the plan", "zh-TW": "進度落後的學習者"},
    "learner": {"en": "Learner", "zh-TW": "學習者"},
    "days_behind": {"en": "Days behind", "zh-TW": "落後天數"},
    "plan_day": {"en": "Plan day", "zh-TW": "計畫進度日"},
    "none": {"en": "none", "zh-TW": "無"},
    "heat": {"en": "Heat map: concepts × learners (P(known), darker = higher)",
             "zh-TW": "熱度圖：概念 × 學習者（P(已掌握)，越深越高）"},
    "skipped": {"en": "records skipped", "zh-TW": "筆紀錄被略過"},
}


def _t(key: str, lang: str) -> str:
    return _L[key].get(lang, _L[key]["en"])


def build_report(data: ClassData, course: Any = None) -> dict[str, Any]:
    """Everything the class report shows, as plain data (the JSON format)."""
    order = list(course.concepts) if course is not None else []
    titles = ({c: course.concepts[c].title.model_dump(by_alias=True) for c in order}
              if course is not None else {})
    mastery = concept_mastery(data)
    concepts = [c for c in order if c in mastery] + sorted(c for c in mastery if c not in order)
    learners = list(data.learners)
    matrix = [[data.learners[name].mastery.get(c) for c in concepts] for name in learners]
    items = item_stats(data)
    return {
        "course": course.meta.module.id if course is not None else None,
        "learners": len(learners),
        "learner_names": learners,
        "concepts": concepts,
        "concept_titles": titles,
        "mastery": {c: mastery.get(c, {"mean_p": None, "mastered": 0, "n": 0,
                                        "share_mastered": None}) for c in concepts},
        "mastery_matrix": matrix,
        "items": [asdict(i) for i in items],
        "flagged": [{"item_id": i.item_id, "flags": i.flags, "p": i.p, "r_pb": i.r_pb}
                    for i in items if i.flags],
        "labs": lab_distribution(data),
        "behind_plan": behind_plan(data),
        "warnings": data.warnings,
        "skipped_lines": data.skipped_lines,
    }


# ------------------------------------------------------------------------------------------
# escaping
# ------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\|*_\[\]!<>`#~])")


def _clean(text: object) -> str:
    """Control, format (bidi) and surrogate characters removed; one line."""
    s = str(text)
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s).strip()


def _md(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _clean(text))


def _h(text: object) -> str:
    return html.escape(_clean(text), quote=True)


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.0f} %" if pct else f"{x:.2f}"


def _title(rep: dict[str, Any], c: str, lang: str) -> str:
    t = rep["concept_titles"].get(c)
    return str(t.get(lang) or t.get("en")) if isinstance(t, dict) else c


# ------------------------------------------------------------------------------------------
# JSON and Markdown
# ------------------------------------------------------------------------------------------


def to_json(rep: dict[str, Any]) -> str:
    """The report data as JSON."""
    return json.dumps(rep, ensure_ascii=False, indent=1) + "\n"


def _answers(item: dict[str, Any]) -> str:
    return ", ".join(f"{a or '∅'} {100 * share:.0f}%" for a, share in item["answers"][:4])


def to_markdown(rep: dict[str, Any], lang: str = "en") -> str:
    """Tables and text bars, for a README or an issue."""
    out = [f"# {_t('title', lang)}: {_md(rep['course'] or '')}", "",
           f"{rep['learners']} {_t('learners', lang)}", ""]
    out += [f"## {_t('mastery', lang)}", "",
            f"| {_t('concept', lang)} | {_t('mean_p', lang)} | {_t('mastered', lang)} | |",
            "|---|---:|---:|---|"]
    for c in rep["concepts"]:
        m = rep["mastery"][c]
        bar = "█" * round(10 * (m["mean_p"] or 0))
        out.append(f"| {_md(_title(rep, c, lang))} | {_fmt(m['mean_p'])} | "
                   f"{m['mastered']}/{m['n']} | {bar} |")
    out += ["", f"## {_t('flagged', lang)}", ""]
    if not rep["flagged"]:
        out.append(_t("none", lang))
    for f in rep["flagged"]:
        flags = ", ".join(_t(x, lang) for x in f["flags"])
        out.append(f"- `{_md(f['item_id'])}`: {flags} (p = {_fmt(f['p'])}, "
                   f"r_pb = {_fmt(f['r_pb'])})")
    out += ["", f"## {_t('items', lang)}", "",
            f"| {_t('item', lang)} | {_t('n', lang)} | {_t('p', lang)} | {_t('r', lang)} | "
            f"{_t('time', lang)} | {_t('answers', lang)} |", "|---|---:|---:|---:|---:|---|"]
    for i in rep["items"]:
        out.append(f"| {_md(i['item_id'])} | {i['n']} | {_fmt(i['p'])} | {_fmt(i['r_pb'])} | "
                   f"{'–' if i['mean_time_s'] is None else i['mean_time_s']} | "
                   f"{_md(_answers(i))} |")
    out += ["", f"## {_t('labs', lang)}", ""]
    if not rep["labs"]:
        out.append(_t("none", lang))
    for lab, d in rep["labs"].items():
        out += [f"### {_md(lab)} ({d['graded']} {_t('graded', lang)}, {d['passed']} "
                f"{_t('passed', lang)})", "",
                f"| {_t('bucket', lang)} | {_t('mean', lang)} | {_t('median', lang)} | "
                f"{_t('hist', lang)} |", "|---|---:|---:|---|"]
        for b, s in d["buckets"].items():
            out.append(f"| {_md(b)} | {_fmt(s['mean'], True)} | {_fmt(s['median'], True)} | "
                       f"{_spark(s['histogram'])} |")
        out.append("")
    out += ["", f"## {_t('behind', lang)}", ""]
    if not rep["behind_plan"]:
        out.append(_t("none", lang))
    for r in rep["behind_plan"]:
        out.append(f"- {_md(r['learner'])}: {-r['days_ahead']} ({_t('plan_day', lang)} "
                   f"{r.get('plan_day')})")
    if rep["skipped_lines"]:
        out += ["", f"{rep['skipped_lines']} {_t('skipped', lang)}"]
    return "\n".join(out) + "\n"


def _spark(hist: list[int]) -> str:
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(hist) or 1
    return "".join(blocks[round(8 * h / top)] for h in hist)


# ------------------------------------------------------------------------------------------
# HTML: one file, inline CSS and SVG, nothing fetched
# ------------------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;
font-size:13px}th{background:#f3f3f3}.flag{color:#a00}svg text{font-size:10px}"""


def _color(p: float | None) -> str:
    if p is None:
        return "#eeeeee"
    # white → dark blue
    r = round(255 - 215 * p)
    g = round(255 - 175 * p)
    b = round(255 - 60 * p)
    return f"#{r:02x}{g:02x}{b:02x}"


def _heat_svg(rep: dict[str, Any], lang: str) -> str:
    concepts, matrix, names = rep["concepts"], rep["mastery_matrix"], rep["learner_names"]
    cw, ch, left, top = max(2, min(12, 900 // max(len(names), 1))), 12, 220, 10
    w, h = left + cw * len(names) + 10, top + ch * len(concepts) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'role="img" aria-label="{_h(_t("heat", lang))}">']
    for ci, c in enumerate(concepts):
        y = top + ci * ch
        parts.append(f'<text x="{left - 4}" y="{y + 9}" text-anchor="end">'
                     f'{_h(_title(rep, c, lang))[:60]}</text>')
        for li, row in enumerate(matrix):
            p = row[ci]
            parts.append(f'<rect x="{left + li * cw}" y="{y}" width="{cw}" height="{ch - 1}" '
                         f'fill="{_color(p)}"><title>{_h(names[li])}: '
                         f'{_fmt(p)}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _hist_svg(hist: list[int]) -> str:
    top = max(hist) or 1
    bars = "".join(
        f'<rect x="{4 + i * 14}" y="{44 - round(40 * v / top)}" width="12" '
        f'height="{round(40 * v / top)}" fill="#4a6fa5"><title>{10 * i}-{10 * i + 10} %: {v}'
        f'</title></rect>' for i, v in enumerate(hist))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="150" height="48">{bars}'
            '<line x1="2" y1="45" x2="146" y2="45" stroke="#888"/></svg>')


def to_html(rep: dict[str, Any], lang: str = "en") -> str:
    """A single self-contained HTML file: inline CSS and SVG, no script, no external reference."""
    o = [f'<!DOCTYPE html><html lang="{_h(lang)}"><head><meta charset="utf-8">',
         f"<title>{_h(_t('title', lang))}</title><style>{_CSS}</style></head><body>",
         f"<h1>{_h(_t('title', lang))}: {_h(rep['course'] or '')}</h1>",
         f"<p>{rep['learners']} {_h(_t('learners', lang))}</p>",
         f"<h2>{_h(_t('heat', lang))}</h2>", _heat_svg(rep, lang),
         f"<h2>{_h(_t('mastery', lang))}</h2><table><tr><th>{_h(_t('concept', lang))}</th>"
         f"<th>{_h(_t('mean_p', lang))}</th><th>{_h(_t('mastered', lang))}</th></tr>"]
    for c in rep["concepts"]:
        m = rep["mastery"][c]
        o.append(f"<tr><td>{_h(_title(rep, c, lang))}</td><td>{_fmt(m['mean_p'])}</td>"
                 f"<td>{m['mastered']}/{m['n']}</td></tr>")
    o.append(f"</table><h2>{_h(_t('flagged', lang))}</h2><ul>")
    for f in rep["flagged"]:
        flags = ", ".join(_t(x, lang) for x in f["flags"])
        o.append(f'<li><code>{_h(f["item_id"])}</code> <span class="flag">{_h(flags)}</span> '
                 f"(p = {_fmt(f['p'])}, r_pb = {_fmt(f['r_pb'])})</li>")
    if not rep["flagged"]:
        o.append(f"<li>{_h(_t('none', lang))}</li>")
    o.append(f"</ul><h2>{_h(_t('items', lang))}</h2><table><tr>"
             + "".join(f"<th>{_h(_t(k, lang))}</th>"
                       for k in ("item", "n", "p", "r", "time", "answers", "flags")) + "</tr>")
    for i in rep["items"]:
        o.append(f"<tr><td>{_h(i['item_id'])}</td><td>{i['n']}</td><td>{_fmt(i['p'])}</td>"
                 f"<td>{_fmt(i['r_pb'])}</td><td>{'–' if i['mean_time_s'] is None else i['mean_time_s']}"
                 f"</td><td>{_h(_answers(i))}</td>"
                 f"<td class=\"flag\">{_h(', '.join(_t(x, lang) for x in i['flags']))}</td></tr>")
    o.append(f"</table><h2>{_h(_t('labs', lang))}</h2>")
    for lab, d in rep["labs"].items():
        o.append(f"<h3>{_h(lab)} ({d['graded']} {_h(_t('graded', lang))}, {d['passed']} "
                 f"{_h(_t('passed', lang))})</h3><table><tr><th>{_h(_t('bucket', lang))}</th>"
                 f"<th>{_h(_t('mean', lang))}</th><th>{_h(_t('median', lang))}</th>"
                 f"<th>{_h(_t('hist', lang))}</th></tr>")
        for b, s in d["buckets"].items():
            o.append(f"<tr><td>{_h(b)}</td><td>{_fmt(s['mean'], True)}</td>"
                     f"<td>{_fmt(s['median'], True)}</td><td>{_hist_svg(s['histogram'])}</td></tr>")
        o.append("</table>")
    o.append(f"<h2>{_h(_t('behind', lang))}</h2><table><tr><th>{_h(_t('learner', lang))}</th>"
             f"<th>{_h(_t('days_behind', lang))}</th><th>{_h(_t('plan_day', lang))}</th></tr>")
    for r in rep["behind_plan"]:
        o.append(f"<tr><td>{_h(r['learner'])}</td><td>{-r['days_ahead']}</td>"
                 f"<td>{r.get('plan_day')}</td></tr>")
    o.append("</table></body></html>\n")
    return "".join(o)


# ------------------------------------------------------------------------------------------
# terminal
# ------------------------------------------------------------------------------------------

_SHADES = " ░▒▓█"


def text_heatmap(rep: dict[str, Any], width: int = 60, lang: str = "en") -> str:
    """Concepts × learners in shade characters (learners sorted by mean mastery and averaged into
    at most ``width`` columns)."""
    names, matrix = rep["learner_names"], rep["mastery_matrix"]
    if not names or not rep["concepts"]:
        return ""

    def mean_row(row: list[float | None]) -> float:
        vals = [v for v in row if v is not None]
        return sum(vals) / len(vals) if vals else 0.0

    order = sorted(range(len(names)), key=lambda i: mean_row(matrix[i]))
    cols = min(width, len(order))
    groups = [order[k * len(order) // cols:(k + 1) * len(order) // cols] for k in range(cols)]
    label_w = min(28, max(len(_clean(_title(rep, c, lang))) for c in rep["concepts"]))
    lines = [_t("heat", lang)]
    for ci, c in enumerate(rep["concepts"]):
        cells = []
        for g in groups:
            vals = [matrix[i][ci] for i in g if matrix[i][ci] is not None]
            p = sum(vals) / len(vals) if vals else 0.0
            cells.append(_SHADES[min(4, int(p * 5))])
        lines.append(f"{_clean(_title(rep, c, lang))[:label_w]:<{label_w}} │{''.join(cells)}│")
    return "\n".join(lines)


def to_text(rep: dict[str, Any], lang: str = "en", width: int = 100) -> str:
    """The terminal view: the heat map, a plotext bar chart of mastery, flagged items, labs."""
    import plotext as plt  # deferred: only the terminal report needs it

    out = [f"{_t('title', lang)}: {_clean(rep['course'] or '')} — {rep['learners']} "
           f"{_t('learners', lang)}", "", text_heatmap(rep, min(60, width - 32), lang), ""]
    concepts = rep["concepts"][:40]
    if concepts:
        out.append(_bar_plot(plt, [_clean(c)[:24] for c in concepts],
                             [100 * (rep["mastery"][c]["mean_p"] or 0) for c in concepts],
                             _t("mastery", lang) + " (%)", width, horizontal=True))
    for lab, d in rep["labs"].items():
        total = d["buckets"].get("total")
        if total:
            out.append(_bar_plot(plt, [f"{10 * i}-{10 * i + 10}" for i in range(10)],
                                 total["histogram"], f"{_clean(lab)}: {_t('hist', lang)}",
                                 min(width, 70), horizontal=False))
    out.append(_t("flagged", lang) + ":")
    for f in rep["flagged"] or [{"item_id": _t("none", lang), "flags": []}]:
        out.append(f"  {_clean(f['item_id'])} {', '.join(_t(x, lang) for x in f['flags'])}")
    out.append(_t("behind", lang) + ":")
    for r in rep["behind_plan"][:20] or [{"learner": _t("none", lang), "days_ahead": 0}]:
        out.append(f"  {_clean(r['learner'])} {-r['days_ahead']}")
    return "\n".join(out) + "\n"


def _bar_plot(plt: Any, labels: list[str], values: list[float], title: str, width: int,
              horizontal: bool) -> str:
    """One plotext bar chart as text (built, never printed: plotext's simple_* helpers write to
    the real stdout)."""
    plt.clf()
    plt.bar(labels, values, orientation="h" if horizontal else "v")
    plt.plotsize(width, 2 * len(labels) + 5 if horizontal else 15)
    plt.title(title)
    return str(plt.uncolorize(plt.build()))


def render(rep: dict[str, Any], fmt: str, lang: str = "en") -> str:
    """The report in ``fmt`` (md, html, json, text)."""
    if fmt == "json":
        return to_json(rep)
    if fmt == "html":
        return to_html(rep, lang)
    if fmt == "text":
        return to_text(rep, lang)
    return to_markdown(rep, lang)
