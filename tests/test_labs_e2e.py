"""End to end: the Lab-1.1 solution trains, writes its artifacts and passes every check; the
starter fails. Slow (trains two tiny models): marked serial + slow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.labs.spec import load_lab
from tutor.labs.devcheck import run_and_check
from tutor.labs.runner import Finished, Progress

REPO = Path(__file__).resolve().parent.parent
LAB11 = REPO / "exercises" / "lab-1.1-peft-lora"


@pytest.mark.serial
@pytest.mark.slow
def test_lab_1_1_solution_passes_every_check(tmp_path: Path) -> None:
    pytest.importorskip("peft")
    pytest.importorskip("bitsandbytes")
    spec = load_lab(LAB11)
    events: list[object] = []
    results, elapsed, run = run_and_check(spec, LAB11, solution=True, work=tmp_path,
                                          on_event=events.append)
    final = events[-1]
    assert isinstance(final, Finished) and final.ok, final
    steps = [e for e in events if isinstance(e, Progress)]
    assert steps and steps[-1].step == steps[-1].total
    failing = {r.id: r.text("en") for r in results if r.status != "pass"}
    assert failing == {}
    assert sum(r.points for r in results) == sum(c.points for c in spec.checks)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["lora"]["trainable_params"] == 17408
    by_id = {r.id: r for r in results}
    assert by_id["heldout-improves"].details["gain"] >= spec.params["heldout_margin"]
    assert 7.0 < by_id["qlora-memory"].details["ratio"] < 7.2


@pytest.mark.serial
@pytest.mark.slow
def test_lab_1_1_starter_fails(tmp_path: Path) -> None:
    spec = load_lab(LAB11)
    results, _, run = run_and_check(spec, LAB11, solution=False, work=tmp_path)
    assert run.result is not None and not run.result.ok
    assert "NotImplementedError" in run.result.log_path.read_text(encoding="utf-8")
    assert all(r.status == "fail" for r in results)


@pytest.mark.serial
@pytest.mark.slow
def test_lab_1_1_partial_credit(tmp_path: Path) -> None:
    """train.py finished, lora_layer.py still the starter: the peft parts earn their points, the
    hand-written-layer check (and the complete-artifacts check) do not."""
    pytest.importorskip("peft")
    spec = load_lab(LAB11)
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "train.py").write_bytes((LAB11 / "solution" / "train.py").read_bytes())
    (sub / "lora_layer.py").write_bytes((LAB11 / "starter" / "lora_layer.py").read_bytes())
    results, _, run = run_and_check(spec, LAB11, solution=False, work=tmp_path / "w", source=sub)
    assert run.result is not None and run.result.returncode != 0
    failing = sorted(r.id for r in results if r.status != "pass")
    assert failing == ["artifacts", "hand-lora-matches-peft"]
