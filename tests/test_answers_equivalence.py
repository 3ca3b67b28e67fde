"""The equivalence ladder and the other answer tests, through check_expressions (in-process)."""

from __future__ import annotations

import pytest
import sympy as sp

from graders.answers import algebra
from graders.answers.api import check_expressions

PI = ["positive", "integer"]
POS = ["positive"]


def status(expected: str, answer: str, assume: list[str] | None = None,
           symbols: list[str] | None = None) -> str:
    return check_expressions(expected, answer, symbols=symbols, assume=assume or [],
                             timeout=0).status


@pytest.mark.parametrize(
    ("expected", "answer", "assume", "want"),
    [
        ("r*(d+k)/(d*k)", "r/k + r/d", PI, "correct"),
        ("r*(d+k)/(d*k)", "r(d+k)/(dk)", PI, "correct"),
        ("r*(d+k)/(d*k)", r"\frac{r}{d} + \frac{r}{k}", PI, "correct"),
        # d = k coincidences: equal when d = k, different otherwise
        ("r*(d+k)/(d*k)", "2r/d", PI, "incorrect"),
        ("r*(d+k)", "2*r*d", PI, "incorrect"),
        ("d*k", "d^2", PI, "incorrect"),
        # assumptions matter
        ("x", "sqrt(x^2)", POS, "correct"),
        ("x", "sqrt(x^2)", ["real"], "incorrect"),
        ("abs(x)", "sqrt(x^2)", ["real"], "correct"),
        ("log(a*b)", "log(a) + log(b)", POS, "correct"),
        ("log(a^2)", "2 log(a)", POS, "correct"),
        ("log(a+b)", "log(a) + log(b)", POS, "incorrect"),
        ("exp(a+b)", "exp(a) exp(b)", [], "correct"),
        # rational forms
        ("1/(1/a + 1/b)", "a*b/(a+b)", POS, "correct"),
        ("(x^2-1)/(x-1)", "x+1", ["positive"], "correct"),
        # floating vs exact: decimal literals are exact
        ("x/2", "0.5x", [], "correct"),
        ("x/3", "0.333x", [], "incorrect"),
        ("1/256", "0.00390625", [], "correct"),
        ("(2+2+K)*Psi", "16 Psi", [], "incorrect"),
        ("(2+2+12)*Psi", "16Psi", POS, "correct"),
        ("2*(p-1)/p*M", "2M - 2M/p", PI, "correct"),
        ("(p-1)/(m+p-1)", "1 - m/(m+p-1)", PI, "correct"),
        ("sigmoid(z)", "1/(1+exp(-z))", ["real"], "correct"),
        ("-log(sigmoid(z))", "log(1 + exp(-z))", ["real"], "correct"),
        ("sqrt(L)", "L^(1/2)", POS, "correct"),
        ("sqrt(L)", "L^0.5", POS, "correct"),
        ("ceil(n/2)", "floor(n/2)", PI, "incorrect"),
        ("max(a, b)", "(a + b + abs(a - b))/2", ["real"], "correct"),
        ("4096", "2^12", [], "correct"),
        ("50%", "1/2", [], "correct"),
        ("r*(d+k)", "r/0", PI, "incorrect"),
        ("2", "log(0)", [], "incorrect"),
        ("2", "(-3)!", [], "incorrect"),
    ],
)
def test_expressions(expected: str, answer: str, assume: list[str], want: str) -> None:
    assert status(expected, answer, assume) == want


@pytest.mark.parametrize(
    ("expected", "answer", "want"),
    [
        ("y = 2x", "y/2 = x", "correct"),
        ("y = 2x", "2x = y", "correct"),
        ("y = 2x", "y = x", "incorrect"),
        ("b = (p-1)/(m+p-1)", "m = (p-1)(1-b)/b", "correct"),
        ("a <= b", "b >= a", "correct"),
        ("a <= b", "2a <= 2b", "correct"),
        ("a <= b", "b > a", "incorrect"),
        ("a <= b", "-a <= -b", "incorrect"),
        ("r < d*k/(d+k)", "r(d+k) < dk", "correct"),
        ("r < d*k/(d+k)", "r(d+k) <= dk", "incorrect"),
        ("r < d*k/(d+k)", "r < dk/(d-k)", "incorrect"),
        ("m > p - 1", "m > p", "incorrect"),
        ("{1, 2}", "{2, 1}", "correct"),
        ("{1, 2}", "{1, 3}", "partial"),
        ("[1, 2]", "[2, 1]", "partial"),
        ("[1, 2]", "[1, 2]", "correct"),
        ("{a, b}", "a", "partial"),
        ("O(d*r + r*k)", "O(r*(d+k))", "correct"),
        ("O(N^2)", "O(N)", "incorrect"),
        ("O(N^2)", "O(3N^2 + N)", "correct"),
        ("O(N)", "O(N log(N))", "incorrect"),
        ("O(sqrt(L))", "O(L^0.5)", "correct"),
        ("O(d*r + r*k)", "O(d*r)", "incorrect"),
        ("O(N^2)", "N^2/2", "correct"),
    ],
)
def test_relations_sets_growth(expected: str, answer: str, want: str) -> None:
    assert status(expected, answer, POS) == want


