"""Lab-1.8 (ORPO): the probe of the hand-written odds-ratio loss (right, wrong sign, no SFT term,
trl inside), the DPO-vs-ORPO table against the saved weights and the parameter count, and (serial,
slow) the real lab through `tutor grade`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from preference_lab_helpers import DATA, common_module, grade, run_lab_checks

from graders.labs.spec import LabSpec, load_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.8-orpo"

SOLUTION_LOSS = (LAB / "solution" / "orpo_loss.py").read_text(encoding="utf-8")
RATIO = "ratio = log_odds(chosen_logps) - log_odds(rejected_logps)"
WRONG_SIGN = SOLUTION_LOSS.replace(RATIO, "ratio = log_odds(rejected_logps) - log_odds(chosen_logps)")
NO_SFT = SOLUTION_LOSS.replace("return nll + lam * ", "return 0 * nll + lam * ")
PROB_RATIO = SOLUTION_LOSS.replace(RATIO, "ratio = chosen_logps - rejected_logps")
CALLS_TRL = SOLUTION_LOSS.replace(
    "    import torch.nn.functional as F\n\n    ratio",
    "    import torch.nn.functional as F\n    from trl.experimental.orpo import ORPOTrainer  # noqa: F401\n\n    ratio")



@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab(LAB)





def test_lab_yaml_profiles_and_course_entry_match(spec: LabSpec) -> None:
    from tutor.labs.devcheck import param_mismatches

    assert not param_mismatches(spec, LAB)  # PROFILES of the shared run file = params.profiles
    course = yaml.safe_load((ROOT / "curriculum" / "core-training-techniques" / "labs.yaml")
                            .read_text(encoding="utf-8"))
    entry = next(x for x in course["labs"] if x["id"] == "lab-1.8")
    assert entry["exercise"] == LAB.name and entry["gpu"] == spec.gpu
    assert spec.heldout == "lab-1.7/heldout.jsonl"  # both labs graded on the same pairs


@pytest.mark.parametrize(("source", "passes", "says"), [
    (SOLUTION_LOSS, True, None),
    (WRONG_SIGN, False, "wrong sign"),
    (NO_SFT, False, "grad_nll"),
    (PROB_RATIO, False, "log_odds_ratio"),
    (CALLS_TRL, False, "trl"),
], ids=["solution", "wrong-sign", "no-sft-term", "probability-ratio", "calls-trl"])
def test_probe_grades_the_learners_loss(spec: LabSpec, tmp_path: Path, source: str,
                                        passes: bool, says: str | None) -> None:
    sub = tmp_path / "sub"
    shutil.copytree(LAB / "solution", sub)
    (sub / "orpo_loss.py").write_text(source, encoding="utf-8")
    (tmp_path / "out").mkdir()
    res = run_lab_checks(spec, LAB, tmp_path / "out", sub, tmp_path,
                         only="orpo-loss-probe")["orpo-loss-probe"]
    assert res.status == ("pass" if passes else "fail"), res.message
    if says:
        assert says in res.message


def test_starter_loss_fails_the_probe(spec: LabSpec, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    res = run_lab_checks(spec, LAB, tmp_path / "out", LAB / "starter", tmp_path,
                         only="orpo-loss-probe")["orpo-loss-probe"]
    assert res.status == "fail" and "NotImplementedError" in res.message


def _fake_run(out: Path, spec: LabSpec, table: dict[str, dict[str, Any]] | None = None) -> None:
    """Artifacts from nudged copies of the untrained model with an honest table (16Ψ / 20Ψ,
    accuracies recomputed), then ``table`` written over the honest rows."""
    import torch

    lc, pref = common_module("labcommon"), common_module("preference")
    config = spec.params["profiles"]["cpu"]
    _, val = pref.load_pairs(DATA)
    torch.manual_seed(0)
    models = {}
    for rel, scale in (("orpo/model.safetensors", 0.05), ("dpo/sft.safetensors", 0.02),
                       ("dpo/policy.safetensors", 0.03)):
        m = lc.build_model(config, 0)
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p) * scale)
        pref.save_weights(m, out / rel)
        models[rel] = m
    psi = sum(p.numel() for p in lc.build_model(config, 0).parameters())
    base = lc.build_model(config, 0)
    bc, br = pref.response_logps(base, val, average=True)
    oc, orj = pref.response_logps(models["orpo/model.safetensors"], val, average=True)
    ratio = (oc - torch.log(-torch.expm1(oc))) - (orj - torch.log(-torch.expm1(orj)))
    lam = 0.5
    loss = -oc.mean() + lam * (-torch.nn.functional.logsigmoid(ratio)).mean()
    dc, dr = pref.response_logps(models["dpo/policy.safetensors"], val, average=True)
    rows = {
        "orpo": {"wall_s": 2.0, "state_bytes": 16 * psi, "reference_bytes": 0,
                 "val_accuracy": pref.preference_stats(oc, orj)["accuracy"]},
        "sft_dpo": {"wall_s": 3.0, "state_bytes": 20 * psi, "reference_bytes": 4 * psi,
                    "val_accuracy": pref.preference_stats(dc, dr)["accuracy"]},
    }
    for name, row in (table or {}).items():
        rows[name].update(row)
    lc.write_json(out / "metrics.json", {
        "profile": "cpu", "seed": 0, "base_val_accuracy": pref.preference_stats(bc, br)["accuracy"],
        "orpo": {"lambda": lam, "val": {"loss": float(loss), "log_odds_ratio": float(ratio.mean()),
                                        "accuracy": rows["orpo"]["val_accuracy"]}},
        "compare": rows, "wall_s": 6.0})


def test_honest_table_passes_and_false_claims_are_caught(spec: LabSpec, tmp_path: Path) -> None:
    honest = tmp_path / "honest"
    _fake_run(honest, spec)
    ok = run_lab_checks(spec, LAB, honest, LAB / "solution", tmp_path / "a", probe=False)
    for cid in ("artifacts", "metrics-consistent", "compare-table"):
        assert ok[cid].status == "pass", (cid, ok[cid].message)
    # nudged copies of the untrained model: honest, but no preference was learnt
    assert ok["orpo-beats-base"].status == "fail"
    assert "mean log odds ratio" in ok["orpo-beats-base"].message
    bad = tmp_path / "bad"
    _fake_run(bad, spec, table={"orpo": {"val_accuracy": 0.99},
                                "sft_dpo": {"state_bytes": 1, "wall_s": 100.0}})
    res = run_lab_checks(spec, LAB, bad, LAB / "solution", tmp_path / "b", probe=False)["compare-table"]
    assert res.status == "fail"
    for text in ("compare.orpo.val_accuracy", "compare.sft_dpo.state_bytes", "longer than the whole run"):
        assert text in res.message, text


def test_metrics_claiming_a_better_accuracy_than_the_weights_fail(spec: LabSpec,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_run(out, spec)
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    m["orpo"]["val"]["accuracy"] = 1.0
    (out / "metrics.json").write_text(json.dumps(m), encoding="utf-8")
    res = run_lab_checks(spec, LAB, out, LAB / "solution", tmp_path, probe=False)
    assert res["metrics-consistent"].status == "fail"
    assert "orpo.val.accuracy" in res["metrics-consistent"].message


@pytest.mark.serial
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the sandboxed grader needs Linux")
def test_solution_full_marks_starter_at_most_ten(tmp_path: Path) -> None:
    good = grade(LAB / "solution", "lab-1.8", tmp_path)
    assert good.status == "graded", good.messages
    assert not [(c.id, c.message) for c in good.checks if c.status in ("fail", "error")]
    assert good.total == 100
    bad = grade(LAB / "starter", "lab-1.8", tmp_path)
    assert bad.status == "graded", bad.messages
    assert bad.total <= 10
