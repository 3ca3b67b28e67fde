"""Start-up time of the app: time to the first screen, side by side with a bare Textual app.

Each run is a fresh interpreter (``python -c``) started by this script; the child runs the app
headless and, when the first screen has been mounted and painted once (``call_after_refresh``
from the app's ready callback), writes a timestamp and exits. Time to first screen is measured
from just before the parent starts the child, so it includes interpreter start and imports.

For the tutor the child also waits for the course to finish loading (it loads in a worker after
the first paint) and reports that as "content ready"; and it records which heavy modules were
imported by the first paint (must be none of torch, transformers, peft, trl, deepspeed,
bitsandbytes, sympy).

Usage: python bench/startup.py [--runs 10] [--json]
Target: tutor first screen <= 1.5 x the bare app (median).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes", "sympy")

CHILD = r"""
import json, sys, time
out_path, kind = sys.argv[1], sys.argv[2]
HEAVY = __MODULES__
if kind == "bare":
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

    app = Bare()
else:
    from tutor.app import make_app

    app = make_app(lang="en", learner="bench")
record = {}

def content_ready():
    record["content"] = time.time()
    record["screen"] = type(app.screen).__name__
    with open(out_path, "w") as f:
        json.dump(record, f)
    app.exit()

def painted():
    record["first"] = time.time()
    record["heavy_at_first_paint"] = [m for m in HEAVY if m in sys.modules]
    if kind == "bare":
        content_ready()
        return

    async def wait_for_course():
        await app.workers.wait_for_complete()
        app.call_after_refresh(content_ready)

    app.call_later(wait_for_course)

async def auto_pilot(pilot):
    app.call_after_refresh(painted)

app.run(headless=True, auto_pilot=auto_pilot)
""".replace("__MODULES__", repr(HEAVY))


def run_once(kind: str, env: dict[str, str], tmp: Path) -> dict[str, float | str | list[str]]:
    out = tmp / f"{kind}.json"
    out.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), kind], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    t_exit = time.time()
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"{kind} run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rec = json.loads(out.read_text())
    return {
        "first_ms": (rec["first"] - t0) * 1000,
        "content_ms": (rec["content"] - t0) * 1000,
        "exit_ms": (t_exit - t0) * 1000,
        "heavy": rec["heavy_at_first_paint"],
        "screen": rec.get("screen", ""),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = dict(os.environ)
        env.update({"HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data"),
                    "TUTOR_DB": str(tmp / "bench.sqlite3"), "PYTHONPATH": str(REPO),
                    "TEXTUAL_ANIMATIONS": "none"})
        results: dict[str, list[dict[str, float | str | list[str]]]] = {"bare": [], "tutor": []}
        run_once("tutor", env, tmp)  # warm the OS file cache and create the database
        run_once("bare", env, tmp)
        for _ in range(args.runs):
            for kind in ("bare", "tutor"):
                results[kind].append(run_once(kind, env, tmp))
    summary = {}
    for kind, runs in results.items():
        first = [float(r["first_ms"]) for r in runs]
        content = [float(r["content_ms"]) for r in runs]
        summary[kind] = {
            "first_median": statistics.median(first), "first_min": min(first),
            "first_max": max(first), "content_median": statistics.median(content),
            "heavy": sorted({m for r in runs for m in r["heavy"]}),  # type: ignore[union-attr]
        }
    ratio = summary["tutor"]["first_median"] / summary["bare"]["first_median"]  # type: ignore[operator]
    if args.json:
        print(json.dumps({"runs": args.runs, "summary": summary, "ratio": ratio}, indent=2))
        return 0 if ratio <= 1.5 else 1
    print(f"Start-up, {args.runs} runs each, fresh interpreter per run, headless "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print()
    print("| app | first screen median (ms) | min | max | content ready median (ms) "
          "| heavy modules at first paint |")
    print("|---|---:|---:|---:|---:|---|")
    for kind, label in (("bare", "bare Textual app (one Static)"), ("tutor", "tutor app (Home)")):
        s = summary[kind]
        print(f"| {label} | {s['first_median']:.0f} | {s['first_min']:.0f} | {s['first_max']:.0f} "
              f"| {s['content_median']:.0f} | {', '.join(s['heavy']) or 'none'} |")  # type: ignore[arg-type]
    print()
    verdict = "meets" if ratio <= 1.5 else "MISSES"
    print(f"first-screen ratio tutor/bare: {ratio:.2f}x ({verdict} the 1.5x target)")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
