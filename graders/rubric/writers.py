"""Report writers: JSON, Gradescope results.json, JUnit XML, Markdown.

Everything a submission can influence (its messages, its output) is escaped for the target
format: XML through ElementTree with characters XML 1.0 forbids removed, Markdown with table
pipes, backticks and HTML escaped.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from graders.rubric.messages import msg
from graders.rubric.report import Report, safe_text

FORMATS: tuple[str, ...] = ("json", "gradescope", "junit", "md")
_XML_BAD = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _XML_BAD.sub("\ufffd", safe_text(text))


def _total(report: Report) -> str:
    """The total for a human (never a number for a grader error)."""
    return f"{report.total:g}" if report.total is not None else "none"


def to_json(report: Report) -> str:
    """The full report as JSON."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def to_gradescope(report: Report) -> str:
    """Gradescope autograder ``results.json``: top-level score is the weighted total (0..100)."""
    scored = report.total is not None and report.status == "graded"
    tests = []
    for c in report.checks:
        test: dict[str, object] = {
            "name": safe_text(c.title),
            "number": safe_text(c.id),
            "score": round(c.points, 4),
            "max_score": round(c.max_points, 4),
            "status": "passed" if c.status == "pass" else "failed",
            "output": safe_text(c.message) + (" (not graded)" if c.status == "not_graded" else ""),
            "tags": [c.bucket],
            "visibility": "visible",
        }
        if not scored:  # Gradescope sums test scores when "score" is absent: carry none
            del test["score"]
        tests.append(test)
    lines = [f"{b.id}: {b.points:g}/{b.max_points:g} (weight {b.weight:g} %)"
             if b.evidence else f"{b.id}: {b.note or 'no evidence'}" for b in report.buckets]
    out: dict[str, object] = {
        "score": report.total,
        "execution_time": round(report.execution_time, 3),
        "output": safe_text("\n".join([*report.messages, *lines])),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if not scored:
        del out["score"]
        out["output"] = safe_text("\n".join([msg("md_not_scored", report.lang),
                                             *report.messages]))
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"


def to_junit(report: Report) -> str:
    """JUnit XML: one testsuite per report, one testcase per check (classname = lab.bucket)."""
    failures = sum(1 for c in report.checks if c.status == "fail")
    errors = sum(1 for c in report.checks if c.status == "error")
    skipped = sum(1 for c in report.checks if c.status == "not_graded")
    root = ET.Element("testsuites", {"name": _xml_text(f"{report.lab_id} {report.submission}")})
    suite = ET.SubElement(root, "testsuite", {
        "name": _xml_text(report.lab_id), "tests": str(len(report.checks)),
        "failures": str(failures), "errors": str(errors), "skipped": str(skipped),
        "time": f"{report.execution_time:.3f}",
    })
    props = ET.SubElement(suite, "properties")
    for key, value in [("submission", report.submission), ("status", report.status),
                       ("total", _total(report)), ("seed", str(report.seed)),
                       *[(f"bucket.{b.id}", f"{b.points:g}/{b.max_points:g}" if b.evidence
                          else "no evidence") for b in report.buckets]]:
        ET.SubElement(props, "property", {"name": key, "value": _xml_text(value)})
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", {
            "classname": _xml_text(f"{report.lab_id}.{c.bucket}"), "name": _xml_text(c.id),
            "time": "0"})
        text = _xml_text(f"{c.points:g}/{c.max_points:g}: {c.message}")
        if c.status == "fail":
            ET.SubElement(case, "failure", {"message": text}).text = text
        elif c.status == "error":
            ET.SubElement(case, "error", {"message": text}).text = text
        elif c.status == "not_graded":
            ET.SubElement(case, "skipped", {"message": text})
        else:
            ET.SubElement(case, "system-out").text = text
    if report.messages:
        ET.SubElement(suite, "system-err").text = _xml_text("\n".join(report.messages))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|#~])")
"""Markdown punctuation a submission could use to render an image, a link, bold text (a
forged "**Total: 100 / 100**") or to leave a table cell; ``<`` and ``&`` go through html."""


def _md(text: str) -> str:
    """``text`` as one inert line of a Markdown table cell: controls, bidi and lone
    surrogates escaped (safe_text), HTML escaped, Markdown punctuation backslashed, newlines
    folded."""
    text = html.escape(safe_text(text), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def to_markdown(report: Report) -> str:
    """A Markdown report for people, in the report's language."""
    lang = report.lang

    def m(key: str, **kw: object) -> str:
        return msg(key, lang, **kw)

    total = (f"**{m('md_total')}: {report.total:g} / 100** ({report.status})"
             if report.total is not None else
             f"**{m('md_total')}: {m('md_not_scored')}** ({report.status})")
    out = [f"# {_md(report.lab_id)}: {_md(report.submission)}", "", total, ""]
    for line in report.messages:
        out.append(f"> {_md(line)}")
    if report.messages:
        out.append("")
    out += [f"| {m('md_bucket')} | {m('md_weight')} | {m('md_points')} | {m('md_note')} |",
            "|---|---:|---:|---|"]
    for b in report.buckets:
        pts = f"{b.points:g} / {b.max_points:g}" if b.evidence else "–"
        out.append(f"| {b.id} | {b.weight:g} % | {pts} | {_md(b.note)} |")
    out += ["", f"| {m('md_check')} | {m('md_bucket')} | {m('md_status')} | {m('md_points')} | "
            f"{m('md_message')} |", "|---|---|---|---:|---|"]
    for c in report.checks:
        out.append(f"| {_md(c.title)} (`{_md(c.id)}`) | {c.bucket} | {c.status} | "
                   f"{c.points:g} / {c.max_points:g} | {_md(c.message)} |")
    r = report.run
    exit_line = m("md_exit", rc=r.returncode, to=m("yes" if r.timed_out else "no"))
    if r.killed_reason:
        exit_line += m("md_killed", reason=r.killed_reason)
    out += ["", f"## {m('md_run')}", "", f"- {exit_line}",
            f"- {m('md_wall', s=r.wall_s, mib=r.max_rss_kb // 1024)}",
            f"- {m('md_iso', iso=r.isolation or 'n/a', seed=report.seed)}"]
    for n in r.notes:
        out.append(f"- {_md(n)}")
    return "\n".join(out) + "\n"


WRITERS: dict[str, Callable[[Report], str]] = {
    "json": to_json, "gradescope": to_gradescope, "junit": to_junit, "md": to_markdown}
"""Format name -> writer."""


def render(report: Report, fmt: str) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`)."""
    try:
        return WRITERS[fmt](report)
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}") from None
