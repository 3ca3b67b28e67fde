"""Probes: the grader-owned bootstrap blocks modules and attributes against the obvious bypasses,
and Lab-1.1's hand-layer probe grades the learner's own LoRALinear (peft blocked), locally and
through `tutor grade` (the sandbox)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.labs.probing import BOOTSTRAP, PROBE_ENV, run_local_probes
from graders.labs.spec import load_lab

ROOT = Path(__file__).resolve().parents[1]
LAB11 = ROOT / "exercises" / "lab-1.1-peft-lora"
COMMON = ROOT / "exercises" / "_common" / "labcommon.py"

PROBE = '''
import argparse, json, sys
from pathlib import Path
p = argparse.ArgumentParser()
p.add_argument("--submission"); p.add_argument("--out"); p.add_argument("--seed", type=int)
a = p.parse_args()
Path(a.out).mkdir(parents=True, exist_ok=True)
sys.path.insert(0, a.submission)
try:
    import learner
    res = {"value": learner.run()}
except Exception as exc:
    res = {"error": f"{type(exc).__name__}: {exc}"}
Path(a.out, "result.json").write_text(json.dumps(res))
'''

BYPASSES = {
    "plain import": "def run():\n    import fractions\n    return 'used'\n",
    "finder removed": (
        "import sys\n"
        "def run():\n"
        "    sys.meta_path[:] = [f for f in sys.meta_path if 'Refuse' not in type(f).__name__]\n"
        "    import fractions\n"
        "    return 'used'\n"),
    "file loaded by path": (
        "import importlib.util, os, sysconfig\n"
        "def run():\n"
        "    path = os.path.join(sysconfig.get_paths()['stdlib'], 'fractions.py')\n"
        "    spec = importlib.util.spec_from_file_location('fr2', path)\n"
        "    mod = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(mod)\n"
        "    return 'used'\n"),
    "sys.modules tampering": (
        "import sys\n"
        "def run():\n"
        "    sys.modules.pop('fractions', None)\n"
        "    __import__('fractions')\n"
        "    return 'used'\n"),
    "attribute called": (
        "import statistics\n"
        "def run():\n"
        "    return statistics.median([1, 2]) and 'used'\n"),
    "attribute reload": (
        "import importlib, statistics\n"
        "def run():\n"
        "    importlib.reload(statistics)\n"
        "    return statistics.median([1, 2]) and 'used'\n"),
    "attribute via its defining module": (
        "import _heapq\n"
        "def run():\n"
        "    _heapq.heappush([], 1)\n"
        "    return 'used'\n"),
    "fresh interpreter": (
        "import subprocess, sys\n"
        "def run():\n"
        "    subprocess.run([sys.executable, '-c', 'import fractions'], check=True)\n"
        "    return 'used'\n"),
    "atexit rewrites the result": (
        "import atexit, json, sys\n"
        "def _later():\n"
        "    out = sys.argv[sys.argv.index('--out') + 1]\n"
        "    open(out + '/result.json', 'w').write(json.dumps({'value': 'used'}))\n"
        "def run():\n"
        "    atexit.register(_later)\n"
        "    import fractions\n"
        "    return 'used'\n"),
}


def _probe(tmp_path: Path, learner: str, block: str = "fractions,statistics.median,heapq.heappush") -> dict[str, object]:
    sub, folder, out = tmp_path / "sub", tmp_path / "probe", tmp_path / "out"
    tmp_path.mkdir(parents=True, exist_ok=True)
    for d in (sub, folder):
        d.mkdir()
    (sub / "learner.py").write_text(learner, encoding="utf-8")
    (folder / "probe.py").write_text(PROBE, encoding="utf-8")
    shutil.copyfile(BOOTSTRAP, folder / "_bootstrap.py")
    shutil.copyfile(COMMON, folder / "labcommon.py")
    env = {"PATH": os.environ.get("PATH", ""), **PROBE_ENV}
    proc = subprocess.run([sys.executable, "-I", str(folder / "_bootstrap.py"), "--block", block,
                           "--probe", str(folder / "probe.py"), "--", "--submission", str(sub),
                           "--out", str(out), "--seed", "1"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return result


def test_unblocked_code_runs(tmp_path: Path) -> None:
    assert _probe(tmp_path, "import fractions\ndef run():\n    return 'ok'\n", block="statistics.median") \
        == {"value": "ok"}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_bypass_is_refused(tmp_path: Path, name: str) -> None:
    res = _probe(tmp_path, BYPASSES[name])
    assert "error" in res and res.get("value") != "used", res


def test_lab11_probe_solution_starter_and_peft(tmp_path: Path) -> None:
    """Solution: a result; starter: its NotImplementedError; a layer built on peft: blocked."""
    pytest.importorskip("torch")
    spec = load_lab(LAB11)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    sol = run_local_probes(spec, LAB11, LAB11 / "solution", tmp_path / "sol", env=env)
    res = json.loads((tmp_path / "sol" / "hand-lora" / "result.json").read_text())
    assert "error" not in res and isinstance(res["param_count"], int), sol.status
    assert (tmp_path / "sol" / "hand-lora" / "outputs.safetensors").is_file()
    run_local_probes(spec, LAB11, LAB11 / "starter", tmp_path / "st", env=env)
    assert "NotImplementedError" in json.loads(
        (tmp_path / "st" / "hand-lora" / "result.json").read_text())["error"]
    hostile = tmp_path / "hostile"
    shutil.copytree(LAB11 / "solution", hostile)
    (hostile / "lora_layer.py").write_text(
        (LAB11 / "solution" / "lora_layer.py").read_text(encoding="utf-8")
        + "\nimport peft  # the shortcut the task forbids\n", encoding="utf-8")
    run_local_probes(spec, LAB11, hostile, tmp_path / "ho", env=env)
    assert "peft" in json.loads((tmp_path / "ho" / "hand-lora" / "result.json").read_text())["error"]


@pytest.mark.serial
def test_grade_peft_outputs_copied_as_the_hand_layer_lose_that_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9's hostile submission: train.py copies peft's outputs into compare.safetensors as
    the hand layer's, and lora_layer.py is a thin wrapper around peft. Under `tutor grade` the
    probe runs the layer in the sandbox with peft blocked: that check fails, the rest is graded."""
    from tutor.cli import main

    sub = tmp_path / "sub"
    shutil.copytree(LAB11 / "solution", sub)
    train = (sub / "train.py").read_text(encoding="utf-8")
    train = train.replace('"x": ref["x"], "y_hand": y_hand,', '"x": ref["x"], "y_hand": ref["y_peft"],')
    (sub / "train.py").write_text(train, encoding="utf-8")
    (sub / "lora_layer.py").write_text(
        (LAB11 / "solution" / "lora_layer.py").read_text(encoding="utf-8").replace(
            "import torch\n", "import torch\nimport peft  # noqa: F401\n", 1), encoding="utf-8")
    assert main(["grade", str(sub), "--lab", "lab-1.1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "graded", report["messages"]
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["hand-lora-matches-peft"]["status"] == "fail"
    assert "peft" in checks["hand-lora-matches-peft"]["message"]
    assert checks["merged-weights"]["status"] == "pass"
    assert report["total"] < 100


def test_blocking_a_method_and_failing_closed(tmp_path: Path) -> None:
    """A dotted attribute of a class can be blocked; a block that cannot hold (a built-in type's
    method) stops the probe with the bootstrap's exit code instead of running unguarded."""
    learner = ("from fractions import Fraction\n"
               "def run():\n    return str(Fraction(1, 3).limit_denominator(2))\n")
    assert "error" in _probe(tmp_path / "a", learner, block="fractions.Fraction.limit_denominator")
    sub, folder = tmp_path / "b" / "sub", tmp_path / "b" / "probe"
    for d in (sub, folder):
        d.mkdir(parents=True)
    (sub / "learner.py").write_text("def run():\n    return 1\n", encoding="utf-8")
    (folder / "probe.py").write_text(PROBE, encoding="utf-8")
    shutil.copyfile(BOOTSTRAP, folder / "_bootstrap.py")
    shutil.copyfile(COMMON, folder / "labcommon.py")
    proc = subprocess.run([sys.executable, "-I", str(folder / "_bootstrap.py"), "--block",
                           "builtins.int.bit_length", "--probe", str(folder / "probe.py"), "--",
                           "--submission", str(sub), "--out", str(tmp_path / "out"), "--seed",
                           "1"], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""), **PROBE_ENV})
    assert proc.returncode == 97 and "cannot block" in proc.stderr
    assert not (tmp_path / "out" / "result.json").exists()
