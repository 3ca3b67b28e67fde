"""Units in numeric answers, values with a leading minus sign, and the grader fixes of issue 13,
all through `tutor check`."""

from __future__ import annotations

import json

import pytest

from tutor.cli import main


@pytest.fixture(autouse=True)
def _inprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_GRADER_INPROCESS", "1")


def check(capsys: pytest.CaptureFixture[str], *argv: str, lang: str = "en") -> dict:  # type: ignore[type-arg]
    code = main(["check", *argv, "--json", "--lang", lang])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("answer", ["2800", "2.8 TB", "2800 GB", "2800GB", "2.8e12 bytes",
                                    "2,800 GB", "2800 gb", "2.8e6 MB"])
def test_any_unit_of_the_same_kind_is_right(capsys: pytest.CaptureFixture[str],
                                            answer: str) -> None:
    v = check(capsys, "l1-full-ft-memory-175b", answer)
    assert v["status"] == "correct", v


def test_right_number_wrong_unit_gets_unit_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    v = check(capsys, "l1-full-ft-memory-175b", "2.8 GB")
    assert v["status"] == "incorrect" and v["note"] == "wrong-unit"
    assert "TB" in v["feedback"] and "check the unit" in v["feedback"]
    zh = check(capsys, "l1-full-ft-memory-175b", "2.8 GB", lang="zh-TW")
    assert "請檢查單位" in zh["feedback"]
    v = check(capsys, "l1-full-ft-memory-175b", "2.8 s")  # not a size at all
    assert v["status"] == "invalid" and "GB" in v["feedback"]


def test_the_interpretation_shows_the_conversion(capsys: pytest.CaptureFixture[str]) -> None:
    v = check(capsys, "l1-full-ft-memory-175b", "2.8e12 bytes")
    assert v["interpreted_as"] == "2.8e12 bytes = 2800 GB"


def test_gib_questions_tell_gb_from_gib(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, "l3-kv-cache-mha", "2 GiB")["status"] == "correct"
    assert check(capsys, "l3-kv-cache-mha", "2048 MiB")["status"] == "correct"
    assert check(capsys, "l3-kv-cache-mha", "2.147 GB")["status"] == "correct"
    v = check(capsys, "l3-kv-cache-mha", "2 GB")  # 2 GB = 1.86 GiB
    assert v["status"] == "incorrect" and v["note"] == "wrong-unit" and "GiB" in v["feedback"]


def test_unit_words_never_reach_pint_unless_whitelisted(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    from graders.answers.units import UNITS, split_unit

    assert split_unit("2.8 TB") == ("2.8", "TB")
    assert split_unit("2*pi") == ("2*pi", None)
    assert split_unit("3 __import__") == ("3 __import__", None)
    assert split_unit("4 h", reserved={"h"}) == ("4 h", None)  # a symbol of the question
    assert all(" " not in v and "(" not in v for v in UNITS.values())
    v = check(capsys, "l1-full-ft-memory-175b", "2800 meters")
    assert v["status"] == "invalid"


def test_a_unit_is_only_for_numeric_questions_and_must_be_known() -> None:
    from pydantic import ValidationError

    from graders.answers.schema import Question

    base = {"id": "u", "level": 1, "concepts": ["c"], "prompt": {"en": "p", "zh-TW": "p"},
            "answer": "1", "cases": [{"answer": "1", "status": "correct"}]}
    Question.model_validate({**base, "kind": "numeric", "unit": "GiB"})
    with pytest.raises(ValidationError, match="unknown unit"):
        Question.model_validate({**base, "kind": "numeric", "unit": "furlong"})
    with pytest.raises(ValidationError, match="only for numeric"):
        Question.model_validate({**base, "kind": "expression", "unit": "GB"})


def test_values_that_start_with_a_minus_sign(capsys: pytest.CaptureFixture[str]) -> None:
    v = check(capsys, "--expected", "-log(sigmoid(x))", "--answer", "log(1 + exp(-x))")
    assert v["status"] == "correct"
    v = check(capsys, "--expected", "-log(sigmoid(x))", "--answer", "-x")
    assert v["status"] == "incorrect" and v["interpreted_as"] == "-x"
    v = check(capsys, "--expected", "-x", "--answer", "-x")
    assert v["status"] == "correct"
    v = check(capsys, "l2-simpo-reward-numeric", "-1")  # a positional answer too
    assert v["status"] == "correct"


@pytest.mark.parametrize(("qid", "answer", "status"), [
    ("l2-memory-lora-7b", "14.1", "correct"),
    ("l2-memory-lora-7b", "14.07", "correct"),
    ("l2-memory-lora-7b", "14", "incorrect"),
    ("l3-zero1-7-5b", "31.4", "correct"),
    ("l3-zero1-7-5b", "31.1", "incorrect"),
    ("l3-zero1-7-5b", "31.7", "incorrect"),
    ("l3-zero1-savings-derivation", "16*Psi/(4*Psi + 12*Psi/N_d); 4/(1 + 3/N_d)", "correct"),
    ("l3-zero1-savings-derivation", "16*Psi/(4*Psi + 12*Psi/N_d); 16/(4 + 12/N_d)", "partial"),
])
def test_review_list_tolerances_and_forms(capsys: pytest.CaptureFixture[str], qid: str,
                                          answer: str, status: str) -> None:
    assert check(capsys, qid, answer)["status"] == status
