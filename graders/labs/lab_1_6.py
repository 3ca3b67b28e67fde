"""Checks of Lab-1.6 (MQA / GQA with a KV cache; MHA → GQA conversion).

The probe ``probes/lab_1_6_gqa.py`` calls the learner's gqa.py inside the sandbox on weights and
inputs drawn at grading time; here the same inputs are regenerated from ``ctx.probe_seed`` and
compared with the grader's own head-by-head float64 attention. The run's checkpoints are loaded
into the lab's tiny decoder built with the grader's attention (``RefAttention``), and the held-out
losses before and after conversion and after uptraining are computed on the grader's own text.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.labs.kit import Context, Fail, Problem, assert_close, check, integer, number

PROBE = "gqa"
"""Probe id in lab.yaml."""
PROBE_FILE = Path(__file__).parent / "probes" / "lab_1_6_gqa.py"
"""The probe script: also the grader's reference attention and the drawn inputs."""
CHECKPOINTS = ("mha", "gqa", "mqa", "gqa_uptrained")
"""The run's checkpoints (``<name>.safetensors``)."""


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ref() -> ModuleType:
    return _load(PROBE_FILE, "_lab_1_6_probe")


def _cases(ctx: Context) -> dict[str, Any]:
    if "cases" not in ctx.cache:
        if ctx.probe_seed is None:
            raise RuntimeError("no probe seed: the probe was not run")
        ctx.cache["cases"] = _ref().draw_cases(ctx.probe_seed)
    cases: dict[str, Any] = ctx.cache["cases"]
    return cases


def _ok(res: dict[str, Any], name: str) -> None:
    sec = res.get(name)
    if isinstance(sec, dict) and "error" in sec:
        raise Fail(Problem("your gqa.py raised on the grader's inputs ({name}): {error}",
                           "你的 gqa.py 在評分器的輸入上出錯（{name}）：{error}", name=name,
                           error=str(sec["error"])))
    if sec is None:
        raise Fail(Problem("the probe recorded no '{name}' result", "探針沒有 '{name}' 的結果",
                           name=name))


def _atol(ctx: Context) -> float:
    return number(ctx.params.get("atol", 1e-4), "atol", lo=0.0)


@check("artifacts")
def artifacts(ctx: Context) -> dict[str, Any] | None:
    """metrics.json and the four checkpoints exist and parse."""
    if not isinstance(ctx.json("metrics.json"), dict):
        raise Fail(Problem("metrics.json is not a JSON object", "metrics.json 不是 JSON 物件"))
    counts = {name: len(ctx.tensors(f"{name}.safetensors")) for name in CHECKPOINTS}
    return {"tensors": counts}


@check("gqa-equivalence")
def gqa_equivalence(ctx: Context) -> dict[str, Any] | None:
    """groups = heads is MHA, one group is MQA, and any G matches the grader's attention."""
    res = ctx.probe(PROBE)
    c = _cases(ctx)
    ref = _ref()
    want = {"mha": (c["wk"], c["wv"]), "mqa": (c["wk1"], c["wv1"]), "gqa": (c["wkg"], c["wvg"])}
    for name in want:
        _ok(res, name)  # the learner's error first, before looking for its outputs
    tensors = ctx.probe_tensors(PROBE, "outputs.safetensors")
    errs: dict[str, float] = {}
    for name, (wk, wv) in want.items():
        got = tensors.get(f"{name}.out")
        if got is None:
            raise Fail(Problem("no output for {name}", "沒有 {name} 的輸出", name=name))
        expected = ref.reference_attention(c["x"], c["wq"], wk, wv, c["wo"], c["heads"]).float()
        errs[name] = assert_close(got, expected, atol=_atol(ctx), what=f"{name} attention")
    return {"heads": c["heads"], "groups": c["groups"], "max_abs_err": errs}


