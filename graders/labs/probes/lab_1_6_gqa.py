"""Probe of Lab-1.6: call the learner's gqa.py on weights and inputs drawn at grading time.

Runs inside the sandbox after the learner's run, in the run directory, with
``torch.nn.functional.scaled_dot_product_attention`` unavailable:

    python -I lab_1_6_gqa.py --submission RUN_DIR --out PROBE_OUT --seed S

It records (``outputs.safetensors`` + ``result.json``):
- the learner's ``GQAttention`` outputs with groups = heads (MHA), one group (MQA) and a group
  count in between, for weights and inputs drawn from S;
- incremental decoding with the learner's ``KVCache`` (a prompt, then one token at a time): the
  outputs, how many tokens ``k_proj`` saw at each step (1 after the prompt: nothing recomputed),
  and the bytes the cache holds at the end;
- ``kv_cache_bytes`` for drawn sizes, and the K/V weights ``mha_to_gqa`` produces.

The checker (graders/labs/lab_1_6.py) imports this file for ``draw_cases`` and the reference
attention ``RefAttention`` (the grader's own) and recomputes everything outside the sandbox.
Importing it runs nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

PROMPT = 4
"""Tokens fed at once before decoding one token at a time."""


def draw_cases(seed: int) -> dict[str, Any]:
    """Sizes, weights and inputs from the grading seed (float32, CPU)."""
    import torch

    gen = torch.Generator().manual_seed(seed)

    def pick(options: tuple[int, ...]) -> int:
        return options[int(torch.randint(0, len(options), (1,), generator=gen))]

    heads = pick((4, 8))
    groups = pick((2,) if heads == 4 else (2, 4))
    d = pick((8, 16))
    hidden = heads * d
    b, t = pick((1, 2)), int(torch.randint(10, 25, (1,), generator=gen))

    def w(rows: int, cols: int) -> Any:
        return torch.randn(rows, cols, generator=gen) / hidden ** 0.5

    return {
        "heads": heads, "groups": groups, "head_dim": d, "hidden": hidden, "batch": b, "tokens": t,
        "wq": w(heads * d, hidden), "wo": w(hidden, heads * d),
        "wk": w(heads * d, hidden), "wv": w(heads * d, hidden),          # multi-head K, V
        "wk1": w(d, hidden), "wv1": w(d, hidden),                        # one K/V head (MQA)
        "wkg": w(groups * d, hidden), "wvg": w(groups * d, hidden),      # G K/V heads
        "x": torch.randn(b, t, hidden, generator=gen),
        "sizes": [int(torch.randint(1, 5, (1,), generator=gen)),        # layers
                  int(torch.randint(1, 9, (1,), generator=gen)),        # kv heads
                  pick((32, 64, 128)), int(torch.randint(1, 4097, (1,), generator=gen)),
                  pick((1, 2, 4)), pick((1, 2, 8))],                     # d, tokens, bytes, batch
    }


def reference_attention(x: Any, wq: Any, wk: Any, wv: Any, wo: Any, heads: int) -> Any:
    """Causal attention with K/V heads shared by equal groups of query heads, head by head, in
    float64 (MHA when wk has ``heads`` heads, MQA with one): the grader's independent reference."""
    import torch

    x = x.double()
    b, t, _ = x.shape
    d = wq.shape[0] // heads
    kv = wk.shape[0] // d
    q = (x @ wq.double().T).view(b, t, heads, d)
    k = (x @ wk.double().T).view(b, t, kv, d)
    v = (x @ wv.double().T).view(b, t, kv, d)
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    outs = []
    for h in range(heads):
        g = h // (heads // kv)  # the K/V head of query head h
        s = q[:, :, h] @ k[:, :, g].transpose(-2, -1) / d ** 0.5
        outs.append(torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1) @ v[:, :, g])
    return torch.cat(outs, dim=-1) @ wo.double().T


