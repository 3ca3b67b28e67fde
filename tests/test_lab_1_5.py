"""Lab-1.5 (FlashAttention): the solution's tiled attention is exact and O(N) in saved memory;
the probe sees through the cheats (SDPA inside, N × N scores built, P saved for backward); the
checker on the kit grades the solution 100 % and the starter down; the questions load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "exercises" / "lab-1.5-flash-attention"
PROBE = REPO / "graders" / "labs" / "probes" / "lab_1_5_tiled.py"
COMMON = REPO / "exercises" / "_common" / "labcommon.py"


def _module(path: Path, name: str) -> Any:
    import importlib.util
    import sys

    # the lab's files import the shared flash_run.py, which imports labcommon
    for folder in (COMMON.parent, LAB):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def solution() -> Any:
    return _module(LAB / "solution" / "flash_attention.py", "_fa_solution")


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1, 37, 100])
def test_solution_equals_naive_forward_and_backward(solution: Any, causal: bool, n: int) -> None:
    gen = torch.Generator().manual_seed(n)
    q, k, v = (torch.randn(2, 3, n, 16, generator=gen, dtype=torch.float64, requires_grad=True)
               for _ in range(3))
    out = solution.flash_attention(q, k, v, causal=causal, block_size=32)
    ref = solution.naive_attention(q, k, v, causal=causal)
    assert (out - ref).abs().max().item() < 1e-5
    g = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    for a, b in zip(torch.autograd.grad(out, (q, k, v), g), torch.autograd.grad(ref, (q, k, v), g),
                    strict=True):
        assert (a - b).abs().max().item() < 1e-5


def test_starter_raises_at_the_todo() -> None:
    starter = _module(LAB / "starter" / "flash_attention.py", "_fa_starter")
    q = torch.randn(1, 1, 8, 4)
    with pytest.raises(NotImplementedError):
        starter.flash_attention(q, q, q)


def test_saved_bytes_linear_for_tiles_quadratic_for_naive(solution: Any) -> None:
    probe = _module(PROBE, "_fa_probe")

    def saved(fn: Any, n: int) -> int:
        q, k, v = (torch.randn(1, 2, n, 16, requires_grad=True) for _ in range(3))
        return int(probe._saved_bytes(fn, q, k, v))

    tiled = [saved(solution.flash_attention, n) for n in (128, 256)]
    naive = [saved(solution.naive_attention, n) for n in (128, 256)]
    assert tiled[1] == 2 * tiled[0]
    assert naive[1] > 3 * naive[0]


# ---- through the lab pipeline and the kit (run, probes under the bootstrap, checks)

# appended to the solution's flash_attention.py: each redefines flash_attention with a cheat
SDPA_INSIDE = """
def flash_attention(q, k, v, causal=False, block_size=64):
    # F.scaled_dot_product_attention is blocked; the aten operator is reached directly
    return torch.ops.aten.scaled_dot_product_attention(q, k, v, is_causal=causal)
"""

NXN_INSIDE = """
class _Cheat(FlashAttentionFunction):
    @staticmethod
    def forward(ctx, q, k, v, causal, block_size):
        out = naive_attention(q, k, v, causal)  # the N x N scores, under no_grad: only O saved
        ctx.save_for_backward(q, k, v, out, torch.zeros(q.shape[:-1]))
        ctx.causal, ctx.block_size = causal, block_size
        return out

def flash_attention(q, k, v, causal=False, block_size=64):
    return _Cheat.apply(q, k, v, causal, block_size)
"""

P_SAVED = """
def flash_attention(q, k, v, causal=False, block_size=64):
    # row blocks of Q, but autograd keeps every block's P: O(N^2) saved for backward
    n = q.shape[-2]
    outs = []
    for q0 in range(0, n, block_size):
        qi = q[..., q0:q0 + block_size, :]
        s = qi @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if causal:
            rows = torch.arange(q0, q0 + qi.shape[-2])[:, None]
            s = s.masked_fill(torch.arange(n)[None, :] > rows, float("-inf"))
        outs.append(torch.softmax(s, dim=-1) @ v)
    return torch.cat(outs, dim=-2)
