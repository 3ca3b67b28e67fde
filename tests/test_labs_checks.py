"""Lab-1.1 checks on hand-made artifacts: pass cases and the ways a submission can be wrong.

The checks run in-process through the kit's public API (``graders.labs.kit.evaluate``, what the
grader's child process runs per check); the hand-written layer is graded from the probe's outputs
(written here as the probe would, from ``draw(probe seed)``). One test goes through ``run_checks``
and its child process.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from graders.labs.checks import CheckResult, run_checks, summarise
from graders.labs.kit import Context, labcommon, tiny_model, validation_ids
from graders.labs.kit import evaluate as kit_evaluate
from graders.labs.probes.lab_1_1_lora import draw
from graders.labs.spec import LabSpec, load_lab

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
torch.set_num_threads(1)  # tiny tensors: more threads only contend on the shared 2-core machine

REPO = Path(__file__).resolve().parent.parent
LAB11 = REPO / "exercises" / "lab-1.1-peft-lora"
DATA = REPO / "content" / "data" / "lab-1.1"
HELDOUT = REPO / "graders" / "labs" / "data" / "lab-1.1" / "heldout.txt"
SEED = 3
PROBE_SEED = 12345


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab(LAB11)


def _ctx(spec: LabSpec, out: Path, **params: Any) -> Context:
    s = spec.model_copy(update={"params": {**spec.params, **params}})
    return Context(spec=s, out_dir=out, submission_dir=out, seed=SEED, lab_dir=LAB11,
                   data_dir=DATA, heldout=HELDOUT, probe_seed=PROBE_SEED,
                   probes_dir=out.parent / (out.name + "-probes"))


@pytest.fixture(scope="module")
def base_sd(spec: LabSpec, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tiny_model(_ctx(spec, tmp_path_factory.mktemp("base")), "cpu")
    return {k: v.detach().clone() for k, v in base.state_dict().items()}


def _targets(spec: LabSpec, sd: dict[str, Any]) -> dict[str, tuple[int, int]]:
    out = {}
    for key, w in sd.items():
        name = key.removesuffix(".weight")
        if key.endswith(".weight") and name.split(".")[-1] in spec.params["target_modules"]:
            out[name] = (int(w.shape[0]), int(w.shape[1]))
    return out


def nf4_layers(sd: dict[str, Any]) -> dict[str, dict[str, int]]:
    """NF4 bytes of every quantized linear (all but lm_head), block size 64, no double quant."""
    out = {}
    for key, w in sd.items():
        if key.endswith("_proj.weight"):
            n = int(w.numel())
            out[key.removesuffix(".weight")] = {"fp32_bytes": 4 * n,
                                                "nf4_bytes": n // 2 + -(-n // 64) * 4}
    return out


def write_probe(out: Path, *, without_update: bool = False, random_b_init: bool = False,
                count: Any = None, error: str | None = None) -> None:
    """The hand-lora probe's outputs, as the probe writes them for the solution's layer."""
    pdir = out.parent / (out.name + "-probes") / "hand-lora"
    pdir.mkdir(parents=True, exist_ok=True)
    if error is not None:
        (pdir / "result.json").write_text(json.dumps({"error": error}))
        return
    inp = draw(PROBE_SEED)
    d, k, r, alpha = inp["d"], inp["k"], inp["r"], inp["alpha"]
    y = inp["x"] @ inp["w0"].T
    if not without_update:
        y = y + (alpha / r) * (inp["x"] @ inp["A"].T) @ inp["B"].T
    init_b = torch.randn(d, r) if random_b_init else torch.zeros(d, r)
    safetensors_torch.save_file({
        "y": y, "merged": inp["w0"] + (alpha / r) * inp["B"] @ inp["A"],
        "init_A": torch.randn(r, k), "init_B": init_b}, str(pdir / "outputs.safetensors"))
    (pdir / "result.json").write_text(json.dumps(
        {"param_count": r * (d + k) if count is None else count}))


def write_artifacts(out: Path, spec: LabSpec, sd: dict[str, Any], *, trained: bool = True,
                    merge_scale: float | None = None, memory_delta: int = 0,
                    claim: dict[str, Any] | None = None, rank: int | None = None,
                    profile: str = "cpu") -> None:
    """A complete, internally consistent set of Lab-1.1 artifacts built without peft."""
    p = spec.params
    r = rank or int(p["r"])
    scaling = float(p["alpha"]) / int(p["r"])
    gen = torch.Generator().manual_seed(0)
    shapes = _targets(spec, sd)
    adapter: dict[str, Any] = {}
    merged = dict(sd)
    for name, (d, k) in shapes.items():
        a = torch.randn(r, k, generator=gen) * 0.1
        b = torch.randn(d, r, generator=gen) * 0.1 if trained else torch.zeros(d, r)
        adapter[f"base_model.model.{name}.lora_A.weight"] = a
        adapter[f"base_model.model.{name}.lora_B.weight"] = b
        merged[f"{name}.weight"] = sd[f"{name}.weight"] + (merge_scale or scaling) * (b @ a)
    for sub in ("adapter", "qlora/adapter"):
        (out / sub).mkdir(parents=True, exist_ok=True)
        safetensors_torch.save_file(adapter, str(out / sub / "adapter_model.safetensors"))
        (out / sub / "adapter_config.json").write_text(json.dumps(
            {"r": r, "lora_alpha": p["alpha"], "target_modules": p["target_modules"]}))
    safetensors_torch.save_file({k: v.contiguous() for k, v in merged.items()},
                                str(out / "merged.safetensors"))
    safetensors_torch.save_file({"x": torch.zeros(1)}, str(out / "compare.safetensors"))
    layers = nf4_layers(sd)
    first = next(iter(layers))
    layers[first]["nf4_bytes"] += memory_delta
    (out / "qlora").mkdir(exist_ok=True)
    (out / "qlora" / "memory.json").write_text(json.dumps({
        "layers": layers, "nf4_bytes": sum(v["nf4_bytes"] for v in layers.values()),
        "fp32_bytes": sum(v["fp32_bytes"] for v in layers.values())}))
    ctx = _ctx(spec, out)
    base = tiny_model(ctx, profile)
    adapted = tiny_model(ctx, profile)
    adapted.load_state_dict(merged)
    val = validation_ids(ctx)
    seq = int(p["seq_len"][profile])
    lc = labcommon(ctx)
    lora = {"trainable_params": sum(int(t.numel()) for t in adapter.values()),
            "val_loss_base": lc.eval_loss(base, val, seq),
            "val_loss_final": lc.eval_loss(adapted, val, seq)}
    lora.update(claim or {})
    (out / "metrics.json").write_text(json.dumps({"profile": profile, "seed": SEED,
                                                  "lora": lora}))
    write_probe(out)


def evaluate(out: Path, spec: LabSpec, **params: Any) -> dict[str, dict[str, Any]]:
    return kit_evaluate(_ctx(spec, out, **params))


def status(v: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: x["status"] for k, x in v.items()}


def test_consistent_artifacts_pass(tmp_path: Path, spec: LabSpec, base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    # random (untrained) A and B cannot gain 1 nat on held-out text: lower the margin here;
    # the slow end-to-end test checks the real margin with the trained solution
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert set(v) == {c.id for c in spec.checks}
    assert status(v) == {c.id: "pass" for c in spec.checks}, v
    assert v["lora-param-count"]["details"]["count"] == 17408
    assert v["qlora-memory"]["details"]["ratio"] == pytest.approx(4 / (0.5 + 4 / 64))
    for x in v.values():
        assert x["message"]["en"] and x["message"]["zh-TW"]


def test_cuda_profile_is_rebuilt_by_the_grader(tmp_path: Path, spec: LabSpec) -> None:
    """A run on a CUDA machine uses the larger profile; the grader rebuilds that one (on CPU)."""
    sd = {k: v.detach().clone() for k, v in tiny_model(_ctx(spec, tmp_path), "cuda").state_dict().items()}
    write_artifacts(tmp_path, spec, sd, profile="cuda")
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert status(v) == {c.id: "pass" for c in spec.checks}, v
    assert v["lora-param-count"]["details"]["count"] > 17408
    assert spec.params["profiles"]["cuda"]["hidden_size"] == 256


def test_fake_metrics_without_training_are_flagged(tmp_path: Path, spec: LabSpec,
                                                   base_sd: dict[str, Any]) -> None:
    """B left at zero (nothing trained) but metrics.json claims a big improvement."""
    write_artifacts(tmp_path, spec, base_sd, trained=False,
                    claim={"val_loss_final": 2.0})
    v = evaluate(tmp_path, spec)
    s = status(v)
    assert s["lora-b-trained"] == "fail"
    assert s["heldout-improves"] == "fail"
    assert s["merged-weights"] == "fail"  # merged == W0
    assert "just W0" in v["merged-weights"]["message"]["en"]
    assert s["hand-lora-matches-peft"] == "pass"  # the layer itself is graded by the probe
    assert s["qlora-adapter"] == "fail"
    assert s["metrics-consistent"] == "fail"
    assert "flagged" in v["metrics-consistent"]["message"]["en"]
    assert any("val_loss_final" in f for f in v["metrics-consistent"]["details"]["problems"])
    assert v["heldout-improves"]["details"]["gain"] == pytest.approx(0.0, abs=1e-5)


def test_wrong_merge_scale_fails_only_the_merge(tmp_path: Path, spec: LabSpec,
                                                base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, merge_scale=float(spec.params["alpha"]))
    s = status(evaluate(tmp_path, spec, heldout_margin=-100.0))
    assert s["merged-weights"] == "fail"
    assert s["lora-param-count"] == s["hand-lora-matches-peft"] == "pass"


def test_hand_layer_without_update_fails(tmp_path: Path, spec: LabSpec,
                                         base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    write_probe(tmp_path, without_update=True)
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["hand-lora-matches-peft"]["status"] == "fail"
    assert "forward" in v["hand-lora-matches-peft"]["message"]["en"]


def test_hand_layer_that_raises_or_miscounts_fails(tmp_path: Path, spec: LabSpec,
                                                   base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    write_probe(tmp_path, error="NotImplementedError: LoRALinear.forward")
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["hand-lora-matches-peft"]["status"] == "fail"
    assert "NotImplementedError" in v["hand-lora-matches-peft"]["message"]["en"]
    for bad in (7, 10**400, "128", True, [1]):
        write_probe(tmp_path, count=bad)
        v = evaluate(tmp_path, spec, heldout_margin=-100.0)
        assert v["hand-lora-matches-peft"]["status"] == "fail", bad


def test_peft_outputs_copied_into_compare_do_not_pass(tmp_path: Path, spec: LabSpec,
                                                      base_sd: dict[str, Any]) -> None:
    """The old hole: compare.safetensors with peft's outputs as the hand layer's. The check now
    reads only the probe; a layer that needs peft raises there (peft is blocked)."""
    write_artifacts(tmp_path, spec, base_sd)
    y = torch.randn(8, 64)
    safetensors_torch.save_file({"x": torch.randn(8, 64), "y_hand": y, "y_peft": y.clone()},
                                str(tmp_path / "compare.safetensors"))
    write_probe(tmp_path, error="ModuleNotFoundError: peft is not available in this check")
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["hand-lora-matches-peft"]["status"] == "fail"
    assert v["artifacts"]["status"] == "pass"


def test_hand_layer_with_random_b_init_fails(tmp_path: Path, spec: LabSpec,
                                             base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    write_probe(tmp_path, random_b_init=True)
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["hand-lora-matches-peft"]["status"] == "fail"
    assert "B = 0" in v["hand-lora-matches-peft"]["message"]["en"]


def test_wrong_rank_fails_count_and_flags_metrics(tmp_path: Path, spec: LabSpec,
                                                  base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, rank=4)
    v = evaluate(tmp_path, spec)
    assert v["lora-param-count"]["status"] == "fail"
    assert "r = 4" in v["lora-param-count"]["message"]["en"]
    assert v["metrics-consistent"]["status"] == "fail"


def test_wrong_memory_report_fails(tmp_path: Path, spec: LabSpec,
                                   base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, memory_delta=4)
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["qlora-memory"]["status"] == "fail"
    assert v["artifacts"]["status"] == "pass"


def test_missing_corrupt_and_linked_artifacts_fail_cleanly(tmp_path: Path, spec: LabSpec,
                                                           base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    (tmp_path / "merged.safetensors").write_bytes(b"\x00" * 64)
    (tmp_path / "compare.safetensors").unlink()
    (tmp_path / "compare.safetensors").symlink_to(tmp_path / "merged.safetensors")
    (tmp_path / "metrics.json").write_text("{not json")
    (tmp_path / "qlora" / "memory.json").unlink()
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    s = status(v)
    assert "error" not in s.values()
    assert s["artifacts"] == s["merged-weights"] == "fail"
    assert s["qlora-memory"] == s["metrics-consistent"] == "fail"
    assert "links are not accepted" in v["artifacts"]["message"]["en"]
    assert s["lora-param-count"] == "pass"  # the adapter itself is fine
    json.dumps(v, allow_nan=False)


def test_hostile_dtypes_and_nesting_fail_not_crash(tmp_path: Path, spec: LabSpec,
                                                   base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    pdir = tmp_path.parent / (tmp_path.name + "-probes") / "hand-lora"
    ints = {k: torch.ones(2, 2, dtype=torch.int64) for k in ("y", "merged", "init_A", "init_B")}
    safetensors_torch.save_file(ints, str(pdir / "outputs.safetensors"))
    (tmp_path / "metrics.json").write_text("[" * 100_000 + "]" * 100_000)
    cfg = tmp_path / "adapter" / "adapter_config.json"
    cfg.write_text(json.dumps(["not", "a", "mapping"]))
    v = evaluate(tmp_path, spec)
    s = status(v)
    assert "error" not in s.values()
    assert s["hand-lora-matches-peft"] == s["metrics-consistent"] == "fail"
    assert s["lora-param-count"] == "fail"


def test_empty_output_dir(tmp_path: Path, spec: LabSpec) -> None:
    v = evaluate(tmp_path, spec)
    assert set(status(v).values()) == {"fail"}  # the probe dir is missing too: a fail, not error


@pytest.mark.slow
def test_run_checks_through_the_child_process(tmp_path: Path, spec: LabSpec,
                                              base_sd: dict[str, Any]) -> None:
    from graders.labs.probing import ProbeRuns

    write_artifacts(tmp_path, spec, base_sd, trained=False)
    probes = ProbeRuns(seed=PROBE_SEED, dest=tmp_path.parent / (tmp_path.name + "-probes"))
    results = run_checks(spec, tmp_path, tmp_path, HELDOUT, SEED, data_dir=DATA, lab_dir=LAB11,
                         probes=probes)
    assert [r.id for r in results] == [c.id for c in spec.checks]
    assert all(isinstance(r, CheckResult) for r in results)
    by_id = {r.id: r for r in results}
    assert by_id["lora-param-count"].status == "pass"
    assert by_id["lora-param-count"].points == 4
    assert by_id["lora-b-trained"].status == "fail" and by_id["lora-b-trained"].points == 0
    assert by_id["lora-b-trained"].text("zh-TW").startswith("B 仍為零") or \
        "B 仍為零" in by_id["lora-b-trained"].text("zh-TW")
    summary = summarise(results)
    assert summary["total"] == 9 and summary["errors"] == 0


def test_run_checks_reports_a_broken_checker_as_error(tmp_path: Path, spec: LabSpec) -> None:
    broken = spec.model_copy(update={"checker": "no_such_checker"})
    results = run_checks(broken, tmp_path, tmp_path, None, 0)
    assert {r.status for r in results} == {"error"}
    assert all(r.points == 0 for r in results)
    from graders.labs.probing import ProbeRuns

    timeout = run_checks(spec, tmp_path, tmp_path, None, 0, extra={"timeout_s": 0.01},
                         probes=ProbeRuns(seed=1, dest=tmp_path))
    assert {r.status for r in timeout} == {"error"}
    assert "timed out" in timeout[0].text("en")


def test_details_are_json_even_with_nan() -> None:
    from graders.labs.checks import make_result

    c = load_lab(LAB11).checks[0]
    r = make_result(c, "fail", "x", {"loss": math.nan, "nested": [math.inf]})
    assert json.loads(json.dumps(r.model_dump(by_alias=True)))["details"] == {
        "loss": "nan", "nested": ["inf"]}


def test_hostile_metrics_values_fail_not_crash(tmp_path: Path, spec: LabSpec,
                                               base_sd: dict[str, Any]) -> None:
    """Issue 9: a list-valued profile, an integer 10**400 and a NaN count used to crash the
    checker into grader_error for every check."""
    write_artifacts(tmp_path, spec, base_sd)
    m = json.loads((tmp_path / "metrics.json").read_text())
    m["profile"] = ["cpu", "cuda"]
    m["seed"] = 10**400
    m["lora"]["trainable_params"] = 10**400
    m["lora"]["val_loss_final"] = float("nan")
    (tmp_path / "metrics.json").write_text(json.dumps(m))
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    s = status(v)
    assert "error" not in s.values(), v
    assert s["metrics-consistent"] == "fail" and s["lora-param-count"] == "pass"
    json.dumps(v, allow_nan=False)
