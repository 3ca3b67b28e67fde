"""The training-memory estimator: ZeRO paper numbers, DeepSpeed's estimators, CLI."""

from __future__ import annotations

import json

import pytest

from graders.estimate import (
    GB,
    LLAMA2_7B,
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
@pytest.mark.parametrize(("gpus", "nodes"), [(1, 1), (8, 1), (64, 1), (16, 2), (64, 8)])
@pytest.mark.parametrize("offload", [False, True])
def test_agrees_with_deepspeed_estimators(psi: float, gpus: int, nodes: int,
                                          offload: bool) -> None:
    """convention='deepspeed' reproduces DeepSpeed's own model-state estimators exactly,
    host memory per node included (num_gpus_per_node = N / nodes)."""
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    per_node = gpus // nodes
    cpu2, gpu2 = estimate_zero2_model_states_mem_needs(
        int(psi), num_gpus_per_node=per_node, num_nodes=nodes, cpu_offload=offload)
    ours2 = estimate(Setup(params=psi, gpus=gpus, nodes=nodes, zero=2, convention="deepspeed",
                           offload="optimizer" if offload else "none"))
    assert ours2.model_state_gpu_bytes == pytest.approx(gpu2, rel=1e-9)
    assert ours2.cpu_bytes == pytest.approx(cpu2, rel=1e-9)

    shape = ModelShape(layers=32, hidden=4096, heads=32)
    big = shape.largest_layer_params()
    for off_params in ([False, True] if offload else [False]):
        cpu3, gpu3, _ = estimate_zero3_model_states_mem_needs(
            int(psi), big, num_gpus_per_node=per_node, num_nodes=nodes, cpu_offload=offload,
            cpu_offload_params=off_params)
        ours3 = estimate(Setup(params=psi, shape=shape, gpus=gpus, nodes=nodes, zero=3,
                               convention="deepspeed",
                               offload=("params" if off_params else "optimizer") if offload
                               else "none"))
        assert ours3.model_state_gpu_bytes == pytest.approx(gpu3, rel=1e-9)
        assert ours3.cpu_bytes == pytest.approx(cpu3, rel=1e-9)


def test_deepspeed_host_memory_is_per_node() -> None:
    """The staging buffer scales with the GPUs of one node (DeepSpeed's num_gpus_per_node),
    not with all N GPUs: 64 GPUs on 8 nodes need 8× less host memory per node than on one."""
    one = estimate(Setup(params=7e9, gpus=64, nodes=1, zero=2, convention="deepspeed"))
    eight = estimate(Setup(params=7e9, gpus=64, nodes=8, zero=2, convention="deepspeed"))
    assert one.cpu_bytes == pytest.approx(4 * 7e9 * 64 * 1.5)
    assert eight.cpu_bytes == pytest.approx(4 * 7e9 * 8 * 1.5)
    off3 = estimate(Setup(params=7e9, gpus=64, nodes=8, zero=3, convention="deepspeed",
                          offload="optimizer"))
    assert off3.cpu_bytes == pytest.approx(16 * 7e9 * 1.5 / 8)


def test_table_labels_host_memory_per_node() -> None:
    e = estimate(Setup(params=7e9, gpus=16, zero=2, offload="optimizer"))
    assert "host (CPU) memory per node" in format_table(e, "en")
    assert "每節點主機（CPU）記憶體" in format_table(e, "zh-TW")


def test_nodes_default_to_eight_gpu_servers() -> None:
    """Without nodes, N GPUs are taken as ceil(N / 8) servers, and a note says so."""
    default = estimate(Setup(params=7e9, gpus=64, zero=2, convention="deepspeed"))
    assert default.cpu_bytes == pytest.approx(4 * 7e9 * 8 * 1.5)
    assert any("8 GPUs per node" in n["en"] and "8 張 GPU" in n["zh-TW"] for n in default.notes)
    small = estimate(Setup(params=7e9, gpus=4, zero=2, convention="deepspeed"))
    assert small.cpu_bytes == pytest.approx(4 * 7e9 * 4 * 1.5)


def test_paper_offload_host_memory_is_split_over_nodes() -> None:
    """ZeRO-Offload (paper convention): gradients and optimizer states of a node's shards live
    in that node's host memory; the GPU keeps the 2Ψ weights."""
    e = estimate(Setup(params=7e9, gpus=16, nodes=2, zero=2, offload="optimizer"))
    assert e.cpu_bytes == pytest.approx((2 + 12) * 7e9 / 2)
    assert e.model_state_gpu_bytes == pytest.approx(2 * 7e9)


@pytest.mark.parametrize("nodes", [0, 3, -1])
def test_nodes_must_divide_the_gpus(nodes: int) -> None:
    with pytest.raises(EstimateError, match="nodes"):
        estimate(Setup(params=7e9, gpus=8, nodes=nodes, zero=2))


def test_llama_shape_counts_the_gated_mlp_and_untied_head() -> None:
    """Llama-2-7B (arXiv:2307.09288): 6.74e9 parameters; the GPT-style count gave 5.16e9."""
    assert round(LLAMA2_7B.params() / 1e9, 2) == 6.74
    gpt_style = ModelShape(layers=32, hidden=4096, heads=32, vocab=32000, ffn=11008)
    assert round(gpt_style.params() / 1e9, 2) == 5.16
    untied_only = ModelShape(layers=32, hidden=4096, heads=32, vocab=32000, ffn=11008,
                             tied_embeddings=False)
    assert untied_only.params() - gpt_style.params() == 32000 * 4096
    e = estimate(Setup(shape=LLAMA2_7B))
    assert e.params == LLAMA2_7B.params()


def test_lora_all_targets_adapt_the_gate_of_a_gated_mlp() -> None:
    plain = ModelShape(layers=1, hidden=64, heads=4, ffn=128)
    gated = ModelShape(layers=1, hidden=64, heads=4, ffn=128, gated_mlp=True)
    assert lora_params(gated, 4, "all") - lora_params(plain, 4, "all") == 4 * (64 + 128)
    assert lora_params(gated, 4, "attn") == lora_params(plain, 4, "attn")


def test_advice_wording_follows_errata_4_and_5() -> None:
    """7B–30B: QLoRA on one GPU, DDP only for throughput; ≥ 70B: 3D parallelism."""
    mid = advise(13, gpus=8, gpu_mem_gb=80).recommendation
    assert "one GPU" in mid["en"] and "throughput" in mid["en"]
    assert "單張 GPU" in mid["zh-TW"] and "吞吐量" in mid["zh-TW"]
    big = advise(175, gpus=64, gpu_mem_gb=80)
    for word in ("tensor", "pipeline", "data parallelism", "Megatron-LM"):
        assert word in big.recommendation["en"]
    assert "3D" in big.recommendation["zh-TW"]
    assert "data-parallelism" in big.concepts


def test_cli_llama_shape_and_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    """`tutor estimate` reaches the Llama shape (gated MLP, untied head) and per-node host RAM."""
    import json as _json

    from tutor.cli import main

    assert main(["estimate", "--layers", "32", "--hidden", "4096", "--heads", "32", "--vocab",
                 "32000", "--ffn", "11008", "--gated-mlp", "--untied-head", "--json"]) == 0
    assert _json.loads(capsys.readouterr().out)["params"] == 6738149376  # Llama-2-7B
    host = []
    for nodes in ("1", "2"):
        assert main(["estimate", "--params", "13e9", "--gpus", "16", "--nodes", nodes, "--zero",
                     "3", "--offload", "optimizer", "--convention", "deepspeed", "--json"]) == 0
        host.append(_json.loads(capsys.readouterr().out))
    assert host[0] != host[1]
