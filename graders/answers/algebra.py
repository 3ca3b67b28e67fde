"""Computer algebra on parsed answers: build sympy objects from the safe tree and compare them.

``build`` turns a ``syntax`` tree into sympy objects directly (never through sympify or
parse_expr). ``equivalent`` is the ladder for algebraic equivalence under the declared assumptions:

1. structural: the canonical sympy forms are identical;
2. exact evaluation at random rational points of the declared domain (positive integers for
   positive+integer symbols, distinct values per symbol, so d = k coincidences cannot pass);
   a non-zero difference at any point proves "different";
3. symbolic simplification of the difference when the points could not decide.

Outcomes are "equal", "different" or "undetermined". Further comparisons cover numbers with
tolerances, forms, equations, inequalities, sets/lists and asymptotic growth.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

import sympy as sp

from graders.answers import syntax as sx

Outcome = Literal["equal", "different", "undetermined"]
N_POINTS = 8
"""Random points tried per comparison."""
MIN_VALID_POINTS = 3
"""Points that must evaluate to finite real values before the points decide "equal"."""
DIGITS = 30
"""Working precision (decimal digits) when a point does not evaluate to a rational."""


@dataclass(frozen=True)
class Value:
    """A built answer: an expression, a relation chain, a set/list/tuple, or O(expression)."""

    kind: Literal["expr", "rel", "seq", "asym"]
    expr: Any = None
    """The sympy expression (kind expr / asym)."""
    ops: tuple[str, ...] = ()
    """Relation operators (kind rel)."""
    parts: tuple[Any, ...] = ()
    """Relation sides (kind rel) or items (kind seq), as sympy expressions or Values."""
    seq_kind: str = ""
    """set | list | tuple (kind seq)."""


def make_symbols(decl: dict[str, list[str]]) -> dict[str, sp.Symbol]:
    """Sympy symbols for declared names with their assumptions."""
    out: dict[str, sp.Symbol] = {}
    for name, assumptions in decl.items():
        out[name] = sp.Symbol(name, **{a: True for a in assumptions})
    return out


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def build_expr(node: sx.Node, env: dict[str, Any]) -> sp.Expr:
    """A sympy expression for an arithmetic tree; ``env`` maps names to symbols or values."""
    if isinstance(node, sx.Num):
        return sp.Rational(node.value.numerator, node.value.denominator)
    if isinstance(node, sx.Name):
        if node.name not in env:
            env[node.name] = sp.Symbol(node.name)
        return env[node.name]
    if isinstance(node, sx.Const):
        return {"pi": sp.pi, "E": sp.E, "oo": sp.oo}[node.name]
    if isinstance(node, sx.Neg):
        return -build_expr(node.arg, env)
    if isinstance(node, sx.Bin):
        a = build_expr(node.left, env)
        b = build_expr(node.right, env)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if node.op == "/":
            return a / b
        return a**b
    if isinstance(node, sx.Call):
        args = [build_expr(a, env) for a in node.args]
        name = node.name
        if name in ("log", "ln"):
            return sp.log(*args)
        if name == "log2":
            return sp.log(args[0], 2)
        if name == "log10":
            return sp.log(args[0], 10)
        if name == "exp":
            return sp.exp(args[0])
        if name == "sqrt":
            return sp.sqrt(args[0])
        if name == "root":
            return sp.root(args[0], args[1])
        if name == "sigmoid":
            return _sigmoid(args[0])
        if name == "min":
            return sp.Min(*args)
        if name == "max":
            return sp.Max(*args)
        if name == "ceil":
            return sp.ceiling(args[0])
        if name == "floor":
            return sp.floor(args[0])
        if name == "abs":
            return sp.Abs(args[0])
        if name == "factorial":
            return sp.factorial(args[0])
        if name == "percent":
            return args[0] / 100
        if name == "O":
            return args[0]
    if isinstance(node, (sx.Rel, sx.Seq)):
        raise sx.ParseError("err.expected_expression")
    raise TypeError(type(node).__name__)


def build(node: sx.Node, env: dict[str, Any]) -> Value:
    """Build the top of an answer tree."""
    if isinstance(node, sx.Rel):
        return Value("rel", ops=node.ops, parts=tuple(build_expr(p, env) for p in node.parts))
    if isinstance(node, sx.Seq):
        return Value("seq", parts=tuple(build(i, env) for i in node.items), seq_kind=node.kind)
    if isinstance(node, sx.Call) and node.name == "O":
        return Value("asym", expr=build_expr(node.args[0], env))
    return Value("expr", expr=build_expr(node, env))


# ---------------------------------------------------------------------------------- points


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in parts))


def _draw(sym: sp.Symbol, rng: random.Random, negative: bool, top: int = 40,
          small: bool = False) -> sp.Rational:
    """A value of the symbol's domain; ``negative`` asks for a negative one where allowed.

    ``small`` keeps non-integers within (0, 5]: transcendental answers (exp, sigmoid, log) are
    then evaluated where under/overflow cannot swamp 30-digit arithmetic
    (e.g. 1 - sigmoid(z) vs sigmoid(-z) at z ~ 10^4)."""
    a = sym.assumptions0
    integer = bool(a.get("integer"))
    signed = not (a.get("positive") or a.get("nonnegative"))
    sign = -1 if signed and negative else 1
    if integer:
        return sp.Integer(sign * rng.randint(2, top if not signed else min(top, 30)))
    if small:
        num, den = rng.randint(1, 20), rng.choice([4, 5, 6, 7, 9])
    else:
        num, den = rng.randint(1, 97), rng.choice([1, 2, 3, 5, 7, 11, 13])
    return sign * sp.Rational(num, den)


def points(symbols: list[sp.Symbol], rng: random.Random, n: int = N_POINTS,
           top: int = 40, small: bool = False) -> list[dict[Any, Any]]:
    """Random points of the declared domain, with distinct values for distinct symbols.

    Signed symbols get both signs across the points (symbol j is negative at point i when bit
    j % 3 of i is set, so every sign pattern of three symbols appears within eight points).
    """
    out: list[dict[Any, Any]] = []
    for i in range(n):
        pt: dict[Any, Any] = {}
        used: set[Any] = set()
        for j, s in enumerate(symbols):
            negative = bool((i >> (j % 3)) & 1)
            for _try in range(20):
                v = _draw(s, rng, negative, top, small)
                if v not in used:
                    break
            used.add(v)
            pt[s] = v
        out.append(pt)
    return out


def _is_bad(v: Any) -> bool:
    return bool(v.has(sp.nan, sp.zoo, sp.oo, -sp.oo)) or v is sp.nan


def _numeric_mp(v: Any) -> Any:
    """A finite mpmath complex with DIGITS precision, or None."""
    import mpmath

    try:
        n = sp.N(v, DIGITS)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    if _is_bad(n):
        return None
    re_, im_ = n.as_real_imag()
    if not (re_.is_Number and im_.is_Number):
        return None
    with mpmath.workdps(DIGITS):
        return mpmath.mpc(mpmath.mpf(re_), mpmath.mpf(im_))


def _numeric(v: Any) -> complex | None:
    """A finite complex value (double precision), or None."""
    n = _numeric_mp(v)
    if n is None:
        return None
    z = complex(n)
    return z if abs(z.real) < 1e300 and abs(z.imag) < 1e300 else None


def _close(a: Any, b: Any) -> bool | None:
    """Whether two evaluated values agree (exactly, or to ~20 digits); None if undefined."""

    if _is_bad(a) or _is_bad(b):
        return None
    if a.is_Rational and b.is_Rational:
        return bool(a == b)
    na, nb = _numeric_mp(a), _numeric_mp(b)
    if na is None or nb is None:
        return None
    return _within(na, nb, DIGITS)


def _within(na: Any, nb: Any, digits: int) -> bool:
    """Relative agreement to 20 significant digits (both zero counts as agreement)."""
    import mpmath

    with mpmath.workdps(digits):
        scale = max(abs(na), abs(nb))
        return bool(abs(na - nb) <= mpmath.mpf("1e-20") * scale or scale == 0)


def _subs(e: Any, pt: dict[Any, Any]) -> Any:
    v = e.xreplace(pt)
    if v.free_symbols:
        return sp.nan
    return v


def is_rational_function(e: Any) -> bool:
    """Only +, ·, integer powers of symbols and rationals: exact evaluation is cheap."""
    for node in sp.preorder_traversal(e):
        if node.is_Symbol or node.is_Rational or node.is_Add or node.is_Mul:
            continue
        if node.is_Pow and node.exp.is_Integer:
            continue
        return False
    return True


def _evalf_at(e: Any, pt: dict[Any, Any], digits: int = DIGITS) -> Any:
    """Evaluate numerically at a point without building the exact value (logs, roots …)."""
    import mpmath

    try:
        n = e.evalf(digits, subs=pt)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    if n.free_symbols or _is_bad(n):
        return None
    re_, im_ = n.as_real_imag()
    if not (re_.is_Number and im_.is_Number):
        return None
    with mpmath.workdps(digits):
        return mpmath.mpc(mpmath.mpf(re_), mpmath.mpf(im_))


RECHECK_DIGITS = 120
"""Precision of the second look before a transcendental disagreement counts as "different"."""


def _agree(a: Any, b: Any, pt: dict[Any, Any], exact: bool) -> bool | None:
    """Whether a and b agree at the point; None when either is undefined there."""

    if exact:
        return _close(_subs(a, pt), _subs(b, pt))
    for digits in (DIGITS, RECHECK_DIGITS):
        # a disagreement at 30 digits may be cancellation (1 - sigmoid(z) near 0): look again
        # at 120 digits; a real difference survives, a rounding artefact does not
        na, nb = _evalf_at(a, pt, digits), _evalf_at(b, pt, digits)
        if na is None or nb is None:
            return None
        if _within(na, nb, digits):
            return True
    return False


def _variable_power(e: Any) -> bool:
    return any((p.is_Pow or isinstance(p, sp.exp)) and p.exp.free_symbols
               for p in sp.preorder_traversal(e))


def _top(a: Any, b: Any, n_free: int) -> int:
    """Largest integer drawn for an integer symbol when comparing a and b.

    Factorials of products of 2..40 are huge: integers stay within 2..12 then. A variable
    exponent (2^(r·d·k), exp(r·d)) at 2..40 is astronomically large: exact values do not fit in
    memory and, numerically, 2^(r·d·k) + 1 would agree with 2^(r·d·k) to 20 digits at every
    point; integers stay within 2..max(5, symbols + 2) (still distinct within a point)."""
    if _variable_power(a) or _variable_power(b):
        return max(5, n_free + 2)
    return 12 if a.has(sp.factorial) or b.has(sp.factorial) else 40


def equivalent(a: sp.Expr, b: sp.Expr, *, seed: object = "") -> Outcome:
    """The equivalence ladder: structural, random points, simplification."""
    if a == b:
        return "equal"
    if _is_bad(a) or _is_bad(b):  # log(0), 0/0, (-3)!: undefined everywhere, so not equal
        return "different"
    try:
        free = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
        exact = is_rational_function(a) and is_rational_function(b)
        valid = 0
        top = _top(a, b, len(free))
        for pt in points(free, _rng(a, b, seed), top=top, small=not exact) if free else [{}]:
            same = _agree(a, b, pt, exact)
            if same is None:
                continue
            if not same:
                return "different"
            valid += 1
        if valid >= (MIN_VALID_POINTS if free else 1):
            # exact agreement at random points decides for rational functions (Schwartz-Zippel);
            # otherwise agreement to 20 digits at every random point
            return "equal"
        diff = sp.simplify(a - b)  # the points could not decide (undefined at most of them)
        if diff == 0:
            return "equal"
        return "undetermined"
    except (TypeError, ValueError, ArithmeticError, AttributeError, NotImplementedError):
        return "undetermined"


def numeric_value(e: sp.Expr) -> float | None:
    """A finite real value of a constant expression, or None."""
    v = _numeric(e)
    if v is None or abs(v.imag) > 1e-12 * max(1.0, abs(v.real)):
        return None
    return v.real


def numbers_close(got: float, want: float, *, abs_tol: float | None, rel_tol: float | None,
                  sigfigs: int | None) -> bool:
    """Any given bound that is met accepts; with no bound, relative 1e-6."""
    if got == want:
        return True
    if abs_tol is None and rel_tol is None and sigfigs is None:
        rel_tol = 1e-6
    if abs_tol is not None and abs(got - want) <= abs_tol:
        return True
    if rel_tol is not None and abs(got - want) <= rel_tol * abs(want):
        return True
    if sigfigs is not None and want != 0:
        # both round to the same value at the required significant figures
        place = math.floor(math.log10(abs(want))) - sigfigs + 1
        return abs(got - want) <= 0.5 * 10.0**place * (1 + 1e-9)
    return False


# ---------------------------------------------------------------------------------- forms


def is_form(e: sp.Expr, form: str) -> bool:
    """Whether ``e`` (as built, before any simplification) is written in ``form``."""
    if form == "expanded":
        return bool(sp.expand(e) == e)
    if form == "factored":
        f = sp.factor(e)
        return bool(f == e or sp.count_ops(e) <= sp.count_ops(f))
    if form == "single_fraction":
        terms = sp.Add.make_args(e)
        if len(terms) == 1:
            return True
        return all(sp.fraction(t)[1] == 1 for t in terms)
    if form == "simplified":
        return bool(sp.count_ops(e) <= sp.count_ops(sp.simplify(e)))
    return True


# ---------------------------------------------------------------------------------- relations


def _ratio_constant(a: sp.Expr, b: sp.Expr, seed: object, positive: bool) -> bool:
    """Whether a/b is the same non-zero (positive, if asked) constant on the domain."""
    free = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    ratio: Any = None
    valid = 0
    for pt in points(free, _rng(a, b, seed, "ratio"), top=_top(a, b, len(free))) \
            if free else [{}]:
        va, vb = _subs(a, pt), _subs(b, pt)
        if _is_bad(va) or _is_bad(vb) or vb == 0:
            continue
        if va == 0:
            return False
        r = va / vb
        if ratio is None:
            ratio = r
            nv = numeric_value(r)
            if nv is None or (positive and nv <= 0):
                return False
        else:
            same = _close(r, ratio)
            if same is False:
                return False
        valid += 1
    return valid >= (MIN_VALID_POINTS if free else 1)


def _sides(v: Value) -> list[sp.Expr]:
    return [v.parts[i] - v.parts[i + 1] for i in range(len(v.ops))]


def equations_equivalent(a: Value, b: Value, *, seed: object = "") -> bool:
    """Equal up to rearrangement and non-zero scaling (also after clearing denominators)."""
    if len(a.ops) != len(b.ops) or any(o != "=" for o in a.ops + b.ops):
        return False
    for ea, eb in zip(_sides(a), _sides(b), strict=True):
        if equivalent(ea, eb, seed=seed) == "equal" or _ratio_constant(ea, eb, seed, False):
            continue
        na, nb = sp.fraction(sp.together(ea))[0], sp.fraction(sp.together(eb))[0]
        if not _ratio_constant(sp.expand(na), sp.expand(nb), seed, False):
            return False
    return True


_FLIP = {"<": ">", "<=": ">=", ">": ">", ">=": ">="}


def _normal_ineq(v: Value) -> list[tuple[str, sp.Expr]]:
    out: list[tuple[str, sp.Expr]] = []
    for op, (lhs, rhs) in zip(v.ops, zip(v.parts, v.parts[1:], strict=False), strict=True):
        if op in (">", ">="):
            out.append((op, lhs - rhs))
        elif op in ("<", "<="):
            out.append((_FLIP[op], rhs - lhs))
        else:
            out.append((op, lhs - rhs))
    return out


def inequalities_equivalent(a: Value, b: Value, *, seed: object = "") -> bool:
    """Same relations up to rearrangement and positive scaling."""
    na, nb = _normal_ineq(a), _normal_ineq(b)
    if len(na) != len(nb):
        return False
    for (oa, ea), (ob, eb) in zip(na, nb, strict=True):
        if oa != ob:
            return False
        if equivalent(ea, eb, seed=seed) == "equal" or _ratio_constant(ea, eb, seed, True):
            continue
        # multiply out denominators that are positive under the assumptions:
        # r < dk/(d+k)  <=>  r(d+k) < dk  for positive d, k
        na, da = sp.fraction(sp.together(ea))
        nb, db = sp.fraction(sp.together(eb))
        if da.is_positive and db.is_positive and _ratio_constant(
                sp.expand(na), sp.expand(nb), seed, True):
            continue
        return False
    return True


# ---------------------------------------------------------------------------------- growth


MAX_GROWTH_DIGITS = 1000
"""Most digits spent on one value with a variable exponent (2^(r·d) far out)."""


def _growth_value(ratio: Any, exponents: list[Any], pt: dict[Any, Any]) -> Any:
    """``ratio`` at ``pt`` in floating point, with enough digits that its variable exponents
    (about 10^(3·64) far out) keep DIGITS significant digits after cancelling: 2^d/3^d."""
    import mpmath

    extra = 0
    for e in exponents:
        m = _evalf_at(e, pt, 15)
        if m is None:
            return None
        extra = max(extra, int(mpmath.log10(abs(m) + 1)) + 1)
    if DIGITS + extra > MAX_GROWTH_DIGITS:
        return None
    return _evalf_at(ratio, pt, DIGITS + extra)


def same_growth(a: sp.Expr, b: sp.Expr, *, seed: object = "") -> bool:
    """Whether a and b have the same order of growth as their variables go to infinity.

    Each variable x_i becomes c_i·t^e_i along several directions (all e_i = 1, then random
    e_i in {1, 2, 3}); log|a/b| must settle to a constant as t grows (t = 1e16, 1e32, 1e64).
    """
    import mpmath

    free = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if not free:
        va, vb = numeric_value(a), numeric_value(b)
        return va is not None and vb is not None and va != 0 and vb != 0
    rng = _rng(a, b, seed, "growth")
    t = sp.Symbol("t", positive=True)
    directions = [[1] * len(free)] + [[rng.choice([1, 2, 3]) for _ in free] for _ in range(4)]
    for exps in directions:
        coeffs = [sp.Rational(rng.randint(1, 9), rng.randint(1, 9)) for _ in free]
        sub = {s: c * t**e for s, c, e in zip(free, coeffs, exps, strict=True)}
        ratio = (a / b).xreplace(sub)
        # 2^r at t = 10^64 is 2^(c·10^64): never built exactly; evaluated in floating point,
        # with the log taken there (the value itself overflows a double)
        nodes = list(sp.preorder_traversal(ratio))
        variable_exp = [p.exp for p in nodes
                        if (p.is_Pow or isinstance(p, sp.exp)) and p.exp.free_symbols]
        exact = not any(p.is_Pow and p.exp.free_symbols for p in nodes)
        logs: list[float] = []
        for k in (16, 32, 64):
            if not exact:
                w = _growth_value(ratio, variable_exp, {t: sp.Integer(10) ** k})
                if w is None or w == 0:
                    return False
                logs.append(float(mpmath.log(abs(w))))
                continue
            v = _numeric(ratio.xreplace({t: sp.Integer(10) ** k}))
            if v is None or v == 0:
                return False
            logs.append(math.log(abs(v)))
        if abs(logs[2] - logs[1]) > 0.05 or abs(logs[1] - logs[0]) > 0.2:
            return False
    return True
