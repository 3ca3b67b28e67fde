"""Lab-1.8 (ORPO): the probe of the hand-written odds-ratio loss (right, wrong sign, no SFT term,
trl inside), the DPO-vs-ORPO table against the saved weights and the parameter count, and (serial,
slow) the real lab through `tutor grade`."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from graders.labs.probing import run_local_probes
from graders.labs.spec import LabSpec, load_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.8-orpo"
COMMON = ROOT / "exercises" / "_common"
DATA = ROOT / "content" / "data" / "preference"
HELDOUT = ROOT / "graders" / "labs" / "data" / "lab-1.7" / "heldout.jsonl"

SOLUTION_LOSS = (LAB / "solution" / "orpo_loss.py").read_text(encoding="utf-8")
RATIO = "ratio = log_odds(chosen_logps) - log_odds(rejected_logps)"
WRONG_SIGN = SOLUTION_LOSS.replace(RATIO, "ratio = log_odds(rejected_logps) - log_odds(chosen_logps)")
NO_SFT = SOLUTION_LOSS.replace("return nll + lam * ", "return 0 * nll + lam * ")
PROB_RATIO = SOLUTION_LOSS.replace(RATIO, "ratio = chosen_logps - rejected_logps")
CALLS_TRL = SOLUTION_LOSS.replace(
    "    import torch.nn.functional as F\n\n    ratio",
    "    import torch.nn.functional as F\n    from trl.experimental.orpo import ORPOTrainer  # noqa: F401\n\n    ratio")


def _module(name: str) -> Any:
    """A file of exercises/_common imported by path (the learner's run does the same)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_test18_{name}", COMMON / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Verdict(NamedTuple):
    """One check's outcome."""

    status: str
    message: str
    details: dict[str, Any]


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_lab(LAB)


def _checks(spec: LabSpec, out: Path, sub: Path, tmp: Path, probe: bool = True,
            only: str | None = None) -> dict[str, Verdict]:
    """Every check of the lab, in this process through the kit's registry (the grader runs the
    same functions in a child process); the probes run as plain subprocesses."""
    import importlib

    from graders.labs.kit import Context, Fail, registered

    runs = (run_local_probes(spec, LAB, sub, tmp / "probes", env={"HF_HUB_OFFLINE": "1"})
            if probe else None)
    ctx = Context(spec=spec, out_dir=out, submission_dir=sub, seed=0, lab_dir=LAB, data_dir=DATA,
                  heldout=HELDOUT, probe_seed=runs.seed if runs else None,
                  probes_dir=runs.dest if runs else None,
                  probe_status=dict(runs.status) if runs else {})
    importlib.import_module("graders.labs.lab_1_8")
    verdicts: dict[str, Verdict] = {}
    table = registered("graders.labs.lab_1_8")
    assert set(table) == {c.id for c in spec.checks}
    for cid, fn in table.items():
        if only is not None and cid != only:
            continue
        try:
            details = fn(ctx) or {}
        except Fail as exc:
            verdicts[cid] = Verdict("fail", exc.en, exc.details)
        except Exception as exc:  # noqa: BLE001 - the grader's error, as the worker reports it
            verdicts[cid] = Verdict("error", f"{type(exc).__name__}: {exc}", {})
        else:
            verdicts[cid] = Verdict("pass", str(details.get("message", {}).get("en", "")), details)
    return verdicts


def test_lab_yaml_profiles_and_course_entry_match(spec: LabSpec) -> None:
    for side in ("starter", "solution"):
        src = (LAB / side / "train.py").read_text(encoding="utf-8")
        ns: dict[str, Any] = {}
        start = src.index("PROFILES: dict")
        exec(compile(src[start: src.index('"""The tiny model per profile')], "train.py", "exec"),
             {"Any": Any}, ns)  # our own file, not a submission
        assert ns["PROFILES"] == spec.params["profiles"], side
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
    res = _checks(spec, tmp_path / "out", sub, tmp_path, only="orpo-loss-probe")["orpo-loss-probe"]
    assert res.status == ("pass" if passes else "fail"), res.message
    if says:
        assert says in res.message


def test_starter_loss_fails_the_probe(spec: LabSpec, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    res = _checks(spec, tmp_path / "out", LAB / "starter", tmp_path, only="orpo-loss-probe")["orpo-loss-probe"]
    assert res.status == "fail" and "NotImplementedError" in res.message


def _fake_run(out: Path, spec: LabSpec, table: dict[str, dict[str, Any]] | None = None) -> None:
    """Artifacts from nudged copies of the untrained model with an honest table (16Ψ / 20Ψ,
    accuracies recomputed), then ``table`` written over the honest rows."""
    import torch

    lc, pref = _module("labcommon"), _module("preference")
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
    ok = _checks(spec, honest, LAB / "solution", tmp_path / "a", probe=False)
    for cid in ("artifacts", "metrics-consistent", "compare-table"):
        assert ok[cid].status == "pass", (cid, ok[cid].message)
    bad = tmp_path / "bad"
    _fake_run(bad, spec, table={"orpo": {"val_accuracy": 0.99},
                                "sft_dpo": {"state_bytes": 1, "wall_s": 100.0}})
    res = _checks(spec, bad, LAB / "solution", tmp_path / "b", probe=False)["compare-table"]
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
    res = _checks(spec, out, LAB / "solution", tmp_path, probe=False)
    assert res["metrics-consistent"].status == "fail"
    assert "orpo.val.accuracy" in res["metrics-consistent"].message


def _grade(src: Path, tmp_path: Path) -> Any:
    from graders.grade import grade_submission

    sub = tmp_path / src.name
    shutil.copytree(src, sub)
    root = Path(tempfile.mkdtemp(prefix="tutor-grading-lab18-"))
    old = tempfile.tempdir
    tempfile.tempdir = str(root)
    try:
        # generous limit: the reference time budget assumes an idle 2-core machine
        return grade_submission(sub, "lab-1.8", seed=0, timeout=900)
    finally:
        tempfile.tempdir = old
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.serial
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the sandboxed grader needs Linux")
def test_solution_full_marks_starter_at_most_ten(tmp_path: Path) -> None:
    good = _grade(LAB / "solution", tmp_path)
    assert good.status == "graded", good.messages
    assert not [(c.id, c.message) for c in good.checks if c.status in ("fail", "error")]
    assert good.total == 100
    bad = _grade(LAB / "starter", tmp_path)
    assert bad.status == "graded", bad.messages
    assert bad.total <= 10