def test_ladder_outcomes_directly() -> None:
    x = sp.Symbol("x", positive=True)
    assert algebra.equivalent(x + 1, 1 + x) == "equal"  # structural
    assert algebra.equivalent((x + 1) ** 2, x**2 + 2 * x + 1) == "equal"  # points
    assert algebra.equivalent(x**2, x**3) == "different"


def test_points_have_distinct_values_and_both_signs() -> None:
    import random

    d, k = sp.symbols("d k", positive=True, integer=True)
    pts = algebra.points([d, k], random.Random(1))
    assert all(p[d] != p[k] for p in pts)
    assert all(p[d].is_Integer and p[d] > 0 for p in pts)
    y = sp.Symbol("y", real=True)
    ys = [p[y] for p in algebra.points([y], random.Random(2))]
    assert any(v < 0 for v in ys) and any(v > 0 for v in ys)


@pytest.mark.parametrize(
    ("got", "want", "tol", "ok"),
    [
        (0.00390625, 1 / 256, {}, True),
        (0.0039, 1 / 256, {}, False),
        (0.0039, 1 / 256, {"sigfigs": 2}, True),
        (0.0038, 1 / 256, {"sigfigs": 2}, False),
        (120.1, 120.0, {"abs": 0.5}, True),
        (121.0, 120.0, {"rel": 0.01}, True),
        (122.0, 120.0, {"rel": 0.01}, False),
        (31.4, 31.40625, {"sigfigs": 3}, True),
    ],
)
def test_numbers_close(got: float, want: float, tol: dict[str, float], ok: bool) -> None:
    assert algebra.numbers_close(
        got, want, abs_tol=tol.get("abs"), rel_tol=tol.get("rel"),
        sigfigs=int(tol["sigfigs"]) if "sigfigs" in tol else None) is ok


@pytest.mark.parametrize(
    ("text", "form", "ok"),
    [
        ("x^2 + 2x + 1", "expanded", True),
        ("(x+1)^2", "expanded", False),
        ("(x+1)^2", "factored", True),
        ("x^2 + 2x + 1", "factored", False),
        ("r*(d+k)/(d*k)", "single_fraction", True),
        ("r/d + r/k", "single_fraction", False),
        ("r/d + r/k", "simplified", True),
    ],
)
def test_forms(text: str, form: str, ok: bool) -> None:
    from graders.answers import syntax as sx

    env = algebra.make_symbols({n: ["positive"] for n in ("x", "r", "d", "k")})
    expr = algebra.build_expr(sx.read(text, set(env)).tree, dict(env))
    assert algebra.is_form(expr, form) is ok


def test_unknown_symbol_warns_and_differs() -> None:
    v = check_expressions("r*(d+k)", "r*(d+q)", symbols=["r", "d", "k"], assume=PI, timeout=0)
    assert v.status == "incorrect"
    assert any("q" in w for w in v.warnings)


@pytest.mark.parametrize(("answer", "want"), [
    ("-beta*(1 - sigmoid(beta*(pw - rw - pl + rl)))", "correct"),  # 1 - σ(z) = σ(-z)
    ("-beta*sigmoid(-beta*(pw - rw - pl + rl))", "correct"),
    ("-beta*(1 - sigmoid(beta*(pw - rw + pl + rl)))", "incorrect"),
    ("-beta*sigmoid(beta*(pw - rw - pl + rl))", "incorrect"),
])
def test_sigmoid_identities_survive_cancellation(answer: str, want: str) -> None:
    """Regression: 1 - sigmoid(z) vs sigmoid(-z) was called different at large |z| (30-digit
    cancellation); transcendental checks now use small points and a 120-digit second look."""
    v = check_expressions("-beta*sigmoid(beta*((pl - rl) - (pw - rw)))", answer,
                          symbols=["beta", "pw", "rw", "pl", "rl"], assume=[])
    assert v.status == want
