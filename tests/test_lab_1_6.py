"""Lab-1.6 (MQA / GQA with a KV cache): the solution's layer is MHA at G = H and MQA at G = 1,
cached decoding equals recomputation, the cache follows 2·L·n_kv·d·tokens·bytes; through the lab
pipeline and the kit the solution scores every check, the starter fails, and the cheats are caught
(a cache that recomputes everything, a conversion that keeps one head instead of the mean)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "exercises" / "lab-1.6-gqa-kv-cache"
PROBE = REPO / "graders" / "labs" / "probes" / "lab_1_6_gqa.py"


def _module(path: Path, name: str) -> Any:
    import importlib.util
    import sys

    # gqa.py imports the shared gqa_run.py, which imports labcommon
    for folder in (REPO / "exercises" / "_common", LAB):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gqa() -> Any:
    return _module(LAB / "solution" / "gqa.py", "_gqa_solution")


@pytest.fixture(scope="module")
def ref() -> Any:
    return _module(PROBE, "_gqa_probe")


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_layer_equals_the_head_by_head_reference(gqa: Any, ref: Any, groups: int) -> None:
    torch.manual_seed(groups)
    layer = gqa.GQAttention(32, 4, groups)
    x = torch.randn(2, 9, 32)
    w = layer.q_proj.weight, layer.k_proj.weight, layer.v_proj.weight, layer.o_proj.weight
    expected = ref.reference_attention(x, *w, heads=4)
    with torch.no_grad():
        assert (layer(x).double() - expected).abs().max().item() < 1e-5


def test_cached_decoding_equals_recomputation_and_the_formula(gqa: Any) -> None:
    torch.manual_seed(0)
    layer = gqa.GQAttention(32, 4, 2)
    x = torch.randn(2, 12, 32)
    cache = gqa.KVCache()
    with torch.no_grad():
        full = layer(x)
        steps = [layer(x[:, :3], cache)] + [layer(x[:, i : i + 1], cache) for i in range(3, 12)]
    assert (torch.cat(steps, dim=1) - full).abs().max().item() < 1e-5
    assert cache.nbytes() == gqa.kv_cache_bytes(1, 2, 8, 12, 4, batch=2) == 2 * 2 * 8 * 12 * 4 * 2


def test_conversion_mean_pools_and_g_equal_h_changes_nothing(gqa: Any, ref: Any) -> None:
    torch.manual_seed(1)
    mha = gqa.GQAttention(32, 4, 4)
    same = gqa.mha_to_gqa(mha, 4)
    x = torch.randn(1, 5, 32)
    with torch.no_grad():
        assert torch.equal(same(x), mha(x))
    two = gqa.mha_to_gqa(mha, 2)
    assert torch.allclose(two.k_proj.weight, ref.mean_pool(mha.k_proj.weight, 4, 2))
    assert torch.equal(two.q_proj.weight, mha.q_proj.weight)


def test_starter_raises_at_the_todos() -> None:
    starter = _module(LAB / "starter" / "gqa.py", "_gqa_starter")
    layer = starter.GQAttention(16, 2, 1)
    with pytest.raises(NotImplementedError):
        layer(torch.randn(1, 3, 16))
    assert starter.kv_cache_bytes(1, 1, 8, 4, 4) == 0  # the TODO's wrong value


# ---- through the lab pipeline and the kit

@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    work = tmp_path_factory.mktemp("lab16")
    return run_and_check(load_lab(LAB), LAB, work=work, solution=True), work


@pytest.mark.serial
def test_solution_scores_every_check(solved: Any) -> None:
    result, work = solved
    assert result.finished.ok, (work / "run.log").read_text(encoding="utf-8")[-2000:]
    failing = {r.id: r.text("en") for r in result.results if r.status != "pass"}
    assert failing == {}
    assert result.points[0] == result.points[1] == 28
    held = {r.id: r for r in result.results}["heldout-loss"].details
    assert held["conversion_delta"]["mqa"] > held["conversion_delta"]["gqa"] > 0
    assert held["uptrain_delta"] < 0


@pytest.mark.serial
def test_starter_fails(tmp_path: Path) -> None:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    result = run_and_check(load_lab(LAB), LAB, work=tmp_path, solution=False)
    got, total = result.points
    assert got <= 0.1 * total
    assert all(r.status == "fail" for r in result.results)


CHEATS = '''

class KVCache(KVCache):
    """Keeps the inputs and lets the layer recompute every k and v at each step."""

    def __init__(self):
        super().__init__()
        self.x = None


_forward = GQAttention.forward


def _recomputing_forward(self, x, cache=None):
    if cache is None:
        return _forward(self, x)
    past = 0 if cache.x is None else cache.x.shape[1]
    cache.x = x if cache.x is None else torch.cat([cache.x, x], dim=1)
    full = _forward(self, cache.x)  # k and v of every past token computed again
    return full[:, past:]


GQAttention.forward = _recomputing_forward


def mha_to_gqa(attn, groups):
    """Keeps the first head of each group instead of the mean."""
    h, d = attn.n_heads, attn.head_dim
    new = GQAttention(attn.q_proj.in_features, h, groups)
    with torch.no_grad():
        new.q_proj.weight.copy_(attn.q_proj.weight)
        new.o_proj.weight.copy_(attn.o_proj.weight)
        for src, dst in ((attn.k_proj, new.k_proj), (attn.v_proj, new.v_proj)):
            w = src.weight.view(groups, h // groups, d, -1)[:, 0]
            dst.weight.copy_(w.reshape(groups * d, -1))
    return new
'''
"""Appended to the solution's gqa.py."""


