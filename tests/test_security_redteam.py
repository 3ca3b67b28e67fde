"""Red-team regressions for the answer grader, `tutor check` / `tutor answer` and the store.

Each test pins one finding (hostile input → its impact) so the fix stays in place.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders.answers import syntax as sx
from graders.answers.api import grade
from graders.answers.grading import preview
from graders.answers.pool import get_pool
from graders.answers.schema import Question

ROOT = Path(__file__).resolve().parents[1]
ESC = "\x1b"


def _question(kind: str = "expression", **extra: object) -> Question:
    base: dict[str, object] = {
        "id": f"redteam-{kind}", "level": 1, "concepts": ["c"], "kind": kind,
        "prompt": {"en": "p", "zh-TW": "p"},
        "symbols": {"r": ["positive", "integer"], "d": ["positive", "integer"],
                    "k": ["positive", "integer"]},
        "answer": "r*(d+k)/(d*k)", "cases": [{"answer": "1", "status": "correct"}],
    }
    base.update(extra)
    return Question.model_validate(base)


def _tutor(*args: str, db: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, TUTOR_LANG="en", PYTHONPATH=str(ROOT), TUTOR_DB=str(db))
    argv = [a.encode("utf-8", "surrogateescape") for a in args]
    return subprocess.run([sys.executable.encode(), b"-m", b"tutor", *argv], capture_output=True,
                          timeout=60, env=env, cwd=ROOT)


# -- 1. preview() runs in the caller's process: it must be bounded like the rest ------------


@pytest.mark.parametrize("kind", ["derivation", "expression", "text", "choice"])
def test_preview_bounds_total_length(kind: str) -> None:
    q = _question(kind, answer=["r*(d+k)/(d*k)", "r/k + r/d"] if kind == "derivation"
                  else "r*(d+k)/(d*k)",
                  options=[{"id": "a", "text": {"en": "a", "zh-TW": "a"}, "correct": True}]
                  if kind == "choice" else [])
    answer = {"derivation": "r\n" * 200_000, "expression": "r" * 200_000,
              "text": "lora " * 100_000, "choice": "a " * 200_000}[kind]
    t0 = time.perf_counter()
    pv = preview(q, answer)
    assert not pv.valid and pv.error
    assert time.perf_counter() - t0 < 0.5


# -- 2. constant-valued functions must not slip past the exponent / factorial bounds --------

BYPASSES = [
    "2^floor(10^9)", "r^floor(10^9)", "2^sqrt(10^18)", "2^ceil(10^9)", "r^abs(-10^9)",
    "factorial(floor(10^9))", "factorial(ceil(10^7))", "|10^7|!", "max(10^7, 1)!",
    "min(10^7, 10^8)!", "(r + 1)^max(999, 10^6)", "floor(log(10^300))!^1000",
    # root(x, n) is x^(1/n): the same bounds as a power
    "root(root(root(2, 1/1000), 1/1000), 1/1000)", "root(root(r, 1/1000), 1/1000)",
    "\\sqrt[1/1000]{\\sqrt[1/1000]{r}}", "root(r, 0.0001)", "root(2, 1/2^r)",
    "root(10^300, 1/1000)",
    # exp is a power of e: exp(exp(r)) is the tower e^(e^r)
    "exp(exp(r))", "exp(r d exp(k))", "exp(2^r)", "exp(r^d)",
    # a logarithm base is not silently cut to its first six digits
    "log_1234567 r",
]


@pytest.mark.parametrize("answer", BYPASSES)
def test_constant_calls_are_bounded_before_algebra(answer: str) -> None:
    with pytest.raises(sx.ParseError):
        sx.read(answer, {"r", "d", "k"})


@pytest.mark.parametrize("answer", ["2^floor(7/2)", "ceil(10/3)!", "r^abs(-2)", "floor(r/2)",
                                    "max(r, d)^2", "2^sqrt(4)", "exp(floor(2.5))", "log(8, 2)!",
                                    "root(r, 3)", "root(r, 1/2)", "root(r, d)", "log_10 r",
                                    "\\sqrt[3]{r d}", "root(8, 1/3)", "exp(r d k)",
                                    "exp(-r^2)", "exp(r)/(exp(r) + exp(d))",
                                    "log(exp(r) + 1)", "exp(sigmoid(r))"])
def test_small_constant_calls_still_read(answer: str) -> None:
    sx.read(answer, {"r", "d", "k"})


@pytest.mark.parametrize("fn", ["floor", "ceil", "abs", "sqrt", "exp", "sigmoid", "log", "ln",
                                "log2", "log10", "factorial", "min", "max", "root", "log_2 "])
def test_functions_of_any_constant_only_raise_parse_errors(fn: str) -> None:
    consts = ["-8", "0", "1", "-1.5", "10^300", "-10^300", "oo", "-oo", "pi", "1/3", "-1/3",
              "oo - oo", "0/0"]
    for c in consts:
        args = f"({c}, {c})" if fn in ("root", "min", "max") else f"({c})"
        for text in (f"2^{fn}{args}", f"{fn}{args}!", f"(r+1)^{fn}{args}", f"exp({fn}{args})"):
            try:
                sx.read(text, {"r"})
            except sx.ParseError:
                pass


def test_magnitudes_of_negative_or_tiny_values_read() -> None:
    for text in ("2^root(-8, 3)", "2^sqrt(-1)", "2^sigmoid(-1000)", "2^log(-2)", "r^abs(-3)"):
        sx.read(text, {"r"})


# -- 3. a lone surrogate (invalid UTF-8 on the command line) must not kill a worker ---------


def test_surrogate_in_answer_does_not_kill_worker() -> None:
    q = _question("text", answer=None, keywords=[{"any": ["lora"], "weight": 1}],
                  cases=[{"answer": "lora", "status": "correct"}])
    pool = get_pool()
    kills = pool.kills
    v = grade(q, "lora \udcff adapters")
    # free text is self-assessed (docs/grading.md): the keyword match comes back undetermined
    assert v.status == "undetermined" and v.score == 1.0, v
    assert pool.kills == kills


# -- 4. cache keys: two answers that read differently must not share a verdict --------------


def test_cache_does_not_confuse_nested_tuple_with_arguments() -> None:
    q = _question(symbols={"r": ["positive"]}, answer="log(r, 2)", id="redteam-cache-log")
    get_pool().clear_cache()
    first = grade(q, "log((r, 2))")
    assert first.status == "invalid"
    second = grade(q, "log(r, 2)")
    assert second.status == "correct", second


def test_render_brackets_nested_tuples_and_relations() -> None:
    def shown(text: str) -> str:
        return sx.render(sx.read(text, {"a", "b", "c"}).tree)

    assert shown("(a, b) + c") != shown("a, b + c")
    assert shown("(a, (b, c))") != shown("a, b, c")
    assert shown("(a < b) < c") != shown("a < b < c")
    assert shown("log((a, b))") != shown("log(a, b)")


def test_cache_key_uses_raw_text_when_the_tree_looks_at_it() -> None:
    q = _question(id="redteam-contains", tree=[
        {"test": "contains", "any": ["r*(d+k)"], "score": 0.25, "note": "literal",
         "feedback": {"en": "f", "zh-TW": "f"}}])
    get_pool().clear_cache()
    assert grade(q, "r*(d+k)").note == "literal"
    assert grade(q, "r(d+k)").note != "literal"


# -- 5. forged verdicts: answer text cannot inject into the JSON line protocol --------------


def test_answer_cannot_forge_a_worker_reply() -> None:
    q = _question("text", answer=None, keywords=[{"any": ["nothing-matches-this"], "weight": 1}],
                  cases=[{"answer": "x", "status": "incorrect"}])
    forged = 'x"}\n{"verdict": {"status": "correct", "score": 1.0}}\n\u2028{"ready": true}\n'
    v = grade(q, forged)
    assert v.status == "undetermined" and v.score == 0  # not the forged "correct", 1.0


# -- 6. terminal escapes are not echoed raw by `tutor check` / `tutor answer` ---------------


@pytest.mark.slow
def test_cli_does_not_echo_terminal_escapes(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    hostile = f"{ESC}]0;PWNED\a{ESC}[2J lora \u202e \x9b31m"
    for args in (("check", "l5-design-peft", hostile),
                 ("check", "placement-llm-fundamentals-1", hostile),
                 ("check", "placement-llm-fundamentals-2", "x" + hostile),
                 ("answer", "l5-design-peft", hostile)):
        r = _tutor(*args, db=db)
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode("utf-8", "replace")
        assert ESC not in out and "\x07" not in out and "\u202e" not in out \
            and "\x9b" not in out, (args, out)


@pytest.mark.slow
def test_cli_answer_with_invalid_utf8_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    r = _tutor("answer", "l5-design-peft", "lora \udcff adapters", db=db)
    assert r.returncode == 0, r.stderr
    assert b"Traceback" not in r.stderr
    r = _tutor("export", "--format", "jsonl", db=db)
    assert r.returncode == 0 and b"lora" in r.stdout


def test_store_accepts_surrogates_and_nul(tmp_path: Path) -> None:
    from tutor.store.db import AttemptIn, Store

    with Store(tmp_path / "s.db") as store:
        lid = store.learner("x").id
        store.append_attempt(lid, AttemptIn("q", ("c",), "a\udcffb\x00c", "incorrect", 0.0))
        (row,) = store.attempts(lid)
        assert "a" in row.answer and "\x00c" in row.answer


@pytest.mark.slow
def test_export_to_a_terminal_escapes_stored_answers(tmp_path: Path) -> None:
    import pty

    from tutor.store.db import AttemptIn, Store

    db = tmp_path / "p.db"
    with Store(db) as store:
        lid = store.learner("default").id
        store.append_attempt(lid, AttemptIn("q", ("c",), f"{ESC}]0;PWNED\a x", "incorrect", 0.0))
    master, slave = pty.openpty()
    env = dict(os.environ, TUTOR_LANG="en", PYTHONPATH=str(ROOT), TUTOR_DB=str(db))
    proc = subprocess.Popen([sys.executable, "-m", "tutor", "export", "--format", "csv"],
                            stdout=slave, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "PWNED" in out and ESC not in out and "\a" not in out
    r = _tutor("export", "--format", "csv", db=db)  # to a file or pipe: the data as stored
    assert f"{ESC}]0;PWNED".encode() in r.stdout


def test_cache_keeps_derivation_lines_apart() -> None:
    q = _question("derivation", answer=["r*(d+k)/(d*k)", "r/k + r/d"], id="redteam-cache-der")
    get_pool().clear_cache()
    assert grade(q, "(r*(d+k)/(d*k))\n(r/k + r/d)").status == "correct"
    one_line = grade(q, "(r*(d+k)/(d*k)) (r/k + r/d)")  # one step: a product, not the start
    assert one_line.status == "incorrect", one_line


def test_pool_drops_a_worker_that_died_while_idle() -> None:
    import signal

    from graders.answers import pool as pool_mod

    pool = pool_mod.Pool(max_workers=2)
    try:
        pool.warm(2)
        dead = pool._idle[0]  # the one a LIFO pop would leave behind for ever
        os.kill(dead.proc.pid, signal.SIGKILL)
        dead.proc.wait(timeout=5)
        reply = pool.run({"rss": True}, 30)
        assert reply is not None and "rss_kb" in reply
        assert dead not in pool._idle and pool._count <= 2
        assert all(w.alive() for w in pool._idle)
    finally:
        pool.close()


# -- 7. growth with a variable exponent is decided, not left to blow up exactly -------------


@pytest.mark.parametrize(("expected", "answer", "status"), [
    ("O(r*(d+k))", "O(2^r)", "incorrect"),
    ("O(r*(d+k))", "O(r^d)", "incorrect"),
    ("O(2^d)", "O(exp(d*log(2)))", "correct"),
    ("O(2^d)", "O(3^d)", "incorrect"),
    ("O(2^d)", "O(2^d + d^5)", "correct"),
])
def test_asymptotic_variable_exponents_are_graded(expected: str, answer: str,
                                                  status: str) -> None:
    q = _question("asymptotic", answer=expected, id="redteam-growth")
    pool = get_pool()
    kills = pool.kills
    v = grade(q, answer)
    assert v.status == status, v
    assert pool.kills == kills  # no worker had to be killed for it


# -- 8. a busy worker does not outlive the process that started it --------------------------

_ORPHAN_PARENT = """
import sys, threading, time
from graders.answers.pool import Pool
pool = Pool(max_workers=1)
pool.warm(1)
w = pool._idle[0]
print(w.proc.pid, flush=True)
threading.Thread(target=pool.run, args=({"sleep": 120}, 300), daemon=True).start()
time.sleep(60)
"""


@pytest.mark.slow
def test_busy_worker_dies_with_its_parent() -> None:
    import signal

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_PARENT], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    time.sleep(0.5)  # the job is running
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError(f"worker {worker} outlived its parent while busy")


# -- 9. equations with a variable exponent are decided without exact giant powers -----------


@pytest.mark.parametrize(("answer", "status"), [
    ("y = 2^(r d k r d k)", "incorrect"),
    ("2y = 2^(r d k + 1)", "correct"),
    ("y = 2^(r d k)", "correct"),
    ("y = 2^(r d k) + 1", "incorrect"),
])
def test_equation_variable_exponents_are_graded(answer: str, status: str) -> None:
    q = _question("equation", answer="y = 2^(r*d*k)", id="redteam-eq-growth",
                  symbols={"r": ["positive", "integer"], "d": ["positive", "integer"],
                           "k": ["positive", "integer"], "y": []})
    pool = get_pool()
    kills = pool.kills
    v = grade(q, answer)
    assert v.status == status, v
    assert pool.kills == kills


@pytest.mark.parametrize(("expected", "answer", "status"), [
    ("2^(r*d*k)", "2^(r d k) + 1", "incorrect"),
    ("exp(r*d*k)", "exp(r d k) + r", "incorrect"),
    ("exp(r*d*k)", "exp(r d) ^ k", "correct"),
    ("2^(r*d*k)", "2^(r d k + 1)/2", "correct"),
])
def test_expression_variable_exponents_are_not_swamped(expected: str, answer: str,
                                                       status: str) -> None:
    q = _question(answer=expected, id="redteam-expr-growth")
    v = grade(q, answer)
    assert v.status == status, v
