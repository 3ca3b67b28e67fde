"""Lab-1.7 (DPO): the data, the probe of the hand-written loss (right, wrong sign, trl inside),
metrics claims against the saved weights, and (serial, slow) the real lab through `tutor grade`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from preference_lab_helpers import DATA, HELDOUT, common_module, grade, run_lab_checks

from graders.labs.spec import LabSpec, load_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.7-dpo"

SOLUTION_LOSS = (LAB / "solution" / "dpo_loss.py").read_text(encoding="utf-8")
WRONG_SIGN = SOLUTION_LOSS.replace(
    "losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))",
    "losses = -F.logsigmoid(beta * (rejected_logratios - chosen_logratios))")
NO_BETA = SOLUTION_LOSS.replace(
    "losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))",
    "losses = -F.logsigmoid(chosen_logratios - rejected_logratios)")
CALLS_TRL = SOLUTION_LOSS.replace(
    "    import torch.nn.functional as F\n",
    "    import torch.nn.functional as F\n    from trl import DPOTrainer  # noqa: F401\n")



@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab(LAB)





# -- data ----------------------------------------------------------------------------------------


def test_pairs_are_reproducible_bilingual_and_held_out_is_disjoint() -> None:
    sys.path.insert(0, str(DATA))
    try:
        import make_pairs
    finally:
        sys.path.remove(str(DATA))
    train, held = make_pairs.build()
    on_disk = [json.loads(x) for x in (DATA / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert on_disk == train
    assert [json.loads(x) for x in HELDOUT.read_text(encoding="utf-8").splitlines()] == held
    assert 200 <= len(train) <= 500 and len(held) >= 50
    assert {p["lang"] for p in train} == {"en", "zh-TW"} == {p["lang"] for p in held}
    assert not {p["prompt"] for p in train} & {p["prompt"] for p in held}
    assert all(p["chosen"] != p["rejected"] for p in train + held)
    assert all("\x00" not in p["prompt"] + p["chosen"] + p["rejected"] for p in train + held)
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "make_pairs.py" in readme


def test_byte_tokenizer_matches_labcommon() -> None:
    lc, pref = common_module("labcommon"), common_module("preference")
    tok = pref.byte_tokenizer()
    for text in ("Q: What is 3+4?\nA: 7.", "問：請重複這個詞：蘋果\n答：蘋果。"):
        assert tok(text)["input_ids"] == lc.encode(text)
    assert tok.eos_token_id == pref.EOS_ID == tok.pad_token_id
    assert tok("x" + tok.eos_token)["input_ids"] == [ord("x"), pref.EOS_ID]


def test_lab_yaml_profiles_match_the_scripts(spec: LabSpec) -> None:
    from tutor.labs.devcheck import param_mismatches

    assert not param_mismatches(spec, LAB)  # PROFILES of the shared run file = params.profiles
    course = yaml.safe_load((ROOT / "curriculum" / "core-training-techniques" / "labs.yaml")
                            .read_text(encoding="utf-8"))
    entry = next(x for x in course["labs"] if x["id"] == "lab-1.7")
    assert entry["exercise"] == LAB.name and entry["gpu"] == spec.gpu


def test_analysis_questions_exist_in_the_bank(spec: LabSpec) -> None:
    from tutor.curriculum import load_course

    course = load_course(ROOT / "curriculum" / "core-training-techniques")
    ids = set(course.questions)
    for path in (ROOT / "curriculum" / "core-training-techniques" / "questions").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert {q["id"] for q in doc["questions"]} <= ids, f"{path.name} not loaded"
    assert {a.id for a in spec.analysis} <= ids


# -- the probe ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "passes", "says"), [
    (SOLUTION_LOSS, True, None),
    (WRONG_SIGN, False, "wrong gradient sign"),
    (NO_BETA, False, "differs from the reference"),
    (CALLS_TRL, False, "trl"),
], ids=["solution", "wrong-sign", "no-beta", "calls-trl"])
def test_probe_grades_the_learners_loss(spec: LabSpec, tmp_path: Path, source: str,
                                        passes: bool, says: str | None) -> None:
    sub = tmp_path / "sub"
    shutil.copytree(LAB / "solution", sub)
    (sub / "dpo_loss.py").write_text(source, encoding="utf-8")
    (tmp_path / "out").mkdir()
    res = run_lab_checks(spec, LAB, tmp_path / "out", sub, tmp_path,
                         only="dpo-loss-probe")["dpo-loss-probe"]
    assert res.status == ("pass" if passes else "fail"), res.message
    if says:
        assert says in res.message


def test_starter_loss_fails_the_probe(spec: LabSpec, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    res = run_lab_checks(spec, LAB, tmp_path / "out", LAB / "starter", tmp_path,
                         only="dpo-loss-probe")["dpo-loss-probe"]
    assert res.status == "fail" and "NotImplementedError" in res.message


# -- metrics claims against the saved weights (no training) ----------------------------------------


def _fake_run(out: Path, spec: LabSpec, claim: dict[str, float] | None = None) -> None:
    """Artifacts from the untrained model (SFT) and two nudged copies (policies), with honest
    metrics computed the way the solution computes them, then ``claim`` written over them."""
    import torch

    lc, pref = common_module("labcommon"), common_module("preference")
    torch.manual_seed(0)
    sft = lc.build_model(spec.params["profiles"]["cpu"], 0)
    pref.save_weights(sft, out / "sft.safetensors")
    _, val = pref.load_pairs(DATA)
    rc, rr = pref.response_logps(sft, val)
    runs = {}
    for name, beta, scale in (("dpo", 0.1, 0.05), ("dpo_alt", 1.0, 0.01)):
        pol = lc.build_model(spec.params["profiles"]["cpu"], 0)
        with torch.no_grad():
            for p in pol.parameters():
                p.add_(torch.randn_like(p) * scale)
        pref.save_weights(pol, out / name / "policy.safetensors")
        pc, pr = pref.response_logps(pol, val)
        z = beta * ((pc - rc) - (pr - rr))
        stats = pref.preference_stats(beta * (pc - rc), beta * (pr - rr))
        runs[name] = {"beta": beta, "val": {
            "loss": float(-torch.nn.functional.logsigmoid(z).mean()),
            "reward_accuracy": stats["accuracy"], "reward_margin": stats["margin"],
            "kl": pref.token_kl(pol, sft, val),
            "chosen_logp_ref": float(rc.mean()), "chosen_logp": float(pc.mean()),
            "rejected_logp_ref": float(rr.mean()), "rejected_logp": float(pr.mean())}}
    runs["dpo"]["val"].update(claim or {})
    lc.write_json(out / "metrics.json", {
        "profile": "cpu", "seed": 0,
        "sft": {"val": {"likelihood_accuracy": pref.preference_stats(rc, rr)["accuracy"]}},
        **runs, "beta_effect": {"betas": [0.1, 1.0], "larger_kl_beta": 0.1}, "wall_s": 1.0})


def test_honest_metrics_pass_and_inflated_accuracy_is_caught(spec: LabSpec, tmp_path: Path) -> None:
    honest, inflated = tmp_path / "honest", tmp_path / "inflated"
    _fake_run(honest, spec)
    _fake_run(inflated, spec, claim={"reward_accuracy": 0.99})
    ok = run_lab_checks(spec, LAB, honest, LAB / "solution", tmp_path / "a", probe=False)
    assert ok["artifacts"].status == "pass", ok["artifacts"].message
    assert ok["metrics-consistent"].status == "pass", ok["metrics-consistent"].message
    assert ok["likelihood-displacement"].status == "pass", ok["likelihood-displacement"].message
    assert ok["kl-to-reference"].status == "pass", ok["kl-to-reference"].message
    # an untrained "SFT" gains nothing over the untrained model
    assert ok["sft-baseline"].status == "fail"
    bad = run_lab_checks(spec, LAB, inflated, LAB / "solution", tmp_path / "b", probe=False)
    assert bad["metrics-consistent"].status == "fail"
    assert "dpo.val.reward_accuracy" in bad["metrics-consistent"].message


def test_wrong_beta_direction_claim_and_broken_weights_fail(spec: LabSpec, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_run(out, spec)
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    m["beta_effect"]["larger_kl_beta"] = 1.0
    (out / "metrics.json").write_text(json.dumps(m), encoding="utf-8")
    (out / "dpo_alt" / "policy.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    res = run_lab_checks(spec, LAB, out, LAB / "solution", tmp_path, probe=False)
    assert res["beta-effect"].status == "fail"
    assert res["artifacts"].status == "fail"
    assert res["metrics-consistent"].status == "pass"  # the rest is still graded


# -- the real lab (trains: serial, slow) ----------------------------------------------------------


@pytest.mark.serial
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the sandboxed grader needs Linux")
def test_solution_full_marks_starter_at_most_ten(tmp_path: Path) -> None:
    good = grade(LAB / "solution", "lab-1.7", tmp_path)
    assert good.status == "graded", good.messages
    assert not [(c.id, c.message) for c in good.checks if c.status in ("fail", "error")]
    assert good.total == 100
    bad = grade(LAB / "starter", "lab-1.7", tmp_path)
    assert bad.status == "graded", bad.messages
    assert bad.total <= 10
