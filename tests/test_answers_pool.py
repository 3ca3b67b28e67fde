"""The warm worker pool: reuse, hard timeouts (kill and replace), memory limit, cache."""

from __future__ import annotations

import time

import pytest

from graders.answers import pool as pool_mod
from graders.answers.api import grade
from graders.answers.schema import Question


@pytest.fixture(scope="module")
def pool() -> pool_mod.Pool:
    p = pool_mod.Pool(max_workers=1)
    p.warm(1)
    yield p
    p.close()


def test_worker_is_reused(pool: pool_mod.Pool) -> None:
    first = pool.run({"rss": True}, 5)
    w_pid = pool._idle[0].proc.pid
    second = pool.run({"rss": True}, 5)
    assert first and second and pool._idle[0].proc.pid == w_pid


def test_timeout_kills_and_replaces_the_worker(pool: pool_mod.Pool) -> None:
    pid = pool._idle[0].proc.pid
    kills = pool.kills
    t0 = time.monotonic()
    assert pool.run({"sleep": 30}, 0.5) is None
    assert time.monotonic() - t0 < 5
    assert pool.kills == kills + 1
    reply = pool.run({"rss": True}, 30)  # a fresh worker answers
    assert reply is not None and "rss_kb" in reply
    assert pool._idle[0].proc.pid != pid


def test_worker_memory_is_limited(pool: pool_mod.Pool) -> None:
    reply = pool.run({"rss": True}, 30)
    assert reply is not None
    assert reply["rss_kb"] < 512 * 1024
    assert pool_mod.MEMORY_LIMIT_MB <= 512
    pid = pool._idle[0].proc.pid
    limits = open(f"/proc/{pid}/limits").read().splitlines()
    line = next(ln for ln in limits if ln.startswith("Max address space"))
    assert int(line.split()[3]) == pool_mod.MEMORY_LIMIT_MB * 1024 * 1024


def test_memory_limit_is_enforced_and_the_worker_replaced(pool: pool_mod.Pool) -> None:
    reply = pool.run({"alloc_mb": 2048}, 30)
    assert reply == {"error": "memory", "message": "memory limit"}
    again = pool.run({"alloc_mb": 16}, 30)  # a fresh worker, within the limit
    assert again == {"allocated": 16 * 1024 * 1024}


def _q(**fields: object) -> Question:
    base: dict[str, object] = {"id": "pool-q", "level": 1, "concepts": ["c"], "kind": "expression",
                               "prompt": {"en": "p", "zh-TW": "p"}, "symbols": {"x": ["real"]},
                               "answer": "(x+1)^2", "cases": [{"answer": "1", "status": "correct"}]}
    base.update(fields)
    return Question.model_validate(base)


def test_grade_status_timeout_on_a_real_expensive_check() -> None:
    # expanding a 6-term sum to the 400th power (to test the form) cannot finish in 1 s
    q = _q(id="pool-expensive", form="expanded", answer="(a+b+c+d+e+f)^400",
           symbols={s: ["real"] for s in "abcdef"})
    assert grade(_q(id="pool-before"), "(x+1)^2").status == "correct"  # a worker is ready
    t0 = time.monotonic()
    v = grade(q, "(a+b+c+d+e+f)^400", timeout=1.0)
    assert v.status == "timeout" and v.score == 0 and v.note == "timeout"
    # 1 s bound + killing the worker and starting its replacement (slow on a loaded machine)
    assert time.monotonic() - t0 < 1.0 + 3.0
    assert v.interpreted_as  # the preview still says how it was read
    # the pool recovered: the next check works
    assert grade(_q(id="pool-after"), "x^2 + 2x + 1").status == "correct"


def test_cache_hit_is_marked_and_fast() -> None:
    q = _q(id="pool-cache")
    first = grade(q, "x^2 + 2x + 1")
    again = grade(q, "x^2+2*x+1")  # same normalised reading
    assert first.status == again.status == "correct"
    assert again.cached and not first.cached


def test_cache_respects_language_and_hints() -> None:
    q = _q(id="pool-cache-lang", hints=[{"text": {"en": "h", "zh-TW": "h"}, "cost": 0.2}])
    assert grade(q, "(x+1)^2", lang="en").feedback.startswith("Correct")
    assert grade(q, "(x+1)^2", lang="zh-TW").feedback.startswith("正確")
    assert grade(q, "(x+1)^2", hints_used=1).score == pytest.approx(0.8)


def test_invalid_input_never_reaches_a_worker() -> None:
    p = pool_mod.get_pool()
    before = p.kills
    v = grade(_q(id="pool-invalid"), "(x+1")
    assert v.status == "invalid" and "column 1" in v.feedback
    assert p.kills == before
