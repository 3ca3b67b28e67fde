"""A warm pool of grading worker processes with hard time and memory bounds, and a cache.

Each worker is ``python -m graders.answers.worker``: it sets RLIMIT_AS, imports sympy once and then
grades one JSON request per line on stdin, answering one JSON line on stdout. The parent waits
with ``select`` for at most the timeout; a worker that does not answer in time is killed (SIGKILL)
and replaced, and the verdict is status "timeout". No signal.alarm: that cannot interrupt sympy's
C-level loops and does not work off the main thread. Nothing learner-supplied is unpickled: the
pipe carries JSON only.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from graders.answers.messages import msg
from graders.answers.verdict import Verdict

DEFAULT_TIMEOUT = 2.0
"""Seconds one check may take (wall clock) before its worker is killed."""
MEMORY_LIMIT_MB = int(os.environ.get("TUTOR_GRADER_MEMORY_MB", "512"))
"""RLIMIT_AS of a worker, in MiB (python + sympy use about 60)."""
MAX_WORKERS = int(os.environ.get("TUTOR_GRADER_WORKERS", "2"))
"""Most worker processes alive at once (concurrent checks beyond this wait)."""
CACHE_SIZE = 2048
"""Verdicts kept in the LRU cache."""
START_TIMEOUT = 30.0
"""Seconds a fresh worker may take to import sympy and say it is ready."""


class _Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["TUTOR_GRADER_MEMORY_MB"] = str(MEMORY_LIMIT_MB)
        env.pop("PYTHONSTARTUP", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graders.answers.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=root, bufsize=0, close_fds=True,
        )
        self.ready = False
        self._buf = b""
        self.jobs = 0

    def wait_ready(self, deadline: float) -> bool:
        if self.ready:
            return True
        line = self._readline(deadline)
        self.ready = line is not None and line.strip() == b'{"ready": true}'
        return self.ready

    def _readline(self, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None  # the worker died
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one job; the reply, or None when the worker timed out or died."""
        assert self.proc.stdin is not None
        if not self.wait_ready(time.monotonic() + START_TIMEOUT):
            return None
        deadline = time.monotonic() + timeout  # start-up (importing sympy) does not count
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        line = self._readline(deadline)
        if line is None:
            return None
        self.jobs += 1
        try:
            reply = json.loads(line)
        except ValueError:
            return None  # a garbled reply: the worker is not trusted any more
        return reply if isinstance(reply, dict) else None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass

    def maxrss_kb(self) -> int | None:
        """Peak resident memory of the worker (VmHWM), from /proc; None if unknown."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None


class Pool:
    """Warm workers, started once and reused; a timed-out worker is killed and replaced."""

    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self.max_workers = max(1, max_workers)
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._cache: OrderedDict[tuple[Any, ...], Verdict] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.kills = 0
        self.peak_worker_rss_kb = 0

    # -- workers
    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                for w in [w for w in self._idle if not w.alive()]:
                    # died while idle (OOM killer, a signal): reap it and free its slot now,
                    # not when a LIFO pop finally reaches the bottom of the stack
                    self._idle.remove(w)
                    w.kill()
                    self._count -= 1
                while self._idle:
                    w = self._idle.pop()
                    if w.alive():
                        return w
                    w.kill()
                    self._count -= 1
                if self._count < self.max_workers:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return _Worker()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, w: _Worker, ok: bool) -> None:
        rss = w.maxrss_kb()
        if rss:
            self.peak_worker_rss_kb = max(self.peak_worker_rss_kb, rss)
        replacement: _Worker | None = None
        if not ok:
            self.kills += 1
            w.kill()
            try:  # start the replacement now: it imports sympy while the caller moves on
                replacement = _Worker()
            except OSError:
                replacement = None
        with self._cond:
            if ok and w.alive():
                self._idle.append(w)
            elif replacement is not None:
                self._idle.append(replacement)
            else:
                self._count -= 1
            self._cond.notify()

    def warm(self, n: int = 1) -> None:
        """Start up to ``n`` workers now and wait until they have imported sympy."""
        started = []
        for _ in range(min(n, self.max_workers)):
            w = self._acquire()
            started.append(w)
        for w in started:
            ok = w.wait_ready(time.monotonic() + START_TIMEOUT)
            self._release(w, ok)

    def run(self, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Run one job in a worker, killing the worker if it exceeds ``timeout``."""
        w = self._acquire()
        ok = False
        try:
            reply = w.request(payload, timeout)
            # a worker that hit its memory limit exits: replace it now rather than race its exit
            ok = reply is not None and reply.get("error") != "memory"
            return reply
        finally:
            self._release(w, ok)

    def close(self) -> None:
        """Stop every idle worker."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for w in idle:
            w.kill()

    # -- cache
    def cached(self, key: tuple[Any, ...]) -> Verdict | None:
        with self._cache_lock:
            v = self._cache.get(key)
            if v is not None:
                self._cache.move_to_end(key)
            return v

    def remember(self, key: tuple[Any, ...], verdict: Verdict) -> None:
        with self._cache_lock:
            self._cache[key] = verdict
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def get_pool() -> Pool:
    """The process-wide pool (created on first use, closed at exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool()
            atexit.register(_POOL.close)
        return _POOL


def timeout_verdict(elapsed_ms: float, lang: str, interpreted_as: str = "",
                    warnings: list[str] | None = None) -> Verdict:
    """The verdict of a check that was killed at its bound."""
    return Verdict(status="timeout", score=0.0, feedback=msg("fb.timeout", lang),
                   interpreted_as=interpreted_as, note="timeout", warnings=warnings or [],
                   elapsed_ms=elapsed_ms)


def question_key(question_json: str) -> str:
    """A short fingerprint of a question's content, so edited questions miss the cache."""
    return hashlib.sha1(question_json.encode()).hexdigest()[:16]
