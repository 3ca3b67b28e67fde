"""The safe answer reader: what it accepts, how it reads it, what it rejects and where."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from graders.answers import syntax as sx

RDK = {"r", "d", "k"}


def reads(text: str, known: set[str] | None = None) -> str:
    return sx.render(sx.read(text, known).tree)


@pytest.mark.parametrize(
    ("text", "known", "shown"),
    [
        ("r*(d+k)/(d*k)", RDK, "r·(d + k)/(d·k)"),
        ("r(d+k)/(dk)", RDK, "r·(d + k)/(d·k)"),  # implicit products of declared letters
        ("r(d+k)/dk", RDK, "r·(d + k)/(d·k)"),  # a run of declared letters is one product
        (r"\frac{r(d+k)}{dk}", RDK, "r·(d + k)/(d·k)"),
        (r"\left( r \cdot (d + k) \right) / (d \times k)", RDK, "r·(d + k)/(d·k)"),
        ("r×(d+k)÷(d·k)", RDK, "r·(d + k)/(d·k)"),
        ("r（d＋k）", RDK, "r·(d + k)"),  # full-width forms from a Chinese keyboard
        ("x^2 + y**3", None, "x^2 + y^3"),
        ("x²+y³", None, "x^2 + y^3"),
        ("x¹⁰", None, "x^10"),
        ("x⁻¹", None, "x^(-1)"),
        ("2^10", None, "2^10"),
        ("-x^2", None, "-x^2"),
        ("x^-2", None, "x^(-2)"),
        ("√(dk)", RDK, "√(d·k)"),
        ("√2x", None, "√(2)·x"),
        (r"\sqrt{d}", RDK, "√(d)"),
        (r"\sqrt[3]{x}", None, "root(x, 3)"),
        ("N_d", None, "N_d"),
        ("N_{d}", None, "N_d"),
        ("N₁", None, "N_1"),
        ("(2+2+K)Psi/N_d", {"K", "Psi", "N_d"}, "(2 + 2 + K)·Ψ/N_d"),
        ("ψ + Ψ", None, "ψ + Ψ"),
        (r"\Psi \beta", None, "Ψ·β"),
        ("beta*sigma", {"beta", "sigma"}, "β·σ"),
        ("log(x) + ln(y) + exp(z)", None, "log(x) + ln(y) + exp(z)"),
        (r"\log x", None, "log(x)"),
        (r"\log_2 x", None, "log(x, 2)"),
        ("log_2(n)", None, "log(n, 2)"),
        ("log(x, 2)", None, "log(x, 2)"),
        ("min(a, b) + max(a, b)", None, "min(a, b) + max(a, b)"),
        ("ceil(x) + floor(y) + abs(z)", None, "ceil(x) + floor(y) + abs(z)"),
        ("|x - 1|", None, "abs(x - 1)"),
        (r"\lceil x \rceil", None, "ceil(x)"),
        ("sigmoid(z)", None, "sigmoid(z)"),
        (r"-\log \sigma(\beta x)", None, "-log(sigmoid(β·x))"),
        ("1e9", None, "1e9"),
        ("4096", None, "4096"),
        ("0.5", None, "0.5"),
        ("50%", None, "50%"),
        ("n!", None, "n!"),
        ("a = b", None, "a = b"),
        ("a <= b < c", None, "a ≤ b < c"),
        ("a ≥ b", None, "a ≥ b"),
        (r"a \leq b", None, "a ≤ b"),
        ("{a, b}", None, "{a, b}"),
        ("[a, b]", None, "[a, b]"),
        ("a, b", None, "a, b"),
        (r"\{1, 2\}", None, "{1, 2}"),
        ("O(d*r + r*k)", None, "O(d·r + r·k)"),
        (r"\mathcal{O}(N^2)", None, "O(N^2)"),
        ("x^{2}", None, "x^2"),
        ("$x+1$", None, "x + 1"),
        ("2(p-1)/p * M", {"p", "M"}, "(2·(p - 1)/p)·M"),
        ("π r^2", None, "π·r^2"),
        ("∞", None, "∞"),
    ],
)
def test_reads(text: str, known: set[str] | None, shown: str) -> None:
    assert reads(text, known) == shown


@pytest.mark.parametrize(
    ("text", "key", "col"),
    [
        ("r*(d+", "err.unclosed", 3),
        ("(a+b))", "err.unexpected", 6),
        ("2*)", "err.unexpected", 3),
        ("x +", "err.unexpected_end", None),
        ("", "err.empty", None),
        ("   ", "err.empty", None),
        ("2 3", "err.two_numbers", 3),
        ("1.9e", "err.bad_number", 1),
        ("foo(x)", "err.unknown_function", 1),
        (r"\foo{x}", "err.unknown_command", 1),
        ("__import__('os')", "err.underscore", 1),
        ("().__class__", "err.unexpected_char", 3),
        ("lambda x: x", "err.unexpected_char", 9),
        ("a.b", "err.unexpected_char", 2),
        ("x # y", "err.unexpected_char", 3),
        ("9**9**9**9", "err.exponent_too_large", 2),
        ("((9**9)**9999)**9999", "err.exponent_too_large", 15),
        ("(x^1000)^1000", "err.exponent_too_large", 3),
        ("10^500", "err.value_too_large", 3),
        ("x^x^x", "err.tower", 2),
        ("factorial(10**10)", "err.factorial_too_large", 1),
        ("(10^4)!", "err.factorial_too_large", 7),
        ("1e99", "err.number_too_large", 1),
        ("1" * 60, "err.number_too_large", 1),
        ("x + O(x)", "err.big_o_inside", 5),
        ("log()", "err.arity", 1),
        ("sqrt(a, b)", "err.arity", 1),
        ("日本", "err.unexpected_char", 1),
    ],
)
def test_rejects_with_position(text: str, key: str, col: int | None) -> None:
    with pytest.raises(sx.ParseError) as info:
        sx.read(text)
    assert info.value.key == key
    if col is not None:
        assert info.value.fields.get("col") == col
    # every error renders in both languages, never as a traceback
    assert info.value.render("en") and info.value.render("zh-TW")


def test_error_message_names_the_column() -> None:
    with pytest.raises(sx.ParseError) as info:
        sx.read("(a+b))")
    assert info.value.render() == "unexpected ')' at column 6"


@pytest.mark.parametrize(
    "text", ["x" * (sx.MAX_CHARS + 1), "(" * 10_000 + "x" + ")" * 10_000, "+".join(["x"] * 500)]
)
def test_size_bounds(text: str) -> None:
    with pytest.raises(sx.ParseError) as info:
        sx.read(text)
    assert info.value.key in ("err.too_long", "err.too_deep", "err.too_big")


def test_deep_but_allowed_nesting() -> None:
    assert reads("(" * 20 + "x" + ")" * 20) == "x"


@pytest.mark.parametrize(
    ("text", "known", "warning"),
    [
        ("1/2x", None, "warn.division_product"),
        ("r(d+k)", {"d", "k"}, "warn.unknown_symbol"),
        ("x + 1", RDK, "warn.unknown_symbol"),
        ("e^x", None, "warn.euler"),
        (r"\sigma(z)", None, "warn.sigmoid"),
        ("f(x)", None, "warn.implicit_call"),
        ("log 2x", None, "warn.function_no_paren"),
        ("n^2", {"N"}, "warn.case"),
    ],
)
def test_warnings(text: str, known: set[str] | None, warning: str) -> None:
    assert warning in [k for k, _ in sx.read(text, known).warnings]


def test_no_warning_for_plain_input() -> None:
    assert sx.read("r*(d+k)/(d*k)", RDK).warnings == []


def test_declared_sigma_is_a_symbol() -> None:
    assert reads("sigma^2", {"sigma"}) == "σ^2"


def test_undeclared_names_are_kept_whole_without_declarations() -> None:
    assert reads("dk + n_kv") == "dk + n_kv"


# ------------------------------------------------------------------ hypothesis round trips

names = st.sampled_from(["r", "d", "k", "x", "Psi", "N_d", "beta"])
numbers = st.one_of(st.integers(0, 10_000).map(str), st.sampled_from(["0.5", "1e9", "2.25"]))


def _exprs() -> st.SearchStrategy[str]:
    leaf = st.one_of(names, numbers)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"({t[0]}){t[1]}({t[2]})"),
            st.tuples(inner, st.integers(1, 5)).map(lambda t: f"({t[0]})^{t[1]}"),
            inner.map(lambda s: f"-({s})"),
            st.tuples(st.sampled_from(["log", "sqrt", "exp", "abs", "sigmoid"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"),
        )

    return st.recursive(leaf, extend, max_leaves=12)


KNOWN = {"r", "d", "k", "x", "Psi", "N_d", "beta"}


@settings(max_examples=300, deadline=None)
@given(_exprs())
def test_render_round_trips(text: str) -> None:
    """Reading the rendered reading gives the same tree: the preview is faithful."""
    try:
        tree = sx.read(text, KNOWN).tree
    except sx.ParseError as exc:  # only the value bounds may refuse generated input
        assume(exc.key in ("err.value_too_large", "err.exponent_too_large"))
        return
    shown = sx.render(tree)
    again = sx.read(shown, KNOWN).tree
    assert sx.render(again) == shown
    assert _strip(again) == _strip(tree)


def _strip(node: sx.Node) -> object:
    """The tree without columns and implicit flags."""
    if isinstance(node, sx.Num):
        return ("num", node.value)
    if isinstance(node, sx.Name):
        return ("name", node.name)
    if isinstance(node, sx.Const):
        return ("const", node.name)
    if isinstance(node, sx.Neg):
        return ("neg", _strip(node.arg))
    if isinstance(node, sx.Bin):
        return (node.op, _strip(node.left), _strip(node.right))
    if isinstance(node, sx.Call):
        return (node.name, tuple(_strip(a) for a in node.args))
    if isinstance(node, sx.Rel):
        return (node.ops, tuple(_strip(p) for p in node.parts))
    if isinstance(node, sx.Seq):
        return (node.kind, tuple(_strip(i) for i in node.items))
    raise TypeError(node)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("rdk0123456789+-*/^()[]{}|=<>!%,. _\\eπψ√²")),
               max_size=40))
def test_reader_only_raises_parse_errors(text: str) -> None:
    try:
        reading = sx.read(text, RDK)
    except sx.ParseError as exc:
        assert exc.render("en") and exc.render("zh-TW")
    else:
        assert isinstance(sx.render(reading.tree), str)


def test_case_fallback_maps_onto_the_declared_symbol_but_not_for_greek() -> None:
    assert reads("O(n^2)", {"N"}) == "O(N^2)"
    assert reads("psi", {"Psi"}) == "ψ"
