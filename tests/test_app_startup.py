"""Start-up hygiene: the first screen appears without the ML stack, and sympy loads only later.

Each check runs in a fresh interpreter (sys.modules of this test process is irrelevant).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ML = ("torch", "transformers", "peft", "trl", "deepspeed", "bitsandbytes")

CHILD = r"""
import asyncio, json, sys
out = sys.argv[1]
ML = __MODULES__ + ("sympy",)
import tutor.app
record = {"after_import": [m for m in ML + ("textual",) if m in sys.modules]}
from tutor.app import make_app
app = make_app(lang="en", learner="probe")

def painted():
    record["first_paint"] = [m for m in ML if m in sys.modules]
    record["first_screen"] = type(app.screen).__name__

    async def tour():
        await app.workers.wait_for_complete()
        await asyncio.sleep(0.2)
        from textual.widgets import Footer
        record["footer_keys"] = len(app.screen.query_one(Footer).children)
        record["course_loaded"] = app.services.course_loaded
        record["load_error"] = app.services.load_error
        for mode in ("map", "plan", "labs", "report", "calculators", "settings", "home"):
            await app.switch_mode(mode)
        record["after_tour"] = [m for m in ML if m in sys.modules]
        with open(out, "w") as f:
            json.dump(record, f)
        app.exit()

    app.call_later(tour)

async def auto_pilot(pilot):
    app.call_after_refresh(painted)

app.run(headless=True, auto_pilot=auto_pilot)
""".replace("__MODULES__", repr(ML))


def test_first_screen_without_ml_stack_or_sympy(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    r = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads(out.read_text())
    assert rec["after_import"] == [], "import tutor.app must stay free of textual and heavy deps"
    assert rec["first_screen"] == "HomeScreen"
    assert rec["course_loaded"] and rec["load_error"] is None, rec["load_error"]
    assert rec["footer_keys"] > 2, "the footer must show the keys after the course loads"
    assert rec["first_paint"] == [], f"loaded before the first paint: {rec['first_paint']}"
    # every top-level screen, with the course loaded, still needs none of them
    assert rec["after_tour"] == [], f"loaded by the screens: {rec['after_tour']}"


def test_cli_launches_the_app_entry_point() -> None:
    """`tutor` without a sub-command calls tutor.app.run_app (checked without a terminal)."""
    code = (
        "import sys, tutor.app\n"
        "called = []\n"
        "tutor.app.run_app = lambda args: called.append((args.lang, args.learner)) or 0\n"
        "from tutor.cli import main\n"
        "rc = main(['--lang', 'zh-TW', '--learner', 'amy'])\n"
        "print(rc, called)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0 [('zh-TW', 'amy')]"
