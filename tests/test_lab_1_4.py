"""Lab-1.4 (mixed precision, accumulation, checkpointing, memory): the solution's techniques do
what they promise; through the lab pipeline and the kit the solution scores every check, the
starter fails, and the cheats are caught (no accumulation, no checkpointing, no autocast, 16-bit
master weights, a made-up memory table)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "exercises" / "lab-1.4-training-optimisation"
COMMON = REPO / "exercises" / "_common"


def _module(path: Path, name: str) -> Any:
    import importlib.util
    import sys

    sys.path.insert(0, str(COMMON))
    sys.path.insert(0, str(LAB))  # optim_basics.py imports the shared optim_run.py
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def ob() -> Any:
    return _module(LAB / "solution" / "optim_basics.py", "_ob_solution")


@pytest.fixture(scope="module")
def run() -> Any:
    return _module(LAB / "optim_run.py", "_ob_run")


@pytest.fixture(scope="module")
def model_and_ids() -> tuple[Any, Any]:
    probe = _module(REPO / "graders" / "labs" / "probes" / "lab_1_4_optim.py", "_ob_probe")
    ids = torch.randint(0, 256, (4, 16), generator=torch.Generator().manual_seed(3))
    return probe.build_model(1), ids


def _grads(model: Any) -> dict[str, Any]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_accumulated_gradients_equal_the_whole_batch(ob: Any, run: Any,
                                                      model_and_ids: Any) -> None:
    model, ids = model_and_ids
    model.zero_grad(set_to_none=True)
    run.lm_loss(model, ids).backward()
    full = _grads(model)
    ob.accumulate_gradients(model, ids, 4)
    acc = _grads(model)
    assert max(float((full[n] - acc[n]).abs().max()) for n in full) < 1e-5


def test_each_checkpointed_segment_keeps_one_input(ob: Any, run: Any,
                                                   model_and_ids: Any) -> None:
    model, ids = model_and_ids
    saved = [run.saved_bytes(lambda s=s: ob.checkpointed_loss(model, ids, s)) for s in (1, 2, 4)]
    boundary = ids.numel() * 64 * 4  # b·s·h·4
    assert saved[1] - saved[0] == boundary and saved[2] - saved[1] == 2 * boundary
    assert saved[1] < run.saved_bytes(lambda: run.lm_loss(model, ids)) / 2


def test_starter_raises_at_the_todos() -> None:
    starter = _module(LAB / "starter" / "optim_basics.py", "_ob_starter")
    with pytest.raises(NotImplementedError):
        starter.accumulate_gradients(None, torch.zeros(4, 2, dtype=torch.long), 2)
    assert starter.segment_bounds(4, 2) == [(0, 2), (2, 4)]  # given, from the shared optim_run.py


# ---- through the lab pipeline and the kit

@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    work = tmp_path_factory.mktemp("lab14")
    return run_and_check(load_lab(LAB), LAB, work=work, solution=True), work


@pytest.mark.serial
def test_solution_scores_every_check(solved: Any) -> None:
    result, work = solved
    assert result.finished.ok, (work / "run.log").read_text(encoding="utf-8")[-2000:]
    failing = {r.id: r.text("en") for r in result.results if r.status != "pass"}
    assert failing == {}
    assert result.points[0] == result.points[1] == 26
    metrics = json.loads((work / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["param_dtypes_mixed"] == ["torch.float32"]
    assert abs(metrics["val_loss_mixed"] - metrics["val_loss_fp32"]) < 0.1


@pytest.mark.serial
def test_starter_fails(tmp_path: Path) -> None:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    result = run_and_check(load_lab(LAB), LAB, work=tmp_path, solution=False)
    got, total = result.points
    assert got <= 0.1 * total
    assert all(r.status == "fail" for r in result.results)


CHEATS = (
    # the whole batch in one backward pass: right gradients, no accumulation
    "def accumulate_gradients(model, ids, k):\n"
    "    model.zero_grad(set_to_none=True)\n"
    "    lm_loss(model, ids).backward()\n\n\n"
    # no checkpoint at all
    "def checkpointed_loss(model, ids, segments):\n"
    "    return lm_loss(model, ids)\n\n\n"
    # fp32 training reported as mixed precision
    "def train_mixed(model, batches, lr):\n"
    "    return train_fp32(model, batches, lr)\n"
)
"""Appended to the solution's optim_basics.py: one cheat per function."""

