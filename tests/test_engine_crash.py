"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it reported.

A subprocess appends attempts through ``Store`` (the same transaction ``tutor answer`` uses) and
prints each attempt id right after its commit. We kill it at random moments and restart it until
1,000 attempts are logged (25 killed runs, then one that finishes); every id it ever
printed must be in the database, ids must be unique and consecutive per learner, and
``PRAGMA integrity_check`` must say ok.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tutor.store import Store

REPO = Path(__file__).resolve().parent.parent
TOTAL = 1000

WRITER = textwrap.dedent(
    """
    import sys
    from tutor.store import AttemptIn, Store
    s = Store(sys.argv[1])
    lid = s.learner("crash").id
    n = s.count_attempts(lid)
    print("ready", flush=True)
    while n < int(sys.argv[2]):
        aid = s.append_attempt(lid, AttemptIn(f"q{n}", ["basics", "lora"], "2*r*(d+k)",
                                              "correct", 1.0, 0, 1.5, None, n, "ok"))
        print(aid, flush=True)
        n += 1
    print("done", flush=True)
    """
)


KILL_ROUNDS = 25
"""Writers killed at a random moment; then one more runs to the end."""


def _start(db: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(TOTAL)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # wait until it is up (imports done, database open)
    assert first.strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def _finish(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The rest of the output (through the same buffered pipe ``_start`` read from)."""
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(timeout=timeout)
    return out, err


def _ids(out: str) -> set[int]:
    return {int(x) for x in out.split() if x.isdigit()}


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    Store(db).close()
    rng = random.Random(20261129)
    reported: set[int] = set()
    kills = 0
    mid_stream = 0  # kills that landed after the writer had committed something
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # the kill moment adapts to the machine's speed: ~tens of commits per killed run
    max_delay = 0.01
    for _round in range(KILL_ROUNDS):
        proc = _start(db, env)
        time.sleep(rng.uniform(0.0, max_delay))
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        out, _err = _finish(proc, 60)
        got = _ids(out)
        reported |= got
        mid_stream += bool(killed and got)
        if not got:
            max_delay = min(0.3, max_delay * 1.5)
        elif len(got) > 80:
            max_delay = max(0.001, max_delay / 2)
        if "done" in out.split():
            break
    assert kills >= 5, f"only {kills} kills landed; the test did not exercise crashes"
    assert mid_stream >= 3, f"only {mid_stream} kills landed mid-stream"
    proc = _start(db, env)  # the survivor finishes the job
    out, err = _finish(proc, 120)
    assert proc.returncode == 0 and "done" in out.split(), err
    reported |= _ids(out)

    s = Store(db)
    assert s.integrity_check() == "ok"
    lid = s.learner("crash", create=False).id
    ids = s.attempt_ids(lid)
    assert len(ids) == TOTAL
    assert reported <= set(ids), f"lost {sorted(reported - set(ids))[:10]}"
    rows = s.attempts(lid)
    # each restart continues where the committed log ends: seeds 0..999 exactly once, in order
    assert [r.seed for r in rows] == list(range(TOTAL))
    assert all(r.concepts == ("basics", "lora") and r.status == "correct" for r in rows)
