"""Question kinds, response trees, hints, variants and previews (in-process grading)."""

from __future__ import annotations

from typing import Any

import pytest

from graders.answers import preview, render_prompt, variant
from graders.answers.grading import QuestionError, grade_local
from graders.answers.schema import Question

T = {"en": "x", "zh-TW": "x"}


def q(**fields: Any) -> Question:
    base: dict[str, Any] = {"id": "t-q", "level": 2, "concepts": ["lora"], "kind": "expression",
                            "prompt": {"en": "Prompt", "zh-TW": "題目"},
                            "cases": [{"answer": "1", "status": "correct"}]}
    base.update(fields)
    return Question.model_validate(base)


def fb(en: str) -> dict[str, str]:
    return {"en": en, "zh-TW": "中文：" + en}


RATIO = q(
    id="ratio", symbols={"r": ["positive", "integer"], "d": ["positive", "integer"],
                         "k": ["positive", "integer"]},
    answer="r*(d+k)/(d*k)",
    tree=[
        {"answer": "r*(d+k)", "score": 0.3, "note": "param-count-not-ratio",
         "feedback": fb("That is the parameter count."), "pitfall": "pitfall-peft-only-compute"},
        {"answer": "d*k/(r*(d+k))", "score": 0.2, "note": "inverted-ratio",
         "feedback": fb("Inverted.")},
        {"answer": "r*d*k", "score": 0, "note": "product-not-sum", "feedback": fb("Product.")},
    ],
    hints=[{"text": T, "cost": 0.1}, {"text": T, "cost": 0.25}],
)


@pytest.mark.parametrize(
    ("answer", "status", "score", "note"),
    [
        ("r*(d+k)/(d*k)", "correct", 1.0, "correct"),
        ("r/k + r/d", "correct", 1.0, "correct"),
        ("r d + r k", "partial", 0.3, "param-count-not-ratio"),
        ("dk/(r(d+k))", "partial", 0.2, "inverted-ratio"),
        ("r*d*k", "incorrect", 0.0, "product-not-sum"),
        ("r/(d+k)", "incorrect", 0.0, "incorrect"),
        ("r*(d+", "invalid", 0.0, "invalid"),
        ("ratio = r/k + r/d", "correct", 1.0, "correct"),
    ],
)
def test_response_tree(answer: str, status: str, score: float, note: str) -> None:
    v = grade_local(RATIO, answer)
    assert (v.status, v.score, v.note) == (status, pytest.approx(score), note)


def test_tree_feedback_and_pitfall_in_the_learner_language() -> None:
    v = grade_local(RATIO, "r(d+k)", lang="zh-TW")
    assert v.feedback == "中文：That is the parameter count."
    assert v.pitfall == "pitfall-peft-only-compute"
    assert v.interpreted_as == "r·(d + k)"


def test_invalid_names_the_column() -> None:
    v = grade_local(RATIO, "r*(d+k))")
    assert v.status == "invalid" and "column 8" in v.feedback
    assert "第 8 欄" in grade_local(RATIO, "r*(d+k))", lang="zh-TW").feedback


@pytest.mark.parametrize(("hints", "score"), [(0, 1.0), (1, 0.9), (2, 0.65), (5, 0.65)])
def test_hint_costs(hints: int, score: float) -> None:
    v = grade_local(RATIO, "r/k + r/d", hints_used=hints)
    assert v.status == "correct" and v.score == pytest.approx(score)


def test_hint_cost_never_below_zero() -> None:
    assert grade_local(RATIO, "dk/(r(d+k))", hints_used=2).score == 0.0


FORM = q(id="form", symbols={"x": ["real"]}, answer="(x+1)^2", form="factored")


def test_form_is_separate_from_value() -> None:
    assert grade_local(FORM, "(1+x)^2").status == "correct"
    v = grade_local(FORM, "x^2 + 2x + 1")
    assert (v.status, v.note) == ("partial", "wrong-form")
    assert grade_local(FORM, "(x+2)^2").status == "incorrect"


NUMERIC = q(
    id="lora-params", kind="numeric", answer="r*(d+k)",
    params={"d": {"values": [4096, 5120]}, "k": {"values": [11008, 4096]},
            "r": {"min": 4, "max": 64, "step": 4}},
    prompt={"en": "r = {r}, W0 is {d}×{k}; \\frac{{a}}{{b}}", "zh-TW": "r = {r}，W0 為 {d}×{k}"},
    tree=[{"test": "numeric", "answer": "2*r*d", "score": 0.5, "note": "assumed-square",
           "feedback": fb("Square?")}],
    tolerance={"rel": 0},
)


def test_base_variant_uses_first_values() -> None:
    assert variant(NUMERIC, None) == {"d": 4096, "k": 11008, "r": 4}
    assert grade_local(NUMERIC, "4*(4096+11008)").status == "correct"
    assert grade_local(NUMERIC, "60416").status == "correct"
    assert grade_local(NUMERIC, "60417").status == "incorrect"
    assert grade_local(NUMERIC, "32768").note == "assumed-square"


