"""A grading worker: ``python -m graders.answers.worker`` (started by ``pool.Pool``).

Protocol: after start-up it prints ``{"ready": true}``; then for each JSON line on stdin
(``{"question": {...}, "answer": str, "seed": int|null, "lang": str, "hints_used": int}``) it
prints one JSON line: ``{"verdict": {...}}`` or ``{"error": "question"|"memory"|"internal",
"message": str}``. Address space is limited with RLIMIT_AS before sympy is imported.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from typing import Any


def _limit_memory() -> None:
    mb = int(os.environ.get("TUTOR_GRADER_MEMORY_MB", "512"))
    if mb > 0:
        limit = mb * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _handle(req: dict[str, Any]) -> dict[str, Any]:
    from graders.answers.grading import QuestionError, grade_local

    if "sleep" in req:  # used by the pool's tests: a job that outlives its bound
        import time

        time.sleep(float(req["sleep"]))
        return {"slept": True}
    if "alloc_mb" in req:  # used by the pool's tests: a job that exceeds RLIMIT_AS
        try:
            block = bytearray(int(req["alloc_mb"]) * 1024 * 1024)
            return {"allocated": len(block)}
        except MemoryError:
            return {"error": "memory", "message": "memory limit"}
    if "rss" in req:  # peak resident memory in KiB, for the memory tests
        import resource

        return {"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    from graders.answers.schema import Question

    try:
        q = Question.model_validate(req["question"])
        v = grade_local(q, str(req["answer"]), seed=req.get("seed"), lang=req.get("lang", "en"),
                        hints_used=int(req.get("hints_used", 0)))
        return {"verdict": v.to_dict()}
    except QuestionError as exc:
        return {"error": "question", "message": str(exc)}
    except MemoryError:
        return {"error": "memory", "message": "memory limit"}
    except RecursionError:
        return {"error": "internal", "message": "recursion limit"}
    except Exception as exc:  # a grader bug must still answer, never hang the caller
        return {"error": "internal", "message": f"{type(exc).__name__}: {exc}"[:500]}


def _warm() -> None:
    """Exercise the common paths once so the first real check pays no first-call costs."""
    from graders.answers.grading import adhoc_question, grade_local

    q = adhoc_question("r*(d+k)/(d*k)", symbols=None, assume=["positive", "integer"])
    for answer in ("r/k + r/d", "2r/d", "log(r) + sqrt(d)", "ceil(r/2)", "r = d"):
        grade_local(q, answer)
    grade_local(adhoc_question("O(r*(d+k))", symbols=None, assume=["positive"]), "O(r d)")


def _exit_with_parent() -> None:
    """Exit as soon as the process that started this worker is gone.

    A check in progress when the parent dies (Ctrl-C, a crash, SIGKILL) would otherwise run on
    with no wall clock over it; EOF on stdin is only seen after it. A thread polls getppid()
    (not PR_SET_PDEATHSIG, which fires when the parent *thread* that started us ends)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    _exit_with_parent()
    _limit_memory()
    sys.setrecursionlimit(4000)
    import sympy  # noqa: F401  (the import is the expensive part of start-up)

    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints (sympy warnings …) must not corrupt the protocol
    _warm()
    out.write(b'{"ready": true}\n')
    out.flush()
    for raw in sys.stdin.buffer:
        try:
            req = json.loads(raw)
        except ValueError:
            reply: dict[str, Any] = {"error": "internal", "message": "bad request"}
        else:
            reply = _handle(req)
        try:
            # ASCII escapes: a lone surrogate (invalid UTF-8 on a command line) in the echoed
            # answer cannot be encoded as UTF-8 and would kill the worker mid-reply
            data = json.dumps(reply).encode()
        except MemoryError:
            data = b'{"error": "memory", "message": "memory limit"}'
        out.write(data + b"\n")
        out.flush()
        if reply.get("error") == "memory":
            return 3  # state after a MemoryError is suspect: let the pool start a fresh one
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
