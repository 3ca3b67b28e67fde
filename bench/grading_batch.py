"""Batch-grading wall time: N copies of a lab's solution, side by side for each --jobs value
(default: Lab-1.1, 20 copies, jobs 1 and 2; jobs 1, one submission after another, is the baseline).

    python bench/grading_batch.py [--lab lab-1.1] [--copies 20] [--jobs 1,2] [--timeout 900]

Prints one line per setting with the wall time, the per-submission mean and the totals seen. The
shipped Lab-1.1 solution answers the analysis questions and the design challenge, so a copy can
reach 100.
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
    ap.add_argument("--jobs", default="1,2", help="comma-separated parallelism values to compare")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    lab_dir = resolve_lab(args.lab)
    for jobs in [int(j) for j in str(args.jobs).split(",")]:
        with tempfile.TemporaryDirectory(prefix="tutor-bench-grade-") as tmp:
            batch = Path(tmp) / "batch"
            for i in range(args.copies):
                shutil.copytree(lab_dir / "solution", batch / f"copy-{i:02d}")
            t0 = time.monotonic()
            summary = grade_batch(batch, lab_dir, out_csv=Path(tmp) / "gradebook.csv",
                                  jobs=jobs, timeout=args.timeout)
            wall = time.monotonic() - t0
        totals = Counter(r.total for r in summary.reports)
        runs = [r.run.wall_s for r in summary.reports if r.run is not None]
        print(f"{args.lab}: {args.copies} copies, --jobs {jobs}: {wall:.1f} s wall, "
              f"{wall / max(1, args.copies):.1f} s per submission, sandbox run mean "
              f"{sum(runs) / max(1, len(runs)):.1f} s, totals {dict(totals)}, "
              f"grader errors {summary.grader_errors}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