def test_variants_are_deterministic_and_vary() -> None:
    seen = {tuple(variant(NUMERIC, s).items()) for s in range(30)}
    assert len(seen) > 5
    assert variant(NUMERIC, 7) == variant(NUMERIC, 7)
    vals = variant(NUMERIC, 7)
    assert vals["r"] % 4 == 0 and 4 <= vals["r"] <= 64
    want = vals["r"] * (vals["d"] + vals["k"])
    assert grade_local(NUMERIC, str(want), seed=7).status == "correct"


def test_render_prompt_fills_params_only() -> None:
    text = render_prompt(NUMERIC, 7, "en")
    vals = variant(NUMERIC, 7)
    assert f"r = {vals['r']}" in text and f"{vals['d']}×{vals['k']}" in text
    assert "\\frac{{a}}{{b}}" in text  # other braces untouched
    assert render_prompt(NUMERIC, 7, "zh-TW").startswith(f"r = {vals['r']}，")


def test_numeric_rejects_symbols_and_units_as_invalid() -> None:
    v = grade_local(NUMERIC, "120 GB")
    assert v.status == "invalid" and "GB" in v.feedback


def test_params_may_be_used_by_name() -> None:
    assert grade_local(NUMERIC, "r(d+k)").status == "correct"


CHOICE = q(
    id="pick", kind="choice", answer="b",
    options=[
        {"id": "a", "text": T, "feedback": fb("Only compute?"), "pitfall": "pitfall-peft-only-compute"},
        {"id": "b", "text": T, "correct": True},
        {"id": "c", "text": T},
    ],
)


@pytest.mark.parametrize(
    ("answer", "status", "note"),
    [("b", "correct", "correct"), ("(B)", "correct", "correct"), ("a", "incorrect", "option-a"),
     ("c", "incorrect", "option-c"), ("z", "invalid", "invalid"), ("a, b", "invalid", "invalid"),
     ("", "invalid", "invalid")],
)
def test_choice(answer: str, status: str, note: str) -> None:
    v = grade_local(CHOICE, answer)
    assert (v.status, v.note) == (status, note)


def test_choice_option_feedback_and_pitfall() -> None:
    v = grade_local(CHOICE, "a", lang="zh-TW")
    assert v.feedback == "中文：Only compute?" and v.pitfall == "pitfall-peft-only-compute"


MULTI = q(id="multi", kind="multi",
          options=[{"id": i, "text": T, "correct": i in "ac",
                    "feedback": fb(f"not {i}") if i not in "ac" else None,
                    "pitfall": "pitfall-chasing-latest" if i == "d" else None} for i in "abcd"])


@pytest.mark.parametrize(
    ("answer", "status", "score"),
    [("a,c", "correct", 1.0), ("c a", "correct", 1.0), ("ac", "correct", 1.0),
     ("a", "partial", 0.5), ("a,c,d", "partial", 0.5), ("b,d", "incorrect", 0.0),
     ("a,e", "invalid", 0.0), ("a,a", "invalid", 0.0), ("a 和 c", "correct", 1.0),
     ("a and c", "correct", 1.0), ("a、c", "correct", 1.0)],
)
def test_multi(answer: str, status: str, score: float) -> None:
    v = grade_local(MULTI, answer)
    assert (v.status, v.score) == (status, pytest.approx(score))


def test_multi_feedback_names_wrong_and_missing() -> None:
    v = grade_local(MULTI, "a,d")
    assert "not d" in v.feedback and "c" in v.feedback and v.pitfall == "pitfall-chasing-latest"


ORDER = q(id="order", kind="ordering", options=[{"id": i, "text": T} for i in "abcd"])


@pytest.mark.parametrize(
    ("answer", "status", "score"),
    [("a,b,c,d", "correct", 1.0), ("b,a,c,d", "partial", 5 / 6), ("d,c,b,a", "incorrect", 0.0),
     ("a > b > d > c", "partial", 5 / 6), ("a,b,c", "invalid", 0.0)],
)
def test_ordering_kendall(answer: str, status: str, score: float) -> None:
    v = grade_local(ORDER, answer)
    assert (v.status, v.score) == (status, pytest.approx(score))


TEXT = q(
    id="text", kind="text", pass_fraction=0.6,
    keywords=[
        {"any": ["memory", "記憶體", "VRAM"], "feedback": fb("memory")},
        {"any": ["communication", "通訊", "bandwidth"], "feedback": fb("communication")},
        {"any": ["compute", "計算"], "weight": 2},
    ],
    tree=[{"test": "contains", "any": ["just faster"], "score": 0, "note": "only-speed",
           "feedback": fb("More than speed."), "pitfall": "pitfall-distributed-just-parallel"}],
)


