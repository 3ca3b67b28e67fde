"""Lab-1.3 (DeepSpeed ZeRO-1/2/3 and ZeRO-Offload): the solution passes every check, the starter
fails, fake per-rank memory artifacts and bad configs are caught by the recomputation, and the
project's estimator agrees with DeepSpeed's own estimators.

The runs go through the lab pipeline (tutor.labs.session.run_and_check, what `tutor lab run/check`
and `tutor dev check` call); doctored artifacts through the kit's run_checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from graders.labs.checks import CheckResult, run_checks
from graders.labs.spec import load_lab
from tutor.labs.session import LabResult, run_and_check

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.3-zero"
PSI = 115_008
"""Parameters of the lab's tiny Llama (vocab 256, hidden 64, 2 layers, MLP 128, untied)."""


def _by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


def _en(result: CheckResult) -> str:
    return str(getattr(result.message, "en", result.message))


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> LabResult:
    """The reference solution, run and checked once for the module (~45 s on 2 idle cores)."""
    work = tmp_path_factory.mktemp("lab13-solution")
    return run_and_check(load_lab(LAB), LAB, work=work, solution=True)


@pytest.mark.serial
def test_solution_passes_every_check(solution: LabResult) -> None:
    assert solution.finished.ok, solution.finished
    results = _by_id(solution.results)
    assert set(results) == {c.id for c in load_lab(LAB).checks}
    for r in solution.results:
        assert r.status == "pass", (r.id, _en(r), r.details)
    sizes = results["partition-sizes"].details
    assert sizes["psi"] == PSI
    assert sizes["zero3"] == {"params": PSI // 2, "grads": PSI // 2, "optimizer": 3 * PSI // 2}
    assert sizes["zero1"]["grads"] == PSI and sizes["zero2"]["grads"] == PSI // 2


@pytest.mark.serial
def test_starter_fails(tmp_path: Path) -> None:
    res = run_and_check(load_lab(LAB), LAB, work=tmp_path, solution=False)
    assert not res.finished.ok
    got, total = res.points
    assert got == 0 and total > 0
    assert all(r.status == "fail" for r in res.results), [(r.id, r.status) for r in res.results]


def _edit_json(path: Path, edit: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.serial
def test_fake_memory_artifacts_and_bad_configs_are_caught(solution: LabResult,
                                                          tmp_path: Path) -> None:
    """One doctored copy of the solution's outputs, each check failing for its own reason."""
    import torch
    from safetensors.torch import load_file, save_file

    out = tmp_path / "out"
    shutil.copytree(solution.run_dir.parent / "out", out)
    # a fake per-rank artifact: ZeRO-2's states.json claims what ZeRO-1 holds (full gradients)
    _edit_json(out / "zero2" / "rank0" / "states.json", lambda d: d.update(grads=PSI))
    # a partition written from the formula's size, not taken from the engine
    save_file({"fp32": torch.zeros(PSI // 2)}, str(out / "zero1" / "rank1" / "partition.safetensors"))
    # ZeRO-3's gathered weights that are not the training's
    w = load_file(str(out / "zero3" / "model.safetensors"))
    w["lm_head.weight"] = w["lm_head.weight"] + 0.05
    save_file(w, str(out / "zero3" / "model.safetensors"))
    # DeepSpeed's estimate copied wrong
    _edit_json(out / "estimates.json", lambda d: d["zero3"].update(gpu_bytes=1))
    # a submission whose stage-2 config says 32 = 4 x 2 x 2
    sub = tmp_path / "sub"
    shutil.copytree(LAB / "solution", sub)
    _edit_json(sub / "ds_zero2.json", lambda d: d.update(train_batch_size=32))

    results = _by_id(run_checks(load_lab(LAB), out, sub, None, 0, lab_dir=LAB))
    assert results["partition-sizes"].status == "fail"
    assert "zero2/rank0: grads holds 115008" in _en(results["partition-sizes"])
    assert results["partition-content"].status == "fail"
    assert "zero1/rank1" in _en(results["partition-content"])
    assert results["zero3-equals-zero0"].status == "fail"
    assert results["estimator-agrees"].status == "fail"
    assert "zero3.gpu_bytes = 1" in _en(results["estimator-agrees"])
    assert results["configs"].status == "fail"
    assert "train_batch_size 32" in _en(results["configs"])
    assert results["stages-train"].status == "pass"  # what was not touched still passes


@pytest.mark.serial
def test_untrained_weights_fail_stages_train(solution: LabResult, tmp_path: Path) -> None:
    """The seeded initial weights saved as a run's result: the held-out loss does not fall."""
    import importlib.util

    from safetensors.torch import save_file

    spec_py = importlib.util.spec_from_file_location(
        "lab13_labcommon", ROOT / "exercises" / "_common" / "labcommon.py")
    assert spec_py is not None and spec_py.loader is not None
    lc = importlib.util.module_from_spec(spec_py)
    spec_py.loader.exec_module(lc)

    out = tmp_path / "out"
    shutil.copytree(solution.run_dir.parent / "out", out)
    spec = load_lab(LAB)
    model = lc.build_model(spec.params["profiles"]["cpu"], 0)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(out / "zero2_offload" / "model.safetensors"))
    results = _by_id(run_checks(spec, out, LAB / "solution", None, 0, lab_dir=LAB))
    assert results["stages-train"].status == "fail"
    assert "zero2_offload: held-out loss" in _en(results["stages-train"])


@pytest.mark.parametrize("psi", [115_008, 7_000_000_001, 13e9])
@pytest.mark.parametrize("gpus", [1, 2, 8, 64])
def test_project_estimator_agrees_with_deepspeeds(psi: float, gpus: int) -> None:
    """graders.estimate (convention deepspeed) = DeepSpeed's own estimators, byte for byte."""
    import os

    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    from graders.estimate import ModelShape, Setup, estimate

    shape = ModelShape(layers=2, hidden=64, heads=4, vocab=256, ffn=128)
    largest = shape.largest_layer_params()
    n = int(psi)
    for zero, offload in ((2, "none"), (2, "optimizer"), (3, "none")):
        e = estimate(Setup(params=n, shape=shape, gpus=gpus, nodes=1, zero=zero, offload=offload,  # type: ignore[arg-type]
                           convention="deepspeed"))
        if zero == 2:
            cpu, gpu = estimate_zero2_model_states_mem_needs(
                n, num_gpus_per_node=gpus, cpu_offload=offload != "none")
        else:
            cpu, gpu, _ = estimate_zero3_model_states_mem_needs(
                n, largest, num_gpus_per_node=gpus, cpu_offload=False)
        assert e.model_state_gpu_bytes == pytest.approx(gpu, rel=1e-9, abs=1)
        assert e.cpu_bytes == pytest.approx(cpu, rel=1e-9, abs=1)


def test_checker_imports_nothing_heavy() -> None:
    """The grader imports the checker without the ML stack (deepspeed only inside a check)."""
    import subprocess
    import sys

    code = ("import sys, graders.labs.lab_1_3; "
            "heavy = {'torch', 'transformers', 'deepspeed', 'textual'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.serial
def test_a_crashing_rank_fails_cleanly(tmp_path: Path) -> None:
    """Rank 1 dies after the rendezvous: rank 0 (waiting in a collective) is stopped by the
    launcher, the run fails without a timeout, the checks fail (not error), nothing is left."""
    import os

    sub = tmp_path / "crash"
    shutil.copytree(LAB / "solution", sub)
    train = sub / "train.py"
    # held_after_backward (the learner's part) runs after the rendezvous and deepspeed.initialize
    anchor = "    model, opt = engine.module, engine.optimizer\n"
    text = train.read_text(encoding="utf-8")
    assert anchor in text
    train.write_text(text.replace(anchor, "    import torch.distributed\n"
                                  "    if torch.distributed.get_rank() == 1:\n"
                                  "        raise RuntimeError('rank 1 crashed')\n" + anchor),
                     encoding="utf-8")
    work = tmp_path / "work"
    res = run_and_check(load_lab(LAB), LAB, work=work, source=sub)
    assert res.finished.returncode != 0 and not res.finished.done
    assert not res.finished.timed_out
    assert res.results and all(r.status == "fail" for r in res.results), [
        (r.id, r.status) for r in res.results]
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(work) in cmd:
            left.append(pid)
    assert left == []


@pytest.mark.serial
@pytest.mark.slow
def test_solution_scores_100_through_the_sandboxed_grader(tmp_path: Path) -> None:
    """`tutor grade`'s pipeline (sandbox, ranks, analysis answers, design
    challenge): the reference solution gets every point."""
    from grading_helpers import grade_copy

    report = grade_copy(LAB / "solution", "lab-1.3", tmp_path)
    assert report.status == "graded", report.messages
    assert [(c.id, c.message) for c in report.checks if c.status != "pass"] == []
    assert report.total == 100
