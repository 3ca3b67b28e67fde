"""Lab specs (lab.yaml): loading, validation errors, catalogue, orphan detection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from graders.labs.spec import LabSpec, LabSpecError, find_labs, load_lab, orphan_files

REPO = Path(__file__).resolve().parent.parent
LAB11 = REPO / "exercises" / "lab-1.1-peft-lora"


def _minimal(**over: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "id": "lab-9.1",
        "title": {"en": "Fake", "zh-TW": "假的"},
        "concepts": ["lora"],
        "entry": "train.py",
        "starter": ["train.py"],
        "artifacts": ["metrics.json"],
        "checker": "fake",
        "checks": [{"id": "ok", "title": {"en": "ok", "zh-TW": "好"},
                    "bucket": "implementation", "points": 1,
                    "description": {"en": "d", "zh-TW": "描述"}}],
    }
    raw.update(over)
    return raw


def _write_lab(root: Path, raw: dict[str, object], files: dict[str, str] | None = None) -> Path:
    lab = root / "fake"
    (lab / "starter").mkdir(parents=True)
    (lab / "solution").mkdir()
    (lab / "lab.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    for rel, text in (files or {}).items():
        (lab / rel).parent.mkdir(parents=True, exist_ok=True)
        (lab / rel).write_text(text, encoding="utf-8")
    return lab


def test_shipped_lab_1_1_loads() -> None:
    spec = load_lab(LAB11)
    assert spec.id == "lab-1.1"
    assert spec.concepts == ["lora", "qlora"]
    assert spec.entry in spec.starter
    assert spec.submission_files == spec.starter
    assert spec.env["HF_HUB_OFFLINE"] == "1"
    assert spec.max_points["implementation"] == 30
    assert {c.bucket for c in spec.checks} == {"implementation", "analysis"}
    assert spec.check("merged-weights").points == 4
    with pytest.raises(KeyError):
        spec.check("nope")


def test_shipped_lab_has_no_orphans_and_todos() -> None:
    spec = load_lab(LAB11)
    assert orphan_files(LAB11, spec) == []
    for rel in spec.starter:
        assert "TODO" in (LAB11 / "starter" / rel).read_text(encoding="utf-8")
        assert "TODO" not in (LAB11 / "solution" / rel).read_text(encoding="utf-8")


def test_shared_run_code_matches_the_graders_config() -> None:
    """The shared peft_run.py and labcommon.py (what the run uses) and lab.yaml params (what the
    grader uses) must define the same model, windows and validation split."""
    import ast

    def constants(path: Path) -> dict[str, object]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out: dict[str, object] = {}
        for node in tree.body:
            target = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and node.value is not None:  # type: ignore[union-attr]
                try:
                    out[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
                except ValueError:
                    pass
        return out

    run = constants(LAB11 / "peft_run.py")
    common = constants(LAB11.parent / "_common" / "labcommon.py")
    params = load_lab(LAB11).params
    assert run["PROFILES"] == params["profiles"]
    assert run["SEQ_LEN"] == params["seq_len"]
    assert common["VAL_EVERY"] == params["val_every"]
    sol = (LAB11 / "peft_run.py").read_text(encoding="utf-8")
    assert f"LORA_R = {params['r']}\n" in sol
    assert f"LORA_ALPHA = {params['alpha']}\n" in sol
    assert repr(params["target_modules"]).replace("'", '"') in sol
    assert f'COMPARE_MODULE = "{params["compare_module"]}"' in sol


def test_find_labs_sorted_and_duplicates(tmp_path: Path) -> None:
    assert find_labs(tmp_path / "missing") == {}
    _write_lab(tmp_path, _minimal())
    found = find_labs(tmp_path)
    assert list(found) == ["lab-9.1"]
    dup = tmp_path / "dup"
    shutil.copytree(tmp_path / "fake", dup)
    with pytest.raises(LabSpecError, match="duplicate lab id"):
        find_labs(tmp_path)
    shipped = find_labs(REPO / "exercises")
    assert "lab-1.1" in shipped


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"entry": "main.py"}, "entry"),
        ({"starter": ["../evil.py"]}, "safe relative path"),
        ({"starter": ["/etc/passwd"]}, "safe relative path"),
        ({"artifacts": ["a.json", "a.json"]}, "duplicate"),
        ({"shared": ["train.py"]}, "both shared and starter"),
        ({"allowed": ["other.py"]}, "not starter files"),
        ({"id": "LAB 1"}, "id"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"checks": []}, "checks"),
    ],
)
def test_invalid_specs_name_the_problem(tmp_path: Path, over: dict[str, object],
                                        needle: str) -> None:
    lab = _write_lab(tmp_path, _minimal(**over))
    with pytest.raises(LabSpecError) as exc:
        load_lab(lab)
    assert needle in str(exc.value)
    assert str(lab / "lab.yaml") in str(exc.value)


def test_duplicate_check_ids_and_bad_yaml(tmp_path: Path) -> None:
    raw = _minimal()
    raw["checks"] = raw["checks"] * 2  # type: ignore[operator]
    lab = _write_lab(tmp_path, raw)
    with pytest.raises(LabSpecError, match="duplicate check ids"):
        load_lab(lab)
    (lab / "lab.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(LabSpecError, match="invalid YAML"):
        load_lab(lab)
    (lab / "lab.yaml").write_text("- a list", encoding="utf-8")
    with pytest.raises(LabSpecError, match="mapping"):
        load_lab(lab)
    with pytest.raises(LabSpecError, match="cannot read"):
        load_lab(tmp_path / "nowhere")


def test_orphans_and_missing_files(tmp_path: Path) -> None:
    lab = _write_lab(tmp_path, _minimal(shared=["helper.py"]), {
        "starter/train.py": "# TODO\n", "solution/train.py": "print()\n", "helper.py": "",
        "README.md": "", "README.zh-TW.md": "",
    })
    spec = load_lab(lab)
    assert orphan_files(lab, spec) == []
    (lab / "notes.txt").write_text("stray", encoding="utf-8")
    (lab / "solution" / "extra.py").write_text("", encoding="utf-8")
    (lab / "starter" / "__pycache__").mkdir()
    (lab / "starter" / "__pycache__" / "x.pyc").write_bytes(b"")
    (lab / "helper.py").unlink()
    assert orphan_files(lab, spec) == [
        "orphan: notes.txt", "orphan: solution/extra.py", "missing: helper.py",
    ]


def test_spec_model_rejects_without_yaml() -> None:
    spec = LabSpec.model_validate(_minimal(env={}))
    assert spec.env == {"HF_HUB_OFFLINE": "1"}


def test_new_lab_yaml_keys_are_validated(tmp_path: Path) -> None:
    """ranks need a launcher; probe ids are unique; block names and packages are checked."""
    base = _minimal()
    for i, (extra, why) in enumerate((({"ranks": 2}, "launcher"),
                       ({"ranks": 2, "launcher": "mpirun"}, "launcher"),
                       ({"probes": [{"id": "p", "script": "probes/x.py"},
                                    {"id": "p", "script": "probes/y.py"}]}, "duplicate probe"),
                       ({"probes": [{"id": "p", "script": "probes/x.sh"}]}, ".py"),
                       ({"probes": [{"id": "p", "script": "probes/x.py", "block": ["a b"]}]},
                        "dotted"),
                       ({"requires": {"packages": ["torch; rm -rf"]}}, "module name"),
                       ({"common": ["../x.py"]}, "safe relative"))):
        lab = _write_lab(tmp_path / str(i), {**base, **extra})
        with pytest.raises(LabSpecError, match=why):
            load_lab(lab)
    lab = _write_lab(tmp_path / "ok", {**base, "ranks": 2, "launcher": "spawn",
                                       "common": ["labcommon.py"],
                                       "requires": {"packages": ["torch"], "gpu": "optional"}})
    spec = load_lab(lab)
    assert spec.ranks == 2 and spec.gpu_need == "optional" and spec.common == ["labcommon.py"]