@check("kv-cache-decoding")
def kv_cache_decoding(ctx: Context) -> dict[str, Any] | None:
    """Prompt + one token at a time with the cache equals full attention; nothing recomputed."""
    res = ctx.probe(PROBE)
    _ok(res, "decode")
    c = _cases(ctx)
    dec = res["decode"]
    seen = dec.get("k_proj_tokens")
    steps = c["tokens"] - _ref().PROMPT
    if not isinstance(seen, list) or len(seen) != steps + 1:
        raise Fail(Problem("k_proj ran {n} times for a prompt and {steps} new tokens (want {want})",
                           "提示與 {steps} 個新 token 共執行 k_proj {n} 次（應為 {want}）",
                           n=len(seen) if isinstance(seen, list) else 0, steps=steps,
                           want=steps + 1))
    per_step = [integer(s, "k_proj tokens", lo=0) for s in seen[1:]]
    if any(s != 1 for s in per_step):
        raise Fail(Problem("decoding recomputed past tokens: k_proj saw {most} tokens in one step "
                           "(a cache computes only the new token's k and v)",
                           "解碼時重算了過去的 token：k_proj 在一步中看到 {most} 個 token"
                           "（快取只需計算新 token 的 k 與 v）", most=max(per_step)))
    got = ctx.probe_tensors(PROBE, "outputs.safetensors").get("decode.out")
    if got is None:
        raise Fail(Problem("no decoding output", "沒有解碼輸出"))
    expected = _ref().reference_attention(c["x"], c["wq"], c["wkg"], c["wvg"], c["wo"],
                                          c["heads"]).float()
    err = assert_close(got, expected, atol=_atol(ctx), what="cached decoding")
    return {"steps": steps, "max_abs_err": err}


@check("kv-cache-bytes")
def kv_cache_bytes(ctx: Context) -> dict[str, Any] | None:
    """Cache bytes = 2·layers·kv_heads·head_dim·tokens·bytes (probe, formula and metrics.json)."""
    res = ctx.probe(PROBE)
    _ok(res, "decode")
    c = _cases(ctx)
    want = 2 * 1 * c["groups"] * c["head_dim"] * c["tokens"] * 4 * c["batch"]
    dec = res["decode"]
    for key in ("cache_nbytes", "cache_tensor_bytes"):
        got = integer(dec.get(key), key, lo=0)
        if got != want:
            raise Fail(Problem("after {t} tokens your cache holds {got} bytes ({key}); "
                               "2·1·{g}·{d}·{t}·4·{b} = {want}",
                               "{t} 個 token 後你的快取有 {got} 位元組（{key}）；"
                               "2·1·{g}·{d}·{t}·4·{b} = {want}", t=c["tokens"], got=got, key=key,
                               g=c["groups"], d=c["head_dim"], b=c["batch"], want=want))
    if isinstance(res.get("formula"), dict):
        _ok(res, "formula")
    layers, kv, d, tokens, nbytes, batch = c["sizes"]
    formula = 2 * layers * kv * d * tokens * nbytes * batch
    got_f = integer(res.get("formula"), "kv_cache_bytes", lo=0)
    if got_f != formula:
        raise Fail(Problem("kv_cache_bytes{args} = {got}, expected {want}",
                           "kv_cache_bytes{args} = {got}，應為 {want}",
                           args=str(tuple(c["sizes"])), got=got_f, want=formula))
    metrics = ctx.json("metrics.json")
    decode = metrics.get("decode") if isinstance(metrics, dict) else None
    if not isinstance(decode, dict) or not decode:
        raise Fail(Problem("metrics.json has no decode section", "metrics.json 沒有 decode 區段"))
    cfg = ctx.params.get("model", {})
    head_dim = int(cfg.get("hidden", 64)) // int(cfg.get("heads", 4))
    for name, row in decode.items():
        if not isinstance(row, dict):
            raise Fail(Problem("metrics.json decode.{name} is not an object",
                               "metrics.json decode.{name} 不是物件", name=name))
        kvh = integer(row.get("kv_heads"), f"decode.{name}.kv_heads", lo=1, hi=64)
        toks = integer(row.get("tokens"), f"decode.{name}.tokens", lo=1, hi=100_000)
        expect = 2 * int(cfg.get("layers", 2)) * kvh * head_dim * toks * 4 * 2  # batch of 2 prompts
        got_m = integer(row.get("cache_bytes"), f"decode.{name}.cache_bytes", lo=0)
        if got_m != expect:
            raise Fail(Problem("metrics.json says the {name} cache held {got} bytes; "
                               "the formula gives {want}", "metrics.json 說 {name} 快取有 {got} "
                               "位元組；公式為 {want}", name=name, got=got_m, want=expect))
    return {"probe_bytes": want, "formula": formula}


