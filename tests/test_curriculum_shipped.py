"""The shipped course: valid, and its graph carries the whole seed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

SEED_CONCEPTS = {
    # every technique the seed names, as concept ids of the shipped course
    "lora", "adalora", "qlora", "adapter", "prefix-tuning", "p-tuning", "bitfit", "ia3",
    "data-parallelism", "model-parallelism", "pipeline-parallelism", "tensor-parallelism",
    "gradient-checkpointing", "zero-1", "zero-2", "zero-3", "cpu-offload", "mixed-precision",
    "gradient-accumulation", "flash-attention", "mqa-gqa", "sft", "reward-modeling", "ppo", "dpo",
    "orpo", "simpo", "all-reduce", "intrinsic-dimension", "self-alignment",
}


def test_graph_json_has_the_whole_seed() -> None:
    r = subprocess.run([sys.executable, "-m", "tutor", "graph", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    kinds = Counter(n["kind"] for n in data["nodes"])
    assert kinds["level"] == 5 and kinds["day"] == 20 and kinds["lab"] == 8
    ids = {n["id"] for n in data["nodes"]}
    assert {f"concept:{c}" for c in SEED_CONCEPTS} <= ids
    assert {f"lab:lab-1.{i}" for i in range(1, 9)} <= ids
    assert {"external:llm-fundamentals", "external:efficient-inference-serving"} <= ids
    edge_kinds = Counter(e["kind"] for e in data["links"])
    assert set(edge_kinds) == {"prerequisite", "contains", "scheduled_on", "enables"}


def test_shipped_course_validates_with_question_tests() -> None:
    r = subprocess.run([sys.executable, "-m", "tutor", "validate"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok: core-training-techniques: 5 levels, ")
    assert ", 20 days, 8 labs, " in r.stdout
