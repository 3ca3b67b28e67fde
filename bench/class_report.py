"""Benchmark: `tutor class report` over a synthetic class (default 200 learners × 160 questions).

Prints, side by side in one run:
- ours: read the jsonl exports, build the report (mastery, item statistics with leave-one-out
  discrimination, lab distributions, pacing) and render md, html, json and the terminal view;
- floor: only ``json.loads`` of every line (the cost of reading the class at all);
- naive: the same item statistics with the rest score recomputed from scratch for every
  (item, learner) pair, as a straightforward implementation would.
Target: ours <= 2 s (docs/benchmarks.md).

Usage: python bench/class_report.py [--learners 200] [--concepts 32] [--items 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor.classroom.data import ClassData, add_jsonl  # noqa: E402
from tutor.classroom.report import build_report, render  # noqa: E402
from tutor.classroom.simulate import simulate_class  # noqa: E402
from tutor.classroom.stats import first_attempts  # noqa: E402


def ours(exports: list[str]) -> None:
    data = ClassData()
    for i, text in enumerate(exports):
        add_jsonl(data, text, f"e{i}")
    rep = build_report(data)
    for fmt in ("md", "html", "json", "text"):
        render(rep, fmt)


def floor(exports: list[str]) -> None:
    for text in exports:
        for line in text.splitlines():
            json.loads(line)


def naive(exports: list[str]) -> None:
    data = ClassData()
    for i, text in enumerate(exports):
        add_jsonl(data, text, f"e{i}")
    firsts = first_attempts(data)
    for item, per in firsts.items():
        xs, ys = [], []
        for name, a in per.items():
            rest = [p[name].score for other, p in firsts.items() if other != item and name in p]
            if rest:
                xs.append(1.0 if a.score >= 1 else 0.0)
                ys.append(sum(rest) / len(rest))
        statistics.correlation(xs, ys) if len(set(xs)) > 1 and len(set(ys)) > 1 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=200)
    ap.add_argument("--concepts", type=int, default=32)
    ap.add_argument("--items", type=int, default=5, help="questions per concept")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-naive", action="store_true", help="the naive variant is slow")
    args = ap.parse_args()
    exports = simulate_class(args.learners, [f"c{i}" for i in range(args.concepts)], args.items,
                             seed=0, planted=None, ability_spread=0.6)
    n_items = args.concepts * args.items
    print(f"synthetic class: {args.learners} learners × {n_items} questions, "
          f"{sum(t.count(chr(10)) for t in exports)} export lines, repeat {args.repeat}")
    variants = [("ours: read + report + 4 renderings", ours), ("floor: json.loads only", floor)]
    if not args.skip_naive:
        variants.append(("naive: rest score recomputed per pair", naive))
    print(f"{'variant':<42} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, fn in variants:
        times = []
        for _ in range(args.repeat if fn is not naive else 1):
            t0 = time.perf_counter()
            fn(exports)
            times.append(time.perf_counter() - t0)
        print(f"{name:<42} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")
    print("target: ours <= 2 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