@check("conversion")
def conversion(ctx: Context) -> dict[str, Any] | None:
    """mha_to_gqa mean-pools K/V heads per group (probe and the run's checkpoints)."""
    res = ctx.probe(PROBE)
    _ok(res, "convert")
    c = _cases(ctx)
    ref = _ref()
    t = ctx.probe_tensors(PROBE, "outputs.safetensors")
    atol = number(ctx.params.get("weight_atol", 1e-6), "weight_atol", lo=0.0)
    for key, w in (("k", c["wk"]), ("v", c["wv"])):
        got = t.get(f"convert.{key}")
        if got is None:
            raise Fail(Problem("no converted {key} weight", "沒有轉換後的 {key} 權重", key=key))
        assert_close(got, ref.mean_pool(w, c["heads"], c["groups"]), atol=atol,
                     what=f"converted {key}_proj")
    q = t.get("convert.q")
    if q is None:
        raise Fail(Problem("no converted q weight", "沒有轉換後的 q 權重"))
    assert_close(q, c["wq"], atol=atol, what="q_proj (must be kept)")
    # the run's own checkpoints
    heads = int(ctx.params.get("model", {}).get("heads", 4))
    groups = ctx.params.get("groups", {"gqa": 2, "mqa": 1})
    mha = ctx.tensors("mha.safetensors")
    for name in ("gqa", "mqa"):
        conv = ctx.tensors(f"{name}.safetensors")
        if set(conv) != set(mha):
            raise Fail(Problem("{name}.safetensors has other tensors than mha.safetensors",
                               "{name}.safetensors 的張量與 mha.safetensors 不同", name=name))
        for key, w in mha.items():
            want = (ref.mean_pool(w, heads, int(groups[name]))
                    if key.endswith(("attn.k_proj.weight", "attn.v_proj.weight")) else w)
            assert_close(conv[key], want, atol=atol, what=f"{name}.safetensors {key}")
    return None


@check("heldout-loss")
def heldout_loss(ctx: Context) -> dict[str, Any] | None:
    """The grader's held-out loss of each checkpoint; uptraining must recover from conversion."""
    import torch

    if ctx.lab_dir is None or ctx.heldout is None:
        raise RuntimeError("the lab directory and held-out file are needed")
    tiny_lm = _load(Path(ctx.lab_dir) / "tiny_lm.py", "_lab_1_6_tiny_lm")
    ref = _ref()
    cfg = {k: int(v) for k, v in ctx.params.get("model", {}).items()}
    groups = ctx.params.get("groups", {"gqa": 2, "mqa": 1})
    kv = {"mha": cfg["heads"], "gqa": int(groups["gqa"]), "mqa": int(groups["mqa"]),
          "gqa_uptrained": int(groups["gqa"])}
    text = Path(ctx.heldout).read_text(encoding="utf-8")
    ids = list(text.encode("utf-8"))
    seq = int(ctx.params.get("seq_len", 64))
    losses: dict[str, float] = {}
    for name in CHECKPOINTS:
        model = tiny_lm.build(cfg, 0, ref.RefAttention, kv_heads=kv[name])
        state = ctx.tensors(f"{name}.safetensors")
        try:
            model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
        except (RuntimeError, KeyError) as exc:
            raise Fail(Problem("{name}.safetensors does not fit the lab's model: {why}",
                               "{name}.safetensors 與本實驗的模型不符：{why}", name=name,
                               why=str(exc).splitlines()[0][:200])) from None
        model.eval()
        with torch.no_grad():
            losses[name] = tiny_lm.heldout_loss(model, ids, seq)
    for name, value in losses.items():
        number(value, f"held-out loss of {name}")
    margin = number(ctx.params.get("uptrain_margin", 0.0), "uptrain_margin")
    if not losses["gqa_uptrained"] < losses["gqa"] - margin:
        raise Fail(Problem("uptraining did not recover: held-out loss {up:.4f} after, {conv:.4f} "
                           "right after conversion", "uptraining 沒有恢復：之後保留損失 {up:.4f}，"
                           "剛轉換後 {conv:.4f}", up=losses["gqa_uptrained"], conv=losses["gqa"]))
    return {"heldout_loss": losses,
            "conversion_delta": {"gqa": losses["gqa"] - losses["mha"],
                                 "mqa": losses["mqa"] - losses["mha"]},
            "uptrain_delta": losses["gqa_uptrained"] - losses["gqa"]}
