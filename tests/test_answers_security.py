"""Hostile answers: nothing runs, every check ends within its bound, memory stays bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.answers import pool as pool_mod
from graders.answers.api import check_expressions, grade
from graders.answers.grading import preview
from graders.answers.schema import Question
from graders.answers.verdict import STATUSES

TIMEOUT = 2.0
SLACK = 3.0  # IPC, killing a worker and starting its replacement, on a loaded machine
CANARY = Path("/tmp/tutor-answers-canary")  # fixed name: xdist workers must collect the same ids
if CANARY.exists():  # left over from an earlier failed run
    CANARY.unlink()
MAX_RSS_KB = 512 * 1024


def _question(kind: str = "expression", **extra: object) -> Question:
    base: dict[str, object] = {
        "id": f"hostile-{kind}", "level": 1, "concepts": ["c"], "kind": kind,
        "prompt": {"en": "p", "zh-TW": "p"},
        "symbols": {"r": ["positive", "integer"], "d": ["positive", "integer"],
                    "k": ["positive", "integer"]},
        "answer": "r*(d+k)/(d*k)", "cases": [{"answer": "1", "status": "correct"}],
    }
    base.update(extra)
    return Question.model_validate(base)


QUESTIONS = [
    _question(),
    _question("numeric", answer="65536"),
    _question("derivation", answer=["r*(d+k)/(d*k)", "r/k + r/d"]),
    _question("asymptotic", answer="O(r*(d+k))"),
    _question("set", answer="{r, d}"),
]

HAND = [
    f"__import__('os').system('touch {CANARY}')",
    f"eval(\"open('{CANARY}', 'w')\")",
    f"exec('import os; os.system(\"touch {CANARY}\")')",
    f"open('{CANARY}', 'w').write('x')",
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__",
    "x.__class__",
    "__builtins__",
    "lambda: 0",
    "lambda x: x",
    "globals()",
    "sympify('x')",
    "Symbol('x')",
    "import os",
    "os.system('ls')",
    "'; DROP TABLE attempts; --",
    "9**9**9**9",
    "9^9^9^9",
    "factorial(10**10)",
    "(10**10)!",
    "((9**9)**9999)**9999",
    "(x+y)^1000",
    "((x+1)^999)^999",
    "2^(2^(2^x))",
    "exp(exp(exp(x)))",
    "exp(10^9)",
    "(n!)!",
    "x!!!!!!",
    "9" * 5000,
    "1e999999",
    "1" + "0" * 200,
    "0.0000000000000000000000000000000000000000000000000000000001",
    "x" * 100_000,
    "(" * 10_000 + "x" + ")" * 10_000,
    "(" * 100_000,
    "-" * 10_000 + "x",
    "+".join(["x"] * 5000),
    "sqrt(" * 1000 + "x" + ")" * 1000,
    "1/0",
    "0/0",
    "log(0)",
    "oo - oo",
    "zoo",
    "nan",
    "\x00",
    "x\u202e+1",
    "🙂 + 1",
    "\\input{/etc/passwd}",
    "\\def\\x{1}",
    "$$x$$",
    "{" * 500 + "}" * 500,
    "[" * 500 + "]" * 500,
    "|" * 501,
    "a = " * 500 + "b",
    "r(d+k)/(dk); " * 300,
    "\n".join(["r*(d+k)/(d*k)"] * 200),
    "2^(r*d*k*r*d*k)",
]


def _check(question: Question, answer: str) -> None:
    pool_mod.get_pool().warm(1)  # a replacement worker's start-up is not part of the bound
    t0 = time.monotonic()
    v = grade(question, answer, timeout=TIMEOUT)
    took = time.monotonic() - t0
    assert v.status in STATUSES
    assert 0.0 <= v.score <= 1.0
    assert took <= TIMEOUT + SLACK, (answer[:80], took)
    assert not CANARY.exists(), "code ran"


@pytest.mark.parametrize("answer", HAND, ids=[f"hand{i}" for i in range(len(HAND))])
def test_hand_list(answer: str) -> None:
    for q in QUESTIONS[:3]:
        _check(q, answer)
    pv = preview(QUESTIONS[0], answer)
    assert pv.valid or pv.error


@pytest.mark.parametrize("answer", HAND[:20], ids=[f"hand{i}" for i in range(20)])
def test_hand_list_as_expected_expression(answer: str) -> None:
    from graders.answers.grading import QuestionError

    try:
        v = check_expressions(answer, "x", timeout=TIMEOUT)
        assert v.status in STATUSES
    except QuestionError:
        pass  # an unreadable --expected is a usage error, not a crash
    assert not CANARY.exists()


FUZZ_ALPHABET = list("rdkxyN_0123456789+-*/^()[]{}|=<>!%,.;: \\eπψΨσβ√²³×÷·−'\"`$#@&~?\n") + [
    "__", "import", "os", "lambda", "exec", "eval", "**", "\\frac", "\\sqrt", "\\left(",
    "\\right)", "log", "exp", "sqrt", "sigmoid", "O(", "9**9", "factorial(", "1e9",
]
fuzz = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FUZZ_ALPHABET), max_size=40).map("".join),
)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(answer=fuzz, which=st.integers(0, len(QUESTIONS) - 1))
def test_fuzz_never_runs_code_never_hangs(answer: str, which: int) -> None:
    _check(QUESTIONS[which], answer)


MEMORY_SCRIPT = """
import json, resource, sys
from graders.answers.api import grade
from graders.answers.pool import get_pool
from graders.answers.schema import Question
q = Question.model_validate(json.loads(sys.argv[1]))
for answer in json.loads(sys.argv[2]):
    grade(q, answer, timeout=2.0)
pool = get_pool()
workers = [w.maxrss_kb() or 0 for w in pool._idle]
def peak_kb():
    # VmHWM belongs to this process's own address space; ru_maxrss would also carry the peak of
    # the process we were forked from (Linux keeps it across exec), e.g. a pytest worker with torch
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"self_kb": peak_kb(),
                  "worker_kb": max([pool.peak_worker_rss_kb, *workers])}))
"""


def test_memory_stays_bounded() -> None:
    """In a fresh process (other tests' imports must not count): grading hostile input keeps the
    grading process and its workers under 512 MB."""
    import json
    import subprocess
    import sys

    answers = HAND[16:30] + ["2^(r*d*k*r*d*k)", "(r+d+k)^999"]
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, QUESTIONS[0].model_dump_json(by_alias=True),
         json.dumps(answers)],
        capture_output=True, text=True, timeout=120, check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert 0 < figures["self_kb"] < MAX_RSS_KB, figures
    assert 0 < figures["worker_kb"] < MAX_RSS_KB, figures
    assert pool_mod.MEMORY_LIMIT_MB <= 512