@pytest.mark.serial
def test_the_probe_catches_the_cheats(solved: Any, tmp_path: Path) -> None:
    from graders.labs.checks import run_checks
    from graders.labs.probing import run_local_probes
    from graders.labs.spec import load_lab

    _result, work = solved
    spec = load_lab(LAB)
    hostile = tmp_path / "hostile"
    shutil.copytree(LAB / "solution", hostile)
    source = (LAB / "solution" / "gqa.py").read_text(encoding="utf-8")
    (hostile / "gqa.py").write_text(source + CHEATS, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    probes = run_local_probes(spec, LAB, hostile, tmp_path / "probes", env=env)
    results = {r.id: r for r in run_checks(spec, work / "out", hostile, None, 0, lab_dir=LAB,
                                           probes=probes)}
    assert results["kv-cache-decoding"].status == "fail", results["kv-cache-decoding"]
    assert "recomputed past tokens" in results["kv-cache-decoding"].text("en")
    assert results["conversion"].status == "fail"
    assert "converted k_proj" in results["conversion"].text("en")
    assert results["gqa-equivalence"].status == "pass"  # the full forward pass is still right


def test_lab_yaml_params_agree_with_gqa_run() -> None:
    from graders.labs.spec import load_lab

    run = _module(LAB / "gqa_run.py", "_gqa_run")
    p = load_lab(LAB).params
    assert p["model"] == run.CONFIG and p["groups"] == run.GROUPS
    assert p["seq_len"] == run.SEQ_LEN


def test_convert_keeps_every_weight_but_the_pooled_k_v(gqa: Any) -> None:
    # train.py holds only the learner's convert: the solution's converts, the starter's raises
    import tiny_lm

    run = _module(LAB / "gqa_run.py", "_gqa_run_convert")
    solved = _module(LAB / "solution" / "train.py", "_gqa_train_solution")
    mha = tiny_lm.build(run.CONFIG, 0, gqa.GQAttention)
    new = solved.convert(mha, 2, 0)  # before the starter's folder goes on sys.path (import gqa)
    assert not new.training and all(b.attn.n_kv_heads == 2 for b in new.blocks)
    old_sd, new_sd = mha.state_dict(), new.state_dict()
    for key, value in new_sd.items():
        if ".attn.k_proj" not in key and ".attn.v_proj" not in key:
            assert torch.equal(value, old_sd[key]), key
    starter = _module(LAB / "starter" / "train.py", "_gqa_train_starter")
    with pytest.raises(NotImplementedError):
        starter.convert(mha, 2, 0)
