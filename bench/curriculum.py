"""Benchmark: validate + build the graph of a synthetic course of N concepts (default 5,000).

Side by side in one run:
- ours: ``validate_course`` (libyaml compose with positions, duplicate-key checks, pydantic
  schema, every semantic check incl. cycles and page existence) + ``build_graph``;
- baseline: a naive loader, ``yaml.safe_load`` (pure-Python SafeLoader, as most projects use) +
  pydantic validation only (no positions, no semantic checks, no graph).

Usage: python bench/curriculum.py [--concepts 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import yaml

T = "{en: %s, zh-TW: %s}"


def make_course(root: Path, n: int, seed: int = 0) -> Path:
    rnd = random.Random(seed)
    course = root / "synthetic"
    (course / "questions").mkdir(parents=True)
    for lang in ("en", "zh-TW"):
        (root / "content" / lang).mkdir(parents=True)
    topics = ["peft", "distributed", "memory", "attention", "alignment"]
    (course / "course.yaml").write_text(f"""format_version: 1
module:
  id: synthetic
  title: {T % ("Synthetic", "合成")}
  category: bench
  difficulty_levels: {{elementary: 2}}
  estimated_hours: {{reading: 1, practice: 1, mastery: 1}}
  tags: [bench]
  version: "1"
  last_updated: 2026-11-29
content_dir: ../content
rubric:
  buckets:
    - {{id: concepts, title: {T % ("C", "概念")}, weight: 40, criteria: [{T % ("c", "c")}], source: quiz}}
    - {{id: implementation, title: {T % ("I", "實作")}, weight: 30, criteria: [{T % ("i", "i")}], source: lab_checks}}
    - {{id: analysis, title: {T % ("A", "分析")}, weight: 20, criteria: [{T % ("a", "a")}], source: analysis_questions}}
    - {{id: innovation, title: {T % ("N", "創新")}, weight: 10, criteria: [{T % ("n", "n")}], source: design_challenge}}
decision_tree:
  - {{min_params_b: 0, recommendation: {T % ("r", "r")}, rationale: {T % ("r", "r")}}}
""")
    levels = ["levels:"]
    for i in range(1, 6):
        levels.append(f"  - {{id: l{i}, number: {i}, title: {T % (f'L{i}', f'層{i}')}, "
                      f"goal: {T % ('g', 'g')}, page: level-{i}}}")
        for lang in ("en", "zh-TW"):
            (root / "content" / lang / f"level-{i}.md").write_text(f"# L{i}\n")
    (course / "levels.yaml").write_text("\n".join(levels) + "\n")
    lines = ["concepts:"]
    for i in range(n):
        level = 1 + i * 5 // n
        reqs = sorted({f"c{rnd.randrange(i)}" for _ in range(rnd.randint(1, 3))}) if i else []
        lines += [f"  - id: c{i}", f"    title: {T % (f'Concept {i}', f'概念 {i}')}",
                  f"    level: {level}", f"    topic: {topics[i % 5]}",
                  f"    summary: {T % ('A synthetic concept.', '合成的概念。')}",
                  f"    page: c{i}", f"    requires: [{', '.join(reqs)}]"]
        for lang in ("en", "zh-TW"):
            (root / "content" / lang / f"c{i}.md").write_text(f"# c{i}\n")
    (course / "concepts.yaml").write_text("\n".join(lines) + "\n")
    days = ["phases:", f"  - {{id: p, first_day: 1, last_day: 20, level: 1, title: {T % ('P', 'P')}, "
            f"goal: {T % ('g', 'g')}}}", "days:"]
    per = (n + 19) // 20
    for d in range(20):
        cs = ", ".join(f"c{i}" for i in range(d * per, min(n, (d + 1) * per)))
        labs = "[lab-1.1]" if d == 3 else "[]"
        days.append(f"  - {{day: {d + 1}, phase: p, title: {T % ('d', 'd')}, theory_hours: 1, "
                    f"practice_hours: 1, concepts: [{cs}], labs: {labs}}}")
    (course / "plan.yaml").write_text("\n".join(days) + "\n")
    (course / "labs.yaml").write_text(
        f"labs:\n  - {{id: lab-1.1, title: {T % ('L', 'L')}, summary: {T % ('s', 's')}, "
        f"concepts: [c0]}}\n")
    return course


def ours(course: Path) -> int:
    from tutor.curriculum import build_graph, validate_course

    c, problems = validate_course(course)
    assert c is not None and not problems, problems[:3]
    return int(build_graph(c).number_of_edges())


def baseline(course: Path) -> int:
    from tutor.curriculum import models as m

    files = {"course.yaml": m.CourseFile, "levels.yaml": m.LevelsFile,
             "concepts.yaml": m.ConceptsFile, "plan.yaml": m.PlanFile, "labs.yaml": m.LabsFile}
    count = 0
    for name, model in files.items():
        data = yaml.load((course / name).read_text(), Loader=yaml.SafeLoader)
        model.model_validate(data)
        count += 1
    return count


def timeit(fn, arg, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concepts", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = make_course(Path(tmp), a.concepts)
        ours(course)  # warm imports
        baseline(course)
        rows = [("ours: validate_course + build_graph (all checks)", timeit(ours, course, a.repeat)),
                ("baseline: yaml.safe_load + pydantic only", timeit(baseline, course, a.repeat))]
    print(f"synthetic course: {a.concepts} concepts, repeat {a.repeat}")
    print(f"{'variant':<52} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, ts in rows:
        print(f"{name:<52} {statistics.median(ts):>9.3f} {min(ts):>7.3f} {max(ts):>7.3f}")
    print("target: ours <= 1.5 s")


if __name__ == "__main__":
    main()
