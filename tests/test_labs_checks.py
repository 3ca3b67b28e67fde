"""Lab-1.1 checks on hand-made artifacts: pass cases and the ways a submission can be wrong.

The verdict logic runs in-process here (``lab_1_1.evaluate``, the function the grader's child
process runs); one test goes through ``run_checks`` and its child process.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from graders.labs.checks import CheckResult, run_checks, summarise
from graders.labs.spec import LabSpec, load_lab

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
torch.set_num_threads(1)  # tiny tensors: more threads only contend on the shared 2-core machine

REPO = Path(__file__).resolve().parent.parent
LAB11 = REPO / "exercises" / "lab-1.1-peft-lora"
DATA = REPO / "content" / "data" / "lab-1.1"
HELDOUT = REPO / "graders" / "labs" / "data" / "lab-1.1" / "heldout.txt"
SEED = 3


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab(LAB11)


@pytest.fixture(scope="module")
def base_sd(spec: LabSpec) -> dict[str, Any]:
    from graders.labs.lab_1_1 import _base_model

    base = _base_model(spec.params, "cpu", SEED)
    return {k: v.detach().clone() for k, v in base.state_dict().items()}


def _targets(spec: LabSpec, sd: dict[str, Any]) -> dict[str, tuple[int, int]]:
    out = {}
    for key, w in sd.items():
        name = key.removesuffix(".weight")
        if key.endswith(".weight") and name.split(".")[-1] in spec.params["target_modules"]:
            out[name] = (int(w.shape[0]), int(w.shape[1]))
    return out


def write_artifacts(out: Path, spec: LabSpec, sd: dict[str, Any], *, trained: bool = True,
                    merge_scale: float | None = None, hand_without_update: bool = False,
                    memory_delta: int = 0, claim: dict[str, Any] | None = None,
                    rank: int | None = None, random_b_init: bool = False,
                    profile: str = "cpu") -> None:
    """A complete, internally consistent set of Lab-1.1 artifacts built without peft."""
    from graders.labs.lab_1_1 import _base_model, _nf4_bytes, _val_split, _windows_loss

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
    cname = p["compare_module"]
    d, k = shapes[cname]
    a = adapter[f"base_model.model.{cname}.lora_A.weight"]
    b = adapter[f"base_model.model.{cname}.lora_B.weight"]
    x = torch.randn(8, k, generator=gen)
    w0 = sd[f"{cname}.weight"]
    y = x @ w0.T + (0 if hand_without_update else scaling * (x @ a.T) @ b.T)
    safetensors_torch.save_file({
        "x": x, "y_hand": y, "y_peft": y.clone(), "merged_hand": w0 + scaling * (b @ a),
        "param_count_hand": torch.tensor([r * (d + k)]),
        "init_A": torch.randn(r, k, generator=gen),
        "init_B": torch.randn(d, r, generator=gen) if random_b_init else torch.zeros(d, r),
    }, str(out / "compare.safetensors"))
    base = _base_model(p, profile, SEED)
    layers = {n: {"shape": [0, 0], "fp32_bytes": v["fp32_bytes"], "nf4_bytes": v["plain"]}
              for n, v in _nf4_bytes(base).items()}
    first = next(iter(layers))
    layers[first]["nf4_bytes"] += memory_delta
    (out / "qlora").mkdir(exist_ok=True)
    (out / "qlora" / "memory.json").write_text(json.dumps({
        "layers": layers, "nf4_bytes": sum(v["nf4_bytes"] for v in layers.values()),
        "fp32_bytes": sum(v["fp32_bytes"] for v in layers.values())}))
    val = _val_split(DATA, int(p["val_every"]))
    adapted = _base_model(p, profile, SEED)
    adapted.load_state_dict(merged)
    seq = int(p["seq_len"][profile])
    lora = {"trainable_params": sum(int(t.numel()) for t in adapter.values()),
            "val_loss_base": _windows_loss(base, val, seq),
            "val_loss_final": _windows_loss(adapted, val, seq)}
    lora.update(claim or {})
    (out / "metrics.json").write_text(json.dumps({"profile": profile, "seed": SEED,
                                                  "lora": lora}))


def evaluate(out: Path, spec: LabSpec, **params: Any) -> dict[str, dict[str, Any]]:
    from graders.labs.lab_1_1 import evaluate as ev

    return ev({"out_dir": str(out), "seed": SEED, "heldout": str(HELDOUT),
               "data_dir": str(DATA), "artifacts": spec.artifacts,
               "params": {**spec.params, **params}})


def status(v: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: x["status"] for k, x in v.items()}


def test_consistent_artifacts_pass(tmp_path: Path, spec: LabSpec, base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    # random (untrained) A and B cannot gain 1 nat on held-out text: lower the margin here;
    # the slow end-to-end test checks the real margin with the trained solution
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert set(v) == {c.id for c in spec.checks}
    assert status(v) == {c.id: "pass" for c in spec.checks}, v
    assert v["lora-param-count"]["details"]["recomputed"] == 17408
    assert v["qlora-memory"]["details"]["ratio"] == pytest.approx(4 / (0.5 + 4 / 64))
    for x in v.values():
        assert x["message"]["en"] and x["message"]["zh-TW"]


def test_cuda_profile_is_rebuilt_by_the_grader(tmp_path: Path, spec: LabSpec) -> None:
    """A run on a CUDA machine uses the larger profile; the grader rebuilds that one (on CPU)."""
    from graders.labs.lab_1_1 import _base_model

    sd = {k: v.detach().clone()
          for k, v in _base_model(spec.params, "cuda", SEED).state_dict().items()}
    write_artifacts(tmp_path, spec, sd, profile="cuda")
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert status(v) == {c.id: "pass" for c in spec.checks}, v
    hidden = spec.params["profiles"]["cuda"]["hidden_size"]
    assert v["lora-param-count"]["details"]["expected"] > 17408
    assert hidden == 256


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
    assert s["hand-lora-matches-peft"] == "fail"  # update is zero: not discriminative
    assert s["qlora-adapter"] == "fail"
    assert s["metrics-consistent"] == "fail"
    assert "flagged" in v["metrics-consistent"]["message"]["en"]
    assert any("val_loss_final" in f for f in v["metrics-consistent"]["details"]["flags"])
    assert v["heldout-improves"]["details"]["gain"] == pytest.approx(0.0, abs=1e-5)


def test_wrong_merge_scale_fails_only_the_merge(tmp_path: Path, spec: LabSpec,
                                                base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, merge_scale=float(spec.params["alpha"]))
    s = status(evaluate(tmp_path, spec, heldout_margin=-100.0))
    assert s["merged-weights"] == "fail"
    assert s["lora-param-count"] == s["hand-lora-matches-peft"] == "pass"


def test_hand_layer_without_update_fails(tmp_path: Path, spec: LabSpec,
                                         base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, hand_without_update=True)
    v = evaluate(tmp_path, spec, heldout_margin=-100.0)
    assert v["hand-lora-matches-peft"]["status"] == "fail"
    assert "forward differs" in v["hand-lora-matches-peft"]["message"]["en"]


def test_hand_layer_with_random_b_init_fails(tmp_path: Path, spec: LabSpec,
                                             base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, random_b_init=True)
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
    assert s["artifacts"] == s["merged-weights"] == s["hand-lora-matches-peft"] == "fail"
    assert s["qlora-memory"] == s["metrics-consistent"] == "fail"
    assert "links are not accepted" in v["hand-lora-matches-peft"]["message"]["en"]
    assert s["lora-param-count"] == "pass"  # the adapter itself is fine
    json.dumps(v, allow_nan=False)


def test_hostile_dtypes_and_nesting_fail_not_crash(tmp_path: Path, spec: LabSpec,
                                                   base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd)
    ints = {k: torch.ones(2, 2, dtype=torch.int64) for k in ("x", "y_hand", "merged_hand")}
    ints["param_count_hand"] = torch.tensor([1])
    safetensors_torch.save_file(ints, str(tmp_path / "compare.safetensors"))
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
    assert set(status(v).values()) == {"fail"}


@pytest.mark.slow
def test_run_checks_through_the_child_process(tmp_path: Path, spec: LabSpec,
                                              base_sd: dict[str, Any]) -> None:
    write_artifacts(tmp_path, spec, base_sd, trained=False)
    results = run_checks(spec, tmp_path, tmp_path, HELDOUT, SEED, data_dir=DATA)
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
    timeout = run_checks(spec, tmp_path, tmp_path, None, 0, extra={"timeout_s": 0.01})
    assert {r.status for r in timeout} == {"error"}
    assert "timed out" in timeout[0].text("en")


def test_details_are_json_even_with_nan() -> None:
    from graders.labs.checks import make_result

    c = load_lab(LAB11).checks[0]
    r = make_result(c, "fail", "x", {"loss": math.nan, "nested": [math.inf]})
    assert json.loads(json.dumps(r.model_dump(by_alias=True)))["details"] == {
        "loss": "nan", "nested": ["inf"]}