@pytest.mark.parametrize(
    ("answer", "status", "score", "note"),
    [
        # keywords only advise (self-assessment decides: test_answers_selfassess.py); the
        # score is the keyword share, a misconception node still counts
        ("Memory, communication and compute limits", "undetermined", 1.0, "self-assess"),
        ("單張 GPU 記憶體不足，計算量也太大", "undetermined", 0.75, "self-assess"),
        ("it needs more memory", "undetermined", 0.25, "self-assess"),
        ("it is just faster", "incorrect", 0.0, "only-speed"),
        ("no idea", "undetermined", 0.0, "self-assess"),
        ("   ", "invalid", 0.0, "invalid"),
    ],
)
def test_text_keywords_both_languages(answer: str, status: str, score: float, note: str) -> None:
    v = grade_local(TEXT, answer)
    assert (v.status, v.score, v.note) == (status, pytest.approx(score), note)


DERIV = q(
    id="deriv", kind="derivation",
    symbols={s: ["positive", "integer"] for s in "rdk"},
    answer=["(d*r + r*k)/(d*k)", "r/k + r/d"],
    tree=[{"answer": "r*(d+k)", "score": 0.3, "note": "param-count-not-ratio", "feedback": fb("count")}],
)


@pytest.mark.parametrize(
    ("answer", "status", "note"),
    [
        ("(d*r + r*k)/(d*k); r*(d+k)/(d*k); r/k + r/d", "correct", "correct"),
        ("(d*r + r*k)/(d*k)\nr*(d+k)/(d*k) = r/k + r/d", "correct", "correct"),
        ("(d*r + r*k)/(d*k); r*(d+k)/(d*k); r/(d+k)", "incorrect", "step-3"),
        ("(d*r + r*k)/(d*k); r*(d+k)/(d*k); r/(d+k); r/k + r/d", "incorrect", "step-3"),
        ("r*d/(d*k); r/k + r/d", "incorrect", "step-1"),
        ("(d*r + r*k)/(d*k); r*(d+k)/(d*k)", "partial", "not-reached"),
        ("(d*r + r*k); r*(d+k)", "partial", "param-count-not-ratio"),
        ("(d*r + r*k)/(d*k); r*(d+", "invalid", "invalid"),
    ],
)
def test_derivation_names_first_wrong_step(answer: str, status: str, note: str) -> None:
    v = grade_local(DERIV, answer)
    assert (v.status, v.note) == (status, note)


def test_derivation_feedback_quotes_the_step() -> None:
    v = grade_local(DERIV, "(d*r + r*k)/(d*k); r*(d+k)/(d*k); r/(d+k)")
    assert "Step 3" in v.feedback and "r/(d + k)" in v.feedback
    assert "line 2" in grade_local(DERIV, "r; r*(d+").feedback


def test_broken_question_raises_question_error() -> None:
    with pytest.raises(QuestionError):
        grade_local(q(id="broken", answer="r*(d+"), "1")


@pytest.mark.parametrize(
    ("question", "answer", "valid", "shown"),
    [
        (RATIO, "r(d+k)/(dk)", True, "r·(d + k)/(d·k)"),
        (RATIO, "r*(d+", False, ""),
        (CHOICE, "B", True, "b"),
        (CHOICE, "q", False, ""),
        (DERIV, "a+b; b+a", True, "a + b; b + a"),
        (TEXT, "memory", True, "memory"),
    ],
)
def test_preview(question: Question, answer: str, valid: bool, shown: str) -> None:
    p = preview(question, answer)
    assert p.valid is valid and p.interpreted_as == shown
    assert (p.error is None) is valid


def test_preview_does_not_need_sympy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from graders.answers import preview; from graders.answers.schema import Question\n"
        "q = Question.model_validate({'id': 'x', 'level': 1, 'concepts': ['c'], 'kind': 'expression',"
        " 'prompt': {'en': 'p', 'zh-TW': 'p'}, 'symbols': {'r': []}, 'answer': 'r',"
        " 'cases': [{'answer': 'r', 'status': 'correct'}]})\n"
        "assert preview(q, 'r^2').valid\n"
        "assert 'sympy' not in sys.modules, 'sympy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("answer", ["16,777,216", "≈ 16777216", "~1.6777216e7", "2^24"])
def test_numeric_spellings(answer: str) -> None:
    big = q(id="big", kind="numeric", answer="4096*4096")
    assert grade_local(big, answer).status == "correct"
    assert preview(big, answer).valid


def test_factorial_identities_use_small_points() -> None:
    fact = q(id="fact", symbols={"n": ["positive", "integer"]}, answer="(n+1)!")
    assert grade_local(fact, "(n+1)*n!").status == "correct"
    assert grade_local(fact, "n*n!").status == "incorrect"