def mean_pool(w: Any, heads: int, groups: int) -> Any:
    """K or V projection weights [heads·d, hidden] mean-pooled to [groups·d, hidden]."""
    hd, hidden = w.shape
    d = hd // heads
    return w.view(groups, heads // groups, d, hidden).mean(dim=1).reshape(groups * d, hidden)


def _ref_attention_class() -> Any:
    import torch
    from torch import nn

    class RefAttention(nn.Module):
        """The grader's attention with the lab's parameter names (no cache: full sequences)."""

        def __init__(self, hidden: int, n_heads: int, n_kv_heads: int) -> None:
            super().__init__()
            self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, hidden // n_heads
            self.q_proj = nn.Linear(hidden, hidden, bias=False)
            self.k_proj = nn.Linear(hidden, n_kv_heads * self.head_dim, bias=False)
            self.v_proj = nn.Linear(hidden, n_kv_heads * self.head_dim, bias=False)
            self.o_proj = nn.Linear(hidden, hidden, bias=False)

        def forward(self, x: torch.Tensor, cache: Any = None) -> torch.Tensor:
            if cache is not None:
                raise ValueError("the reference attention has no cache")
            y: torch.Tensor = reference_attention(x, self.q_proj.weight, self.k_proj.weight,
                                                  self.v_proj.weight, self.o_proj.weight,
                                                  self.n_heads)
            return y.to(x.dtype)

    return RefAttention


def __getattr__(name: str) -> Any:  # PEP 562: RefAttention built on first use (torch imported)
    if name == "RefAttention":
        return _ref_attention_class()
    raise AttributeError(name)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__


def _layer(gqa: Any, c: dict[str, Any], kv: int, wk: Any, wv: Any) -> Any:
    import torch

    layer = gqa.GQAttention(c["hidden"], c["heads"], kv)
    with torch.no_grad():
        for name, w in (("q_proj", c["wq"]), ("k_proj", wk), ("v_proj", wv), ("o_proj", c["wo"])):
            getattr(layer, name).weight.copy_(w)
    layer.eval()
    return layer


def probe(seed: int, out_dir: Path) -> dict[str, Any]:
    """Every measurement; tensors go to ``out_dir/outputs.safetensors``."""
    import gqa  # the learner's module (run directory on sys.path)
    import torch
    from safetensors.torch import save_file

    c = draw_cases(seed)
    result: dict[str, Any] = {"seed": seed}
    tensors: dict[str, torch.Tensor] = {}
    variants = {"mha": (c["heads"], c["wk"], c["wv"]), "mqa": (1, c["wk1"], c["wv1"]),
                "gqa": (c["groups"], c["wkg"], c["wvg"])}
    for name, (kv, wk, wv) in variants.items():
        try:
            with torch.no_grad():
                y = _layer(gqa, c, kv, wk, wv)(c["x"].clone())
            tensors[f"{name}.out"] = y.detach().float().contiguous()
            result[name] = "ok"
        except Exception as exc:
            result[name] = {"error": _one_line(exc)}

    # incremental decoding on the G-group layer
    try:
        layer = _layer(gqa, c, c["groups"], c["wkg"], c["wvg"])
        seen: list[int] = []
        layer.k_proj.register_forward_pre_hook(lambda _m, args: seen.append(int(args[0].shape[-2])))
        cache = gqa.KVCache()
        x = c["x"].clone()
        with torch.no_grad():
            outs = [layer(x[:, :PROMPT], cache)]
            for i in range(PROMPT, c["tokens"]):
                outs.append(layer(x[:, i : i + 1], cache))
        tensors["decode.out"] = torch.cat(outs, dim=1).float().contiguous()
        stored = 0
        for t in (getattr(cache, "k", None), getattr(cache, "v", None)):
            if isinstance(t, torch.Tensor):
                stored += t.numel() * t.element_size()
        result["decode"] = {"k_proj_tokens": seen[:256], "cache_nbytes": int(cache.nbytes()),
                            "cache_tensor_bytes": stored, "cache_len": int(len(cache))}
    except Exception as exc:
        result["decode"] = {"error": _one_line(exc)}

    try:
        result["formula"] = int(gqa.kv_cache_bytes(*c["sizes"][:5], batch=c["sizes"][5]))
    except Exception as exc:
        result["formula"] = {"error": _one_line(exc)}
    try:
        mha = _layer(gqa, c, c["heads"], c["wk"], c["wv"])
        conv = gqa.mha_to_gqa(mha, c["groups"])
        tensors["convert.k"] = conv.k_proj.weight.detach().float().contiguous()
        tensors["convert.v"] = conv.v_proj.weight.detach().float().contiguous()
        tensors["convert.q"] = conv.q_proj.weight.detach().float().contiguous()
        result["convert"] = "ok"
    except Exception as exc:
        result["convert"] = {"error": _one_line(exc)}
    if tensors:
        save_file(tensors, str(out_dir / "outputs.safetensors"))
    return result


def main() -> int:
    p = argparse.ArgumentParser(description="Lab-1.6 probe: the learner's gqa.py")
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out = args.out.resolve()  # before the chdir below
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(args.submission.resolve()))
    os.chdir(args.submission)
    try:
        result = probe(args.seed, args.out)
    except Exception as exc:  # e.g. the module does not import: the submission's failure
        traceback.print_exc()
        result = {"error": _one_line(exc)}
    (args.out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
