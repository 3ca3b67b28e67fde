"""Benchmark of the answer grader against two baselines, side by side.

    python bench/answers.py [--pairs bench/answers_pairs.yaml] [--repeat 1]

Prints, for the labelled equivalence pairs: accuracy, false "equal", false "different", errors
and latency (p50/p99) of (1) graders.answers through its warm worker pool, (2) a naive
``simplify(parse_expr(a) - parse_expr(b)) == 0`` (author-written strings only: this baseline
evaluates its input and is never used on learner text), (3) math-verify's parse + verify.
Then the latency of every question test (case) of the shipped bank through ``grade``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAIVE_TIMEOUT = 10.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def naive_check(a: str, b: str) -> tuple[bool | None, float]:
    """Baseline: parse_expr both (no assumptions), simplify the difference. Runs in a subprocess."""
    from sympy import simplify
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    tr = standard_transformations + (implicit_multiplication_application, convert_xor)
    t0 = time.perf_counter()
    try:
        ok = bool(simplify(parse_expr(a, transformations=tr) - parse_expr(b, transformations=tr)) == 0)
    except Exception:
        ok = None
    return ok, (time.perf_counter() - t0) * 1000


def mv_check(a: str, b: str) -> tuple[bool | None, float]:
    from math_verify import parse, verify

    def tex(s: str) -> str:
        return "$" + s.replace("**", "^") + "$"

    t0 = time.perf_counter()
    try:
        pa, pb = parse(tex(a)), parse(tex(b))
        ok: bool | None = bool(verify(pa, pb)) if pa and pb else None
    except Exception:
        ok = None
    return ok, (time.perf_counter() - t0) * 1000


def ours_check(pair: dict[str, Any]) -> tuple[bool | None, float]:
    from graders.answers.api import check_expressions

    t0 = time.perf_counter()
    v = check_expressions(str(pair["expected"]), str(pair["answer"]), symbols=pair.get("symbols"),
                          assume=pair.get("assume", []), timeout=2.0)
    ms = (time.perf_counter() - t0) * 1000
    if v.status in ("invalid", "timeout", "undetermined"):
        return None, ms
    return v.status == "correct", ms


def score(name: str, pairs: list[dict[str, Any]], results: list[tuple[bool | None, float]],
          rows: list[list[str]], misses: dict[str, list[str]]) -> None:
    right = false_eq = false_diff = errors = 0
    for p, (got, _) in zip(pairs, results, strict=True):
        want = bool(p["equal"])
        if got is None:
            errors += 1
            misses[name].append(f"error: {p['expected']}  vs  {p['answer']}")
        elif got == want:
            right += 1
        elif got:
            false_eq += 1
            misses[name].append(f"false equal: {p['expected']}  vs  {p['answer']}")
        else:
            false_diff += 1
            misses[name].append(f"false different: {p['expected']}  vs  {p['answer']}")
    ms = [t for _, t in results]
    rows.append([name, str(len(pairs)), f"{100 * right / len(pairs):.1f} %", str(false_eq),
                 str(false_diff), str(errors), f"{pct(ms, 50):.1f}", f"{pct(ms, 99):.1f}",
                 f"{max(ms):.1f}"])


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in rows]
    return "\n".join([line, sep, *body])


def bank_latency() -> tuple[int, list[float], list[float], int, list[float]]:
    """Latency of every case of the shipped bank through grade(): cold cache, then cached."""
    from graders.answers.api import grade
    from graders.answers.pool import get_pool
    from graders.answers.schema import Question

    qdir = ROOT / "curriculum" / "core-training-techniques" / "questions"
    qs = []
    for path in sorted(qdir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        qs += [Question.model_validate(raw) for raw in data.get("questions", [])]
    get_pool().clear_cache()
    cold: list[float] = []
    warm: list[float] = []
    algebra: list[float] = []  # cases that reach sympy: expression kinds, valid input
    wrong = 0
    for q in qs:
        for case in q.cases:
            t0 = time.perf_counter()
            v = grade(q, case.answer, seed=case.seed)
            ms = (time.perf_counter() - t0) * 1000
            cold.append(ms)
            if q.kind not in ("choice", "multi", "ordering", "text") and v.status != "invalid":
                algebra.append(ms)
            wrong += v.status != case.status
    for q in qs:
        for case in q.cases:
            t0 = time.perf_counter()
            grade(q, case.answer, seed=case.seed)
            warm.append((time.perf_counter() - t0) * 1000)
    return len(qs), cold, warm, wrong, algebra


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1] if __doc__ else None)
    ap.add_argument("--pairs", default=str(ROOT / "bench" / "answers_pairs.yaml"))
    ap.add_argument("--no-baselines", action="store_true", help="only graders.answers")
    args = ap.parse_args(argv)
    pairs: list[dict[str, Any]] = yaml.safe_load(Path(args.pairs).read_text())["pairs"]

    from graders.answers.api import warm_up
    from graders.answers.pool import get_pool

    t0 = time.perf_counter()
    warm_up(1)
    start_ms = (time.perf_counter() - t0) * 1000
    get_pool().clear_cache()

    rows: list[list[str]] = []
    misses: dict[str, list[str]] = {"graders.answers": [], "naive simplify": [], "math-verify": []}
    score("graders.answers", pairs, [ours_check(p) for p in pairs], rows, misses)
    if not args.no_baselines:
        naive: list[tuple[bool | None, float]] = []
        ex = cf.ProcessPoolExecutor(max_workers=1)
        ex.submit(naive_check, "1", "1").result()  # warm: import sympy in the worker
        for p in pairs:
            fut = ex.submit(naive_check, str(p["expected"]), str(p["answer"]))
            try:
                naive.append(fut.result(timeout=NAIVE_TIMEOUT))
            except cf.TimeoutError:
                naive.append((None, NAIVE_TIMEOUT * 1000))
                ex.shutdown(wait=False, cancel_futures=True)
                ex = cf.ProcessPoolExecutor(max_workers=1)
        ex.shutdown()
        score("naive simplify", pairs, naive, rows, misses)
        mv_check("1", "1")  # warm
        score("math-verify", pairs, [mv_check(str(p["expected"]), str(p["answer"])) for p in pairs],
              rows, misses)

    print(f"Labelled pairs: {len(pairs)} ({sum(bool(p['equal']) for p in pairs)} equivalent, "
          f"{sum(not p['equal'] for p in pairs)} not); worker start-up {start_ms:.0f} ms "
          "(once, not in the latencies)")
    print(table(["grader", "pairs", "accuracy", "false equal", "false different", "errors",
                 "p50 ms", "p99 ms", "max ms"], rows))
    for name, lines in misses.items():
        if lines:
            print(f"\n{name}: {len(lines)} miss(es)")
            for line in lines:
                print("  " + line)

    from graders.answers.grading import adhoc_question, preview

    q = adhoc_question("r*(d+k)/(d*k)", symbols=None, assume=["positive", "integer"])
    pv: list[float] = []
    for p in pairs * 5:
        t0 = time.perf_counter()
        preview(q, str(p["answer"]))
        pv.append((time.perf_counter() - t0) * 1000)
    print(f"\npreview() (in-process, no sympy) over the pair answers x5: p50 {pct(pv, 50):.3f} ms, "
          f"p99 {pct(pv, 99):.3f} ms")

    nq, cold, warm, wrong, algebra = bank_latency()
    print(f"\nQuestion tests of the shipped bank: {nq} questions, {len(cold)} cases, "
          f"{wrong} case status mismatch(es)")
    print(table(["grade() over all cases", "p50 ms", "p99 ms", "max ms"], [
        ["warm worker, empty cache", f"{pct(cold, 50):.1f}", f"{pct(cold, 99):.1f}",
         f"{max(cold):.1f}"],
        [f"  of which computer algebra ({len(algebra)} cases)", f"{pct(algebra, 50):.1f}",
         f"{pct(algebra, 99):.1f}", f"{max(algebra):.1f}"],
        ["cache hits (same answers again)", f"{pct(warm, 50):.2f}", f"{pct(warm, 99):.2f}",
         f"{max(warm):.2f}"],
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