BF16_WEIGHTS = (
    "def train_mixed(model, batches, lr):\n"
    "    model.to(torch.bfloat16)  # 16-bit weights, no fp32 master copy\n"
    "    return train_fp32(model, batches, lr)\n"
)


def _grade(spec: Any, lab: Path, submission: Path, out: Path, tmp: Path) -> dict[str, Any]:
    """Probes on ``submission`` (as `tutor lab check` runs them), then every check on ``out``."""
    from graders.labs.checks import run_checks
    from graders.labs.probing import run_local_probes

    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp)}
    probes = run_local_probes(spec, lab, submission, tmp / "probes", env=env)
    return {r.id: r for r in run_checks(spec, out, submission, None, 0, lab_dir=lab,
                                        probes=probes)}


def _hostile(tmp: Path, cheat: str) -> Path:
    hostile = tmp / "hostile"
    shutil.copytree(LAB / "solution", hostile)
    source = (LAB / "solution" / "optim_basics.py").read_text(encoding="utf-8")
    (hostile / "optim_basics.py").write_text(source + "\n\n" + cheat, encoding="utf-8")
    return hostile


@pytest.mark.serial
def test_the_probe_catches_the_cheats(solved: Any, tmp_path: Path) -> None:
    from graders.labs.spec import load_lab

    _result, work = solved
    results = _grade(load_lab(LAB), LAB, _hostile(tmp_path, CHEATS), work / "out", tmp_path)
    for check_id, words in (("accumulation", "not accumulation"),
                            ("checkpointing", "segment input"),
                            ("mixed-precision", "bf16")):
        assert results[check_id].status == "fail", results[check_id]
        assert words in results[check_id].text("en")


@pytest.mark.serial
def test_16bit_weights_and_a_made_up_memory_table_are_caught(solved: Any, tmp_path: Path) -> None:
    from graders.labs.spec import load_lab

    _result, work = solved
    out = tmp_path / "out"
    shutil.copytree(work / "out", out)
    mem = json.loads((out / "memory.json").read_text(encoding="utf-8"))
    # the story one expects (checkpointing saves 10x), not what was measured
    mem["configs"]["checkpointing"]["activations"] = mem["configs"]["fp32"]["activations"] // 10
    (out / "memory.json").write_text(json.dumps(mem), encoding="utf-8")
    results = _grade(load_lab(LAB), LAB, _hostile(tmp_path, BF16_WEIGHTS), out, tmp_path)
    assert results["mixed-precision"].status == "fail"
    assert "float32" in results["mixed-precision"].text("en")
    assert results["memory-table"].status == "fail"
    assert "checkpointing.activations" in results["memory-table"].text("en")
    assert results["accumulation"].status == "pass"


def test_lab_yaml_params_agree_with_optim_run_and_the_probe() -> None:
    from graders.labs.spec import load_lab

    run = _module(LAB / "optim_run.py", "_ob_run_consts")
    probe = _module(REPO / "graders" / "labs" / "probes" / "lab_1_4_optim.py", "_ob_probe_consts")
    p = load_lab(LAB).params
    assert p["profiles"]["cpu"] == run.PROFILE == probe.CONFIG
    assert (p["batch"], p["seq_len"], p["accum_k"]) == (run.BATCH, run.SEQ_LEN, run.ACCUM_K)
    assert p["segments"] == round(run.PROFILE["num_hidden_layers"] ** 0.5)


def test_accumulation_row_measures_one_micro_batch(run: Any, model_and_ids: Any) -> None:
    # the learner's part of train.py: the starter measures the whole batch, the solution 1/k of it
    model, ids = model_and_ids
    ids = torch.cat([ids] * run.ACCUM_K)  # a batch that splits into ACCUM_K micro-batches
    solution = _module(LAB / "solution" / "train.py", "_ob_train_solution")
    starter = _module(LAB / "starter" / "train.py", "_ob_train_starter")
    micro = run.saved_bytes(lambda: run.lm_loss(model, ids[: len(ids) // run.ACCUM_K]))
    assert solution.accumulation_activation_bytes(model, ids) == micro
    assert starter.accumulation_activation_bytes(model, ids) > micro