"""


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    work = tmp_path_factory.mktemp("lab15")
    return run_and_check(load_lab(LAB), LAB, work=work, solution=True), work


@pytest.mark.serial
def test_solution_scores_every_check(solved: Any) -> None:
    result, work = solved
    assert result.finished.ok, (work / "run.log").read_text(encoding="utf-8")[-2000:]
    failing = {r.id: r.text("en") for r in result.results if r.status != "pass"}
    assert failing == {}
    got, total = result.points
    assert got == total == 30
    by_id = {r.id: r for r in result.results}
    assert by_id["no-shortcut"].details["saved_ratio_2n"] == 2.0
    assert by_id["memory-table"].details["naive_ratio"] > 3.0


@pytest.mark.serial
def test_starter_fails(tmp_path: Path) -> None:
    from graders.labs.spec import load_lab
    from tutor.labs.session import run_and_check

    result = run_and_check(load_lab(LAB), LAB, work=tmp_path, solution=False)
    got, total = result.points
    assert got <= 0.1 * total
    assert {r.id for r in result.results if r.status == "fail"} >= {
        "forward-plain", "forward-causal", "no-shortcut", "memory-table"}


@pytest.mark.serial
@pytest.mark.parametrize(("name", "cheat", "check_id", "words"), [
    ("sdpa", SDPA_INSIDE, "no-shortcut", "fused attention kernel"),
    ("nxn", NXN_INSIDE, "no-shortcut", "full score matrix"),
    ("p-saved", P_SAVED, "no-shortcut", "quadratic"),
])
def test_the_probe_catches_the_cheats(solved: Any, tmp_path: Path, name: str, cheat: str,
                                      check_id: str, words: str) -> None:
    import os
    import shutil

    from graders.labs.checks import run_checks
    from graders.labs.probing import run_local_probes
    from graders.labs.spec import load_lab

    result, work = solved
    spec = load_lab(LAB)
    hostile = tmp_path / "hostile"
    shutil.copytree(LAB / "solution", hostile)
    source = (LAB / "solution" / "flash_attention.py").read_text(encoding="utf-8")
    (hostile / "flash_attention.py").write_text(source + cheat, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    probes = run_local_probes(spec, LAB, hostile, tmp_path / "probes", env=env)
    results = {r.id: r for r in run_checks(spec, work / "out", hostile, None, 0, lab_dir=LAB,
                                           probes=probes)}
    assert results[check_id].status == "fail", results[check_id]
    assert words in results[check_id].text("en")
    # the outputs themselves are right: only the shortcut is caught
    assert results["forward-plain"].status == "pass"


def test_the_questions_loader_reads_every_questions_file() -> None:
    import yaml

    from tutor.curriculum.loader import load_course

    course_dir = REPO / "curriculum" / "core-training-techniques"
    ids: set[str] = set()
    for path in sorted((course_dir / "questions").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        ids |= {q["id"] for q in doc["questions"]}
    loaded = set(load_course(course_dir).questions)
    assert ids == loaded
    assert {"l3-online-softmax-rescale", "l3-grad-accum-loss-scale", "l3-gqa-cache-ratio",
            "l2-gqa-conversion"} <= loaded


def test_every_analysis_id_of_the_three_labs_is_in_the_bank() -> None:
    from graders.labs.spec import load_lab
    from tutor.curriculum.loader import load_course

    loaded = set(load_course(REPO / "curriculum" / "core-training-techniques").questions)
    for lab in ("lab-1.4-training-optimisation", "lab-1.5-flash-attention", "lab-1.6-gqa-kv-cache"):
        spec = load_lab(REPO / "exercises" / lab)
        assert {a.id for a in spec.analysis} <= loaded, lab


def test_lab_yaml_params_agree_with_the_bench_and_the_probe() -> None:
    from graders.labs.spec import load_lab

    bench = _module(LAB / "flash_run.py", "_fa_bench")
    probe = _module(PROBE, "_fa_probe_consts")
    p = load_lab(LAB).params["bench"]
    assert p["lengths"] == bench.LENGTHS == list(probe.BENCH_LENGTHS)
    assert (p["batch"], p["heads"], p["head_dim"]) == (bench.BATCH, bench.HEADS, bench.HEAD_DIM) \
        == probe.BENCH_SHAPE
    assert p["block_size"] == bench.BLOCK_SIZE == probe.BENCH_BLOCK


def test_learner_saved_bytes_counts_what_autograd_saves(solution: Any) -> None:
    # bench.py holds only the learner's counter: the solution's equals the probe's, the starter's 0
    probe = _module(PROBE, "_fa_probe_counter")
    solved = _module(LAB / "solution" / "bench.py", "_fa_bench_solution")
    starter = _module(LAB / "starter" / "bench.py", "_fa_bench_starter")
    q, k, v = (torch.randn(1, 2, 96, 16, requires_grad=True) for _ in range(3))
    expected = int(probe._saved_bytes(solution.naive_attention, q, k, v))
    assert expected > 0
    assert solved.saved_bytes(solution.naive_attention, q, k, v) == expected
    assert starter.saved_bytes(solution.naive_attention, q, k, v) == 0
