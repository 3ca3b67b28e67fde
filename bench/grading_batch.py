"""Batch-grading wall time: N copies of a lab's solution with --jobs J (default: Lab-1.1, 20, 2).

    python bench/grading_batch.py [--lab lab-1.1] [--copies 20] [--jobs 2] [--timeout 900]

Prints one line per setting with the wall time, the per-submission mean and the totals seen. For
Lab-1.1 the answers/design extras from tests/fixtures/grading_lab/lab-1.1-extras are added so a
copy can reach 100.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graders.grade import grade_batch, resolve_lab  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", default="lab-1.1")
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    lab_dir = resolve_lab(args.lab)
    extras = ROOT / "tests" / "fixtures" / "grading_lab" / "lab-1.1-extras"
    with tempfile.TemporaryDirectory(prefix="tutor-bench-grade-") as tmp:
        batch = Path(tmp) / "batch"
        for i in range(args.copies):
            dest = batch / f"copy-{i:02d}"
            shutil.copytree(lab_dir / "solution", dest)
            if args.lab == "lab-1.1":
                for f in extras.iterdir():
                    shutil.copyfile(f, dest / f.name)
        t0 = time.monotonic()
        summary = grade_batch(batch, lab_dir, out_csv=Path(tmp) / "gradebook.csv",
                              jobs=args.jobs, timeout=args.timeout)
        wall = time.monotonic() - t0
    totals = Counter(r.total for r in summary.reports)
    runs = [r.run.wall_s for r in summary.reports]
    print(f"{args.lab}: {args.copies} copies, --jobs {args.jobs}: {wall:.1f} s wall, "
          f"{wall / max(1, args.copies):.1f} s per submission, sandbox run mean "
          f"{sum(runs) / max(1, len(runs)):.1f} s, totals {dict(totals)}, "
          f"grader errors {summary.grader_errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
