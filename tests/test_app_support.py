"""Fixtures for the app tests: a tiny complete course, a fake grader, a fake lab runner, a clock.

The app tests build on this small course (three concepts, one lab) rather than on the shipped one,
so that snapshots and the functional loop do not change whenever the course content does. One
test in test_app_flow.py also drives the shipped course.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXED_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The frozen clock of every app test."""


def fixed_clock() -> datetime:
    return FIXED_NOW


def _t(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-TW": zh}


def _q(qid: str, concept: str, level: int, answer: str, prompt: str, hints: int = 0,
       kind: str = "numeric") -> dict[str, Any]:
    return {
        "id": qid, "level": level, "concepts": [concept], "kind": kind,
        "prompt": _t(prompt, "（中）" + prompt), "answer": answer,
        "hints": [{"text": _t(f"Hint {i + 1}", f"提示 {i + 1}"), "cost": 0.1}
                  for i in range(hints)],
        "solution": _t(f"The answer is {answer}.", f"答案是 {answer}。"),
        "cases": [{"answer": answer, "status": "correct"}],
    }


def build_course(root: Path) -> Any:
    """Write the content pages and a lab README under ``root`` and return the Course."""
    from tutor.curriculum.models import Course

    for lang, word in (("en", "Lesson"), ("zh-TW", "課程")):
        d = root / "content" / lang
        d.mkdir(parents=True, exist_ok=True)
        for cid in ("basics", "lora", "zero"):
            (d / f"{cid}.md").write_text(f"# {word}: {cid}\n\n{word} text about **{cid}**.\n",
                                         encoding="utf-8")
    ex = root / "exercises" / "lab-x"
    ex.mkdir(parents=True, exist_ok=True)
    (ex / "README.md").write_text("# Lab X\n\nTrain a tiny LoRA.\n", encoding="utf-8")
    (ex / "README.zh-TW.md").write_text("# 實驗 X\n\n訓練一個小 LoRA。\n", encoding="utf-8")
    course_dir = root / "curriculum" / "mini"
    course_dir.mkdir(parents=True, exist_ok=True)
    bucket = {"criteria": [_t("evidence", "證據")]}
    data = {
        "meta": {
            "format_version": 1,
            "module": {
                "id": "mini", "title": _t("Mini course", "迷你課程"), "category": "test",
                "difficulty_levels": {"elementary": 2},
                "estimated_hours": {"reading": 1, "practice": 1, "mastery": 2},
                "tags": [], "version": "1", "last_updated": "2026-01-01",
            },
            "content_dir": "../../content", "exercises_dir": "../../exercises",
            "features": ["calculators"],
            "bkt": {"p_init": 0.3, "p_transit": 0.1, "p_slip": 0.1, "p_guess": 0.1,
                    "threshold": 0.9},
            "rubric": {"buckets": [
                {"id": "concepts", "title": _t("Concepts", "概念"), "weight": 40,
                 "source": "quiz", **bucket},
                {"id": "implementation", "title": _t("Implementation", "實作"), "weight": 30,
                 "source": "lab_checks", **bucket},
                {"id": "analysis", "title": _t("Analysis", "分析"), "weight": 20,
                 "source": "analysis_questions", **bucket},
                {"id": "innovation", "title": _t("Innovation", "創新"), "weight": 10,
                 "source": "design_challenge", **bucket},
            ]},
            "decision_tree": [
                {"min_params_b": 0, "max_params_b": 7, "recommendation": _t("LoRA", "LoRA"),
                 "concepts": ["lora"], "rationale": _t("Fits one GPU.", "單張 GPU 即可。")},
                {"min_params_b": 7, "recommendation": _t("ZeRO-3", "ZeRO-3"),
                 "concepts": ["zero"], "rationale": _t("Shard everything.", "全部分片。")},
            ],
            "resources": [{"id": "lora-paper", "kind": "paper", "title": "LoRA",
                           "note": _t("The original.", "原始論文。"), "authors": "Hu et al. 2021",
                           "concepts": ["lora"]}],
        },
        "levels": [
            {"id": "intuitive", "number": 1, "title": _t("Intuitive", "直覺"),
             "goal": _t("See why", "理解原因"), "page": "basics"},
            {"id": "conceptual", "number": 2, "title": _t("Conceptual", "概念"),
             "goal": _t("See how", "理解做法"), "page": "lora"},
        ],
        "concepts": {
            "basics": {"id": "basics", "title": _t("Training basics", "訓練基礎"), "level": 1,
                       "topic": "foundations", "summary": _t("Why it is hard.", "為何困難。"),
                       "page": "basics"},
            "lora": {"id": "lora", "title": _t("LoRA", "LoRA"), "level": 2, "topic": "peft",
                     "summary": _t("Low-rank adapters.", "低秩轉接器。"), "page": "lora",
                     "requires": ["basics"]},
            "zero": {"id": "zero", "title": _t("ZeRO", "ZeRO"), "level": 2,
                     "topic": "distributed", "summary": _t("Sharded states.", "狀態分片。"),
                     "page": "zero", "requires": ["basics"]},
        },
        "phases": [{"id": "p1", "first_day": 1, "last_day": 2, "title": _t("Start", "開始"),
                    "goal": _t("Begin", "起步"), "level": 1}],
        "days": [
            {"day": 1, "phase": "p1", "title": _t("Basics", "基礎"), "theory_hours": 2,
             "practice_hours": 1, "concepts": ["basics"],
             "activities": [_t("Read the basics", "閱讀基礎")]},
            {"day": 2, "phase": "p1", "title": _t("LoRA and ZeRO", "LoRA 與 ZeRO"),
             "theory_hours": 2, "practice_hours": 2, "concepts": ["lora", "zero"],
             "labs": ["lab-1.1"]},
        ],
        "labs": {
            "lab-1.1": {"id": "lab-1.1", "title": _t("LoRA lab", "LoRA 實驗"),
                        "summary": _t("Train a tiny LoRA.", "訓練小型 LoRA。"),
                        "concepts": ["lora"], "exercise": "lab-x"},
            "lab-1.2": {"id": "lab-1.2", "title": _t("ZeRO lab", "ZeRO 實驗"),
                        "summary": _t("Shard it.", "分片。"), "concepts": ["zero"]},
        },
        "pitfalls": [{"id": "pitfall-basics", "title": _t("It's only compute", "只是算力問題"),
                      "problem": _t("Memory matters too.", "記憶體也重要。"),
                      "remedy": _t("Count bytes.", "計算位元組。"), "concepts": ["basics"]}],
        "questions": {q["id"]: q for q in (
            _q("q-basics-1", "basics", 1, "16", "Bytes per parameter for mixed-precision Adam?",
               hints=2),
            _q("q-basics-2", "basics", 1, "2", "Bytes per fp16 weight?"),
            _q("q-basics-3", "basics", 1, "4", "Bytes per fp32 weight?"),
            _q("q-lora-1", "lora", 2, "8", "LoRA parameters of a 2x2 matrix at r=2?"),
            _q("q-zero-1", "zero", 2, "3", "Which ZeRO stage shards the weights?"),
        )},
        "root": str(course_dir),
    }
    return Course.model_validate(data)


@dataclass
class FakeVerdict:
    status: str
    score: float
    feedback: str = ""
    interpreted_as: str = ""
    note: str = ""
    warnings: list[str] = field(default_factory=list)
    elapsed_ms: int = 1
    pitfall: str | None = None


@dataclass
class FakePreview:
    valid: bool
    interpreted_as: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


class FakeGrader:
    """Exact string match on ``question.answer``; ``(((`` is invalid input."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def preview(self, question: Any, answer: str, *, seed: int | None = None,
                lang: str = "en") -> FakePreview:
        if "(((" in answer:
            return FakePreview(False, error="unclosed '(' at column 1")
        return FakePreview(True, answer.strip())

    def grade(self, question: Any, answer: str, *, seed: int | None = None, lang: str = "en",
              hints_used: int = 0, timeout: float = 2.0) -> FakeVerdict:
        self.calls.append((question.id, answer))
        if "(((" in answer:
            return FakeVerdict("invalid", 0.0, "cannot read it", note="invalid")
        if answer.strip() == str(question.answer):
            score = max(0.0, 1.0 - 0.1 * hints_used)
            return FakeVerdict("correct", score, "Right." if lang == "en" else "正確。",
                               answer.strip(), "correct")
        return FakeVerdict("incorrect", 0.0, "Not quite." if lang == "en" else "不太對。",
                           answer.strip(), "wrong")

    def render_prompt(self, question: Any, seed: int | None, lang: str) -> str:
        return question.prompt.get(lang)


class FakeLabRunner:
    """A lab that 'trains' for ``steps`` steps instantly and passes two checks."""

    def __init__(self, steps: int = 20, fail: bool = False) -> None:
        self.steps = steps
        self.fail = fail
        self.started: list[str] = []

    def start(self, lab_id: str) -> Path:
        self.started.append(lab_id)
        return Path("/tmp/workspace") / lab_id

    def run(self, lab_id: str, solution: bool = True) -> Iterator[Any]:
        from tutor.app.services import CheckView, LabEvent

        yield LabEvent("log", text=f"running {lab_id}")
        for i in range(1, self.steps + 1):
            yield LabEvent("progress", step=i, total=self.steps, loss=2.0 / i)
            if self.fail and i == self.steps // 2:
                yield LabEvent("error", text="CUDA out of memory (simulated)")
                return
        yield LabEvent("log", text="saved adapter")
        yield LabEvent("done", checks=[
            CheckView("trainable-params", "implementation", 10, 10, "pass",
                      "r(d+k) matches"),
            CheckView("heldout-loss", "implementation", 5, 10, "fail", "loss improved 2 %"),
        ])


class FakeEstimator:
    """Stands in for graders/estimate.py in snapshots (its wording may change independently)."""

    @dataclass(frozen=True)
    class Setup:
        params: float
        method: str = "full"
        gpus: int = 1
        precision: str = "bf16"
        rank: int = 8
        zero: int = 0
        offload: str = "none"

    @dataclass
    class Term:
        key: str
        label: dict[str, str]
        formula: str
        bytes: float
        device: str = "gpu"

    @dataclass
    class Estimate:
        terms: list[Any]

        @property
        def gpu_bytes(self) -> float:
            return sum(t.bytes for t in self.terms if t.device == "gpu")

    def estimate(self, s: Any) -> Any:
        per = {"full": 16.0, "lora": 2.2, "qlora": 0.7}[s.method]
        shard = s.gpus if s.zero == 3 else 1
        return self.Estimate([
            self.Term("weights", {"en": "model states", "zh-TW": "模型狀態"},
                      f"{per:g}·Ψ/{shard}", per * s.params / shard),
            self.Term("activations", {"en": "activations", "zh-TW": "激活值"}, "1e9", 1e9),
        ])

    def advise(self, params_b: float, gpus: int, gpu_mem_gb: float) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(
            recommendation={"en": "QLoRA", "zh-TW": "QLoRA"},
            reasons=[{"en": f"{params_b:g}B on {gpus}×{gpu_mem_gb:g} GB",
                      "zh-TW": f"{params_b:g}B，{gpus}×{gpu_mem_gb:g} GB"}],
            estimates={"qlora": 8.5})


def make_test_app(tmp_path: Path, lang: str = "en", *, runner: Any = None,
                  grader: Any = None, store: Any = None, estimator: Any = None) -> Any:
    """The app on the mini course with fakes, a fixed clock, an in-memory store, frozen."""
    from tutor.app import make_app
    from tutor.store import Store

    return make_app(
        course=build_course(tmp_path), store=store or Store(":memory:"), lang=lang,
        clock=fixed_clock, grader=grader or FakeGrader(), lab_runner=runner or FakeLabRunner(),
        estimator=estimator, frozen=True,
    )


def test_mini_course_is_consistent(tmp_path: Path) -> None:
    from tutor.engine import Engine
    from tutor.store import Store

    course = build_course(tmp_path)
    engine = Engine(course, Store(":memory:"))
    assert set(engine.ready_concepts("x")) == {"basics"}
    assert engine.lab_status("x")["lab-1.1"][0] is False
