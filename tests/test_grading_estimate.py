"""The training-memory estimator: ZeRO paper numbers, DeepSpeed's estimators, CLI."""

from __future__ import annotations

import json

import pytest

from graders.estimate import (
    GB,
    EstimateError,
    ModelShape,
    Setup,
    advise,
    estimate,
    format_table,
    lora_params,
    optimizer_k,
)
from tutor.cli import main


@pytest.mark.parametrize(("zero", "expected_gb"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_figure(zero: int, expected_gb: float) -> None:
    """ZeRO paper, Figure 1: Ψ = 7.5B, N_d = 64, K = 12."""
    e = estimate(Setup(params=7.5e9, gpus=64, zero=zero))
    assert e.k == 12
    assert round(e.model_state_gpu_bytes / GB, 1) == expected_gb


def test_k_per_optimizer() -> None:
    assert optimizer_k("adamw", mixed=True) == 12
    assert optimizer_k("adam", mixed=False) == 8
    assert optimizer_k("sgd", mixed=True) == 8
    assert optimizer_k("adam8bit", mixed=True) == 6


def test_lora_count_is_r_d_plus_k() -> None:
    shape = ModelShape(layers=2, hidden=64, heads=4)
    assert lora_params(shape, 8, "qv") == 2 * 2 * 8 * (64 + 64)
    gqa = ModelShape(layers=1, hidden=64, heads=4, kv_heads=1)
    assert lora_params(gqa, 4, "attn") == 4 * ((64 + 64) * 2 + (64 + 16) * 2)


def test_methods_order_and_activation_options() -> None:
    full = estimate(Setup(params=7e9))
    lora = estimate(Setup(params=7e9, method="lora"))
    qlora = estimate(Setup(params=7e9, method="qlora"))
    assert full.model_state_gpu_bytes > lora.model_state_gpu_bytes > qlora.model_state_gpu_bytes
    assert 3.5 < qlora.model_state_gpu_bytes / GB < 4.0
    assert lora.trainable < 0.01 * lora.params
    plain = estimate(Setup(params=7e9, batch=4))
    ckpt = estimate(Setup(params=7e9, batch=4, gradient_checkpointing=True))
    flash = estimate(Setup(params=7e9, batch=4, flash_attention=True))

    def act(e: object) -> float:
        return next(t.bytes for t in e.terms if t.key == "activations")  # type: ignore[attr-defined]

    assert act(ckpt) < act(flash) < act(plain)
    assert all(t.formula for t in plain.terms)


def test_offload_moves_states_to_cpu() -> None:
    e = estimate(Setup(params=7e9, gpus=8, zero=3, offload="params"))
    assert e.model_state_gpu_bytes == 0
    assert e.cpu_bytes == pytest.approx(16 * 7e9)


@pytest.mark.parametrize("bad", [
    Setup(params=7e9, method="full", precision="nf4"),
    Setup(params=7e9, offload="params", zero=2),
    Setup(params=7e9, offload="optimizer"),
    Setup(params=-1.0),
    Setup(params=float("nan")),
    Setup(),
    Setup(params=7e9, gpus=0),
])
def test_impossible_setups_are_explained(bad: Setup) -> None:
    with pytest.raises(EstimateError):
        estimate(bad)


@pytest.mark.parametrize(("size", "concept"), [
    (1.3, "lora"), (13, "qlora"), (40, "zero-3"), (175, "pipeline-parallelism")])
def test_advisor_follows_the_decision_tree(size: float, concept: str) -> None:
    a = advise(size, gpus=8, gpu_mem_gb=80)
    assert concept in a.concepts
    assert a.reasons and all("en" in r and "zh-TW" in r for r in a.reasons)


def test_table_in_both_languages() -> None:
    e = estimate(Setup(params=7e9, method="lora"))
    assert "formula" in format_table(e, "en")
    assert "公式" in format_table(e, "zh-TW")


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["estimate", "--params", "7.5B", "--gpus", "64", "--zero", "3", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model_state_gpu_gb"] == pytest.approx(1.875)


def test_cli_table_and_advice(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["estimate", "--params", "7e9", "--method", "lora", "--gpus", "1",
               "--precision", "bf16", "--rank", "8", "--advise", "--gpu-mem", "24"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "total per GPU" in out and "Decision tree" in out


@pytest.mark.parametrize("argv", [
    ["estimate", "--params", "__import__('os')"],
    ["estimate", "--params", "-5"],
    ["estimate", "--params", "7e9", "--method", "full", "--precision", "nf4"],
    ["estimate", "--layers", "2"],
])
def test_cli_bad_input_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("psi", [1.3e9, 7e9, 7.5e9])
@pytest.mark.parametrize("gpus", [1, 8, 64])
@pytest.mark.parametrize("offload", [False, True])
def test_agrees_with_deepspeed_estimators(psi: float, gpus: int, offload: bool) -> None:
    """convention='deepspeed' reproduces DeepSpeed's own model-state estimators exactly."""
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    cpu2, gpu2 = estimate_zero2_model_states_mem_needs(
        int(psi), num_gpus_per_node=gpus, cpu_offload=offload)
    ours2 = estimate(Setup(params=psi, gpus=gpus, zero=2, convention="deepspeed",
                           offload="optimizer" if offload else "none"))
    assert ours2.model_state_gpu_bytes == pytest.approx(gpu2, rel=1e-9)
    assert ours2.cpu_bytes == pytest.approx(cpu2, rel=1e-9)

    shape = ModelShape(layers=32, hidden=4096, heads=32)
    big = shape.largest_layer_params()
    for off_params in ([False, True] if offload else [False]):
        cpu3, gpu3, _ = estimate_zero3_model_states_mem_needs(
            int(psi), big, num_gpus_per_node=gpus, cpu_offload=offload,
            cpu_offload_params=off_params)
        ours3 = estimate(Setup(params=psi, shape=shape, gpus=gpus, zero=3,
                               convention="deepspeed",
                               offload=("params" if off_params else "optimizer") if offload
                               else "none"))
        assert ours3.model_state_gpu_bytes == pytest.approx(gpu3, rel=1e-9)
        assert ours3.cpu_bytes == pytest.approx(cpu3, rel=1e-9)
