"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it reported.

A subprocess appends attempts through ``Store`` (the same transaction ``tutor answer`` uses) and
prints each attempt id right after its commit. We kill it at random moments and restart it until
1,000 attempts are logged; every id it ever printed must be in the database, ids must be unique
and consecutive per learner, and ``PRAGMA integrity_check`` must say ok.
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


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    Store(db).close()
    rng = random.Random(20261129)
    reported: set[int] = set()
    kills = 0
    finished = False
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _round in range(200):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(TOTAL)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # wait until it is up, then kill at a random moment
        assert first.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.012))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        out, err = proc.communicate(timeout=60)
        lines = out.split()
        if "done" in lines:
            finished = True
        reported.update(int(x) for x in lines if x.isdigit())
        if finished:
            break
    assert finished, "the writer never got to the end"
    assert kills >= 5, f"only {kills} kills landed; the test did not exercise crashes"
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
