"""Lab-1.5 (FlashAttention): the solution's tiled attention is exact and O(N) in saved memory;
the probe sees through the cheats (SDPA inside, N × N scores built, P saved for backward); the
checker on the kit grades the solution 100 % and the starter down; the questions load."""

from __future__ import annotations

import json
import subprocess
import sys
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


# ---- the probe against hostile submissions (run as the grader runs it: python -I, own process)

SDPA_INSIDE = '''
import torch
import torch.nn.functional as F
from flash_attention_base import naive_attention  # noqa: F401

def flash_attention(q, k, v, causal=False, block_size=64):
    return torch._C._nn.scaled_dot_product_attention(q, k, v, is_causal=causal)
'''

NXN_INSIDE = '''
import math
import torch
from flash_attention_base import naive_attention, FlashAttentionFunction

class Cheat(FlashAttentionFunction):
    @staticmethod
    def forward(ctx, q, k, v, causal, block_size):
        out = naive_attention(q, k, v, causal)   # N x N under no_grad, only O saved
        lse = torch.zeros(q.shape[:-1])
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.causal, ctx.block_size = causal, block_size
        return out

def flash_attention(q, k, v, causal=False, block_size=64):
    return Cheat.apply(q, k, v, causal, block_size)
'''

P_SAVED = '''
import math
import torch
from flash_attention_base import naive_attention

def flash_attention(q, k, v, causal=False, block_size=64):
    # tiles the forward but lets autograd keep every tile's P: O(N^2) saved for backward
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
'''


def hostile(tmp_path: Path, body: str) -> Path:
    """A run directory whose flash_attention.py is ``body`` (the solution importable beside it)."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "flash_attention_base.py").write_text(
        (LAB / "solution" / "flash_attention.py").read_text(encoding="utf-8"), encoding="utf-8")
    (sub / "flash_attention.py").write_text(body, encoding="utf-8")
    (sub / "labcommon.py").write_text(COMMON.read_text(encoding="utf-8"), encoding="utf-8")
    return sub


def run_probe(sub: Path, out: Path, seed: int = 11) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-I", str(PROBE), "--submission", str(sub), "--out",
                           str(out), "--seed", str(seed)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return result


@pytest.mark.serial
def test_probe_passes_the_solution(tmp_path: Path) -> None:
    res = run_probe(LAB / "solution", tmp_path / "p")
    assert res["forbidden_ops"] == []
    assert res["big"]["largest_storage"] <= res["big"]["bound"]
    s1, s2 = res["linear"]["saved"]
    assert s2 == 2 * s1
    assert res["plain"]["backward"] == res["causal"]["backward"] == "ok"


@pytest.mark.serial
@pytest.mark.parametrize(("name", "body"), [("sdpa", SDPA_INSIDE), ("nxn", NXN_INSIDE),
                                            ("p-saved", P_SAVED)])
def test_probe_catches_the_cheats(tmp_path: Path, name: str, body: str) -> None:
    res = run_probe(hostile(tmp_path, body), tmp_path / "p")
    if name == "sdpa":
        assert any("scaled_dot_product" in op for op in res["forbidden_ops"])
    elif name == "nxn":
        assert res["big"]["largest_storage"] > res["big"]["bound"]
    else:
        s1, s2 = res["linear"]["saved"]
        assert s2 / s1 > 3.0
