"""Benchmark: `tutor validate`'s retry check (tutor.engine.simulate.course_retry_problems) on
bench/curriculum.py's synthetic course of N concepts (default 5,000), given 3-7 questions each.

The check runs the real Engine on an in-memory store once per distinct (number of questions,
BKT parameters) shape, so its cost depends on the number of shapes, not of concepts. Target: a
small share of the 1.5 s `tutor validate` budget of the 5,000-concept course.

Usage: python bench/retry_check.py [--concepts 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concepts", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import curriculum as bench_curriculum  # bench/curriculum.py: the synthetic course
    from tutor.curriculum import load_course, validate_course
    from tutor.engine.simulate import course_retry_problems

    template = next(iter(load_course(None).questions.values()))
    with tempfile.TemporaryDirectory() as d:
        root = bench_curriculum.make_course(Path(d), args.concepts)
        course, _ = validate_course(root)
        assert course is not None
        rnd = random.Random(0)
        questions = {}
        for cid in course.concepts:
            for i in range(rnd.choice([3, 4, 5, 6, 7])):
                qid = f"{cid}-q{i}"
                questions[qid] = template.model_copy(update={"id": qid, "concepts": [cid]})
        course = course.model_copy(update={"questions": questions})
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            problems = course_retry_problems(course)
            times.append(time.perf_counter() - t0)
        assert problems == []
    print(f"retry check: {args.concepts} concepts, {len(questions)} questions, 5 shapes, "
          f"repeat {args.repeat}")
    print(f"median {statistics.median(times):.3f} s   min {min(times):.3f} s   "
          f"max {max(times):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
