"""Checks of Lab-1.1 (LoRA and QLoRA): every number is recomputed from the artifacts.

The grader rebuilds the seeded base model from the config in lab.yaml ``params.profiles`` (not from
submission code), reads the adapters and merged weights as safetensors, applies W0 + (alpha/r)·B·A
itself and evaluates the held-out loss under ``torch.no_grad``. The heavy part (torch,
transformers, bitsandbytes) runs in a child process of the grader with a timeout, so a slow or
crashing evaluation ends as ``error`` results instead of a hang.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from graders.labs.checks import CheckContext, CheckResult, make_result, text
from graders.schema_base import Text

_ROOT = Path(__file__).resolve().parents[2]
_PREFIX = "base_model.model."


def run(ctx: CheckContext) -> dict[str, CheckResult]:
    """Evaluate every Lab-1.1 check in a child process; map its verdicts onto the spec's checks."""
    params = ctx.spec.params
    timeout = float(ctx.extra.get("timeout_s", params.get("checker_timeout_s", 120)))
    job = {
        "out_dir": str(ctx.out_dir.resolve()),
        "seed": ctx.seed,
        "heldout": str(ctx.heldout) if ctx.heldout else None,
        "data_dir": str(ctx.data_dir) if ctx.data_dir else None,
        "artifacts": ctx.spec.artifacts,
        "params": params,
    }
    with tempfile.TemporaryDirectory(prefix="lab-1.1-check-") as tmp:
        job_file, result_file = Path(tmp, "job.json"), Path(tmp, "result.json")
        job_file.write_text(json.dumps(job), encoding="utf-8")
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from graders.labs.lab_1_1 import worker_main; worker_main(sys.argv[2], sys.argv[3])"
        )
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        env.update({"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(ctx.spec.cpu_threads),
                    "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": ""})
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code, str(_ROOT), str(job_file), str(result_file)],
                capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            msg = text(f"grader evaluation timed out after {timeout:.0f} s",
                       f"評分器計算逾時（{timeout:.0f} 秒）")
            return {c.id: make_result(c, "error", msg) for c in ctx.spec.checks}
        if proc.returncode != 0 or not result_file.is_file():
            tail = (proc.stderr or "")[-2000:]
            msg = text(f"grader evaluation failed (exit {proc.returncode})",
                       f"評分器計算失敗（結束碼 {proc.returncode}）")
            return {c.id: make_result(c, "error", msg, {"stderr": tail}) for c in ctx.spec.checks}
        verdicts: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    out: dict[str, CheckResult] = {}
    for c in ctx.spec.checks:
        v = verdicts.get(c.id)
        if v is None:
            continue
        out[c.id] = make_result(c, v["status"], Text.model_validate(v["message"]), v["details"])
    return out


# ---------------------------------------------------------------------------------------------
# The child process: everything below may import torch & co.
# ---------------------------------------------------------------------------------------------


class Submission(Exception):
    """An artifact is missing or malformed: the check fails (the submission's fault)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def worker_main(job_path: str, result_path: str) -> None:
    """Child-process entry: read the job, evaluate, write ``{check_id: verdict}`` as JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    verdicts = evaluate(job)
    Path(result_path).write_text(json.dumps(verdicts, allow_nan=False, default=str),
                                 encoding="utf-8")


Msg = tuple[str, str]
"""A problem in (English, zh-TW)."""


def _en(problems: list[Msg]) -> str:
    return "; ".join(p[0] for p in problems)


def _zh(problems: list[Msg]) -> str:
    return "；".join(p[1] for p in problems)


def _en_list(problems: list[Msg]) -> list[str]:
    return [p[0] for p in problems]


def _verdict(ok: bool, en: str, zh: str, **details: Any) -> dict[str, Any]:
    return {"status": "pass" if ok else "fail", "message": {"en": en, "zh-TW": zh},
            "details": _finite(details)}


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _safe_path(out_dir: Path, rel: str) -> Path:
    """``out_dir/rel``, refusing links and anything that resolves outside ``out_dir``."""
    path = out_dir / rel
    if path.is_symlink() or not path.resolve().is_relative_to(out_dir.resolve()):
        raise Submission(f"{rel}: links are not accepted", f"{rel}：不接受連結")
    if not path.is_file():
        raise Submission(f"{rel}: missing", f"{rel}：缺少")
    return path


def _read_json(out_dir: Path, rel: str, max_bytes: int) -> Any:
    path = _safe_path(out_dir, rel)
    if path.stat().st_size > max_bytes:
        raise Submission(f"{rel}: larger than {max_bytes} bytes", f"{rel}：超過 {max_bytes} 位元組")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Submission(f"{rel}: not valid JSON ({exc})", f"{rel}：不是有效的 JSON（{exc}）") from None


def _read_tensors(out_dir: Path, rel: str, max_bytes: int) -> dict[str, Any]:
    """A safetensors file as float32 CPU tensors (safetensors never executes code)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = _safe_path(out_dir, rel)
    if path.stat().st_size > max_bytes:
        raise Submission(f"{rel}: larger than {max_bytes} bytes", f"{rel}：超過 {max_bytes} 位元組")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise Submission(f"{rel}: not a readable safetensors file ({exc})",
                         f"{rel}：不是可讀取的 safetensors 檔（{exc}）") from None
    # everything becomes float32: integer / bool tensors where floats belong then fail the
    # shape and value checks instead of crashing the arithmetic
    return {k: v.float() for k, v in tensors.items()}


def _base_model(params: dict[str, Any], profile: str, seed: int) -> Any:
    """The seeded base model, exactly as the lab's tiny_model.build_base builds it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model: Any = LlamaForCausalLM(LlamaConfig(**params["profiles"][profile]))
    model.eval()
    return model


def _windows_loss(model: Any, ids: list[int], seq_len: int) -> float:
    import torch

    n = len(ids) // seq_len
    if n == 0:
        return float("nan")
    data = torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 32):
            batch = data[i : i + 32]
            total += float(model(input_ids=batch, labels=batch).loss) * len(batch)
    return total / n


def _val_split(data_dir: Path, every: int) -> list[int]:
    text_ = (data_dir / "train.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text_.split("\n\n") if p.strip()]
    val = [p for i, p in enumerate(paragraphs) if i % every == every - 1]
    return list("\n\n".join(val).encode("utf-8"))


class Adapter:
    """A LoRA adapter read from ``<dir>/adapter_model.safetensors`` + ``adapter_config.json``."""

    def __init__(self, out_dir: Path, rel_dir: str, max_bytes: int) -> None:
        self.config: dict[str, Any] = _read_json(out_dir, f"{rel_dir}/adapter_config.json",
                                                 1_000_000)
        tensors = _read_tensors(out_dir, f"{rel_dir}/adapter_model.safetensors", max_bytes)
        self.pairs: dict[str, dict[str, Any]] = {}
        self.unknown: list[str] = []
        for key, value in tensors.items():
            name = key.removeprefix(_PREFIX)
            for part in ("A", "B"):
                suffix = f".lora_{part}.weight"
                if name.endswith(suffix):
                    self.pairs.setdefault(name.removesuffix(suffix), {})[part] = value
                    break
            else:
                self.unknown.append(key)

    def problems(self, shapes: dict[str, tuple[int, int]], params: dict[str, Any]) -> list[Msg]:
        """Why this adapter is not the required one (empty: it is), as (en, zh-TW) pairs."""
        out: list[Msg] = []
        r, alpha = int(params["r"]), float(params["alpha"])
        cfg = self.config if isinstance(self.config, dict) else {}
        if cfg.get("r") != r:
            out.append((f"adapter_config r = {cfg.get('r')!r}, the lab requires {r}",
                        f"adapter_config 的 r = {cfg.get('r')!r}，本實驗要求 {r}"))
        if not isinstance(cfg.get("lora_alpha"), int | float) or float(cfg["lora_alpha"]) != alpha:
            out.append((f"adapter_config lora_alpha = {cfg.get('lora_alpha')!r}, required {alpha:g}",
                        f"adapter_config 的 lora_alpha = {cfg.get('lora_alpha')!r}，要求 {alpha:g}"))
        for flag in ("use_rslora", "use_dora"):
            if cfg.get(flag):
                out.append((f"adapter_config {flag} is set; the lab uses plain LoRA",
                            f"adapter_config 設定了 {flag}；本實驗使用標準 LoRA"))
        if self.unknown:
            out.append((f"unexpected tensors: {sorted(self.unknown)[:5]}",
                        f"非預期的張量：{sorted(self.unknown)[:5]}"))
        missing = sorted(set(shapes) - set(self.pairs))
        extra = sorted(set(self.pairs) - set(shapes))
        if missing:
            more = " ..." if len(missing) > 6 else ""
            out.append((f"modules not adapted: {missing[:6]}{more}",
                        f"未被適配的模組：{missing[:6]}{more}"))
        if extra:
            out.append((f"adapted modules that are not targets: {extra[:6]}",
                        f"被適配但不是目標的模組：{extra[:6]}"))
        for name, pair in sorted(self.pairs.items()):
            if name not in shapes:
                continue
            d, k = shapes[name]
            a, b = pair.get("A"), pair.get("B")
            if a is None or b is None:
                out.append((f"{name}: lora_A or lora_B missing", f"{name}：缺少 lora_A 或 lora_B"))
                continue
            if tuple(a.shape) != (r, k) or tuple(b.shape) != (d, r):
                got = f"A {tuple(a.shape)}, B {tuple(b.shape)}"
                want = f"A ({r}, {k}), B ({d}, {r})"
                out.append((f"{name}: {got}; expected {want}", f"{name}：{got}；應為 {want}"))
            elif not (bool(a.isfinite().all()) and bool(b.isfinite().all())):
                out.append((f"{name}: non-finite values", f"{name}：含非有限值"))
        return out

    def zero_b(self) -> list[str]:
        return sorted(n for n, p in self.pairs.items()
                      if "B" in p and float(p["B"].abs().max()) <= 1e-8)

    def numel(self) -> int:
        return sum(int(t.numel()) for p in self.pairs.values() for t in p.values())


def evaluate(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """All Lab-1.1 verdicts for one run."""
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
    params: dict[str, Any] = job["params"]
    out_dir = Path(job["out_dir"])
    seed = int(job["seed"])
    max_bytes = int(params.get("max_artifact_mb", 64)) * 1024 * 1024
    r, alpha = int(params["r"]), float(params["alpha"])
    scaling = alpha / r
    atol = float(params.get("weight_atol", 1e-4))
    tol = float(params.get("loss_tolerance", 0.02))
    targets = set(params["target_modules"])
    V: dict[str, dict[str, Any]] = {}

    # -- artifacts ------------------------------------------------------------------------------
    bad: list[Msg] = []
    for rel in job["artifacts"]:
        try:
            if rel.endswith(".json"):
                _read_json(out_dir, rel, max_bytes)
            elif rel.endswith(".safetensors"):
                _read_tensors(out_dir, rel, max_bytes)
            else:
                _safe_path(out_dir, rel)
        except Submission as exc:
            bad.append((exc.en, exc.zh))
    V["artifacts"] = _verdict(
        not bad,
        "all artifacts present and readable" if not bad else _en(bad),
        "所有產出檔齊全且可讀取" if not bad else _zh(bad), problems=_en_list(bad),
    )

    # -- the grader's own base model ------------------------------------------------------------
    metrics: dict[str, Any] = {}
    try:
        loaded = _read_json(out_dir, "metrics.json", 1_000_000)
        metrics = loaded if isinstance(loaded, dict) else {}
    except Submission:
        pass
    profile = metrics.get("profile", "cpu")
    if profile not in params["profiles"]:
        profile = "cpu"
    base = _base_model(params, profile, seed)
    w0: dict[str, Any] = {k: v.detach().clone() for k, v in base.state_dict().items()}
    shapes: dict[str, tuple[int, int]] = {
        name: (m.out_features, m.in_features)
        for name, m in base.named_modules()
        if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in targets
    }
    expected_count = sum(r * (d + k) for d, k in shapes.values())

    def load_adapter(rel_dir: str) -> tuple[Adapter | None, list[Msg]]:
        try:
            ad = Adapter(out_dir, rel_dir, max_bytes)
        except Submission as exc:
            return None, [(exc.en, exc.zh)]
        return ad, ad.problems(shapes, params)

    adapter, a_problems = load_adapter("adapter")

    # -- lora-param-count -----------------------------------------------------------------------
    count = adapter.numel() if adapter else 0
    ok = adapter is not None and not a_problems and count == expected_count
    V["lora-param-count"] = _verdict(
        ok,
        f"{count} trainable parameters = Σ r(d+k) = {expected_count} over {len(shapes)} matrices"
        if ok else f"adapter is not the required one: {_en(a_problems) or 'count mismatch'}",
        f"{count} 個可訓練參數 = Σ r(d+k) = {expected_count}（{len(shapes)} 個矩陣）"
        if ok else f"adapter 不符合要求：{_zh(a_problems) or '參數量不符'}",
        recomputed=count, expected=expected_count, problems=_en_list(a_problems),
    )

    # -- lora-b-trained -------------------------------------------------------------------------
    if adapter is None or not adapter.pairs:
        V["lora-b-trained"] = _verdict(False, "no adapter to inspect", "沒有可檢查的 adapter")
    else:
        zeros = adapter.zero_b()
        V["lora-b-trained"] = _verdict(
            not zeros,
            "every B matrix is non-zero" if not zeros else f"B is still zero in {len(zeros)} "
            f"module(s): {zeros[:4]} — the update never trained",
            "每個 B 矩陣都不為零" if not zeros else f"{len(zeros)} 個模組的 B 仍為零：{zeros[:4]}"
            "——更新從未被訓練", zero_modules=zeros,
        )

    # -- adapted model (the grader's own merge) ---------------------------------------------------
    usable = adapter is not None and not a_problems
    expected_merged: dict[str, Any] = dict(w0)
    if usable and adapter is not None:
        for name in shapes:
            p = adapter.pairs[name]
            expected_merged[f"{name}.weight"] = w0[f"{name}.weight"] + scaling * (p["B"] @ p["A"])

    heldout = job.get("heldout")
    seq_len = int(params["seq_len"][profile])
    base_held = adapted_held = float("nan")
    base_val = adapted_val = float("nan")
    val_ids: list[int] = []
    if job.get("data_dir"):
        val_ids = _val_split(Path(job["data_dir"]), int(params.get("val_every", 10)))
    if usable:
        adapted = _base_model(params, profile, seed)
        adapted.load_state_dict(expected_merged)
        if val_ids:
            base_val = _windows_loss(base, val_ids, seq_len)
            adapted_val = _windows_loss(adapted, val_ids, seq_len)
    if heldout is None:
        V["heldout-improves"] = {"status": "error", "message": {
            "en": "the grader has no held-out data for this lab",
            "zh-TW": "評分器沒有此實驗的保留資料"}, "details": {}}
    elif not usable:
        V["heldout-improves"] = _verdict(False, "no usable adapter to evaluate",
                                         "沒有可用於評估的 adapter")
    else:
        held_ids = list(Path(heldout).read_text(encoding="utf-8").encode("utf-8"))
        base_held = _windows_loss(base, held_ids, seq_len)
        adapted_held = _windows_loss(adapted, held_ids, seq_len)
        margin = float(params.get("heldout_margin", 0.5))
        gain = base_held - adapted_held
        ok = math.isfinite(gain) and gain >= margin
        V["heldout-improves"] = _verdict(
            ok,
            f"held-out loss {base_held:.3f} -> {adapted_held:.3f} (gain {gain:.3f}, "
            f"required {margin:g})",
            f"保留資料損失 {base_held:.3f} -> {adapted_held:.3f}（下降 {gain:.3f}，要求 {margin:g}）",
            base=base_held, adapted=adapted_held, gain=gain, margin=margin,
        )

    # -- merged-weights -------------------------------------------------------------------------
    try:
        merged = _read_tensors(out_dir, "merged.safetensors", max_bytes)
        if not usable:
            raise Submission("no usable adapter to compare the merge with",
                             "沒有可用於比對合併結果的 adapter")
        missing = sorted(set(w0) - set(merged))
        if missing:
            raise Submission(f"merged.safetensors lacks {missing[:4]}",
                             f"merged.safetensors 缺少 {missing[:4]}")
        worst, worst_key = 0.0, ""
        for key, want in expected_merged.items():
            got = merged[key]
            if tuple(got.shape) != tuple(want.shape):
                raise Submission(f"{key}: shape {tuple(got.shape)}, expected {tuple(want.shape)}",
                                 f"{key}：形狀 {tuple(got.shape)}，應為 {tuple(want.shape)}")
            diff = float((got - want).abs().max()) if got.numel() else 0.0
            if not math.isfinite(diff):
                diff = float("inf")
            if diff > worst:
                worst, worst_key = diff, key
        adapted_keys = [f"{n}.weight" for n in shapes]
        moved = max(float((merged[k] - w0[k]).abs().max()) for k in adapted_keys)
        ok = worst <= atol and moved > atol
        V["merged-weights"] = _verdict(
            ok,
            f"merged weights = W0 + (α/r)·BA (max |diff| {worst:.2e})" if ok else
            (f"merged weights are just W0 (max change {moved:.2e})" if moved <= atol else
             f"{worst_key} differs from W0 + (α/r)·BA by {worst:.2e} (tolerance {atol:g})"),
            f"合併權重 = W0 + (α/r)·BA（最大差 {worst:.2e}）" if ok else
            (f"合併權重仍是 W0（最大改變 {moved:.2e}）" if moved <= atol else
             f"{worst_key} 與 W0 + (α/r)·BA 相差 {worst:.2e}（容差 {atol:g}）"),
            max_abs_diff=worst, worst=worst_key, max_change=moved, atol=atol,
        )
    except Submission as exc:
        V["merged-weights"] = _verdict(False, exc.en, exc.zh)

    # -- hand-lora-matches-peft -----------------------------------------------------------------
    try:
        cmp_ = _read_tensors(out_dir, "compare.safetensors", max_bytes)
        if not usable or adapter is None:
            raise Submission("no usable adapter to recompute peft's layer",
                             "沒有可用於重算 peft 層的 adapter")
        name = str(params["compare_module"])
        d, k = shapes[name]
        for key in ("x", "y_hand", "merged_hand", "param_count_hand", "init_A", "init_B"):
            if key not in cmp_:
                raise Submission(f"compare.safetensors lacks {key!r}",
                                 f"compare.safetensors 缺少 {key!r}")
        x, y_hand, m_hand = cmp_["x"], cmp_["y_hand"], cmp_["merged_hand"]
        if x.dim() != 2 or x.shape[1] != k or x.shape[0] < 4:
            raise Submission(f"x must be (n >= 4, {k}); got {tuple(x.shape)}",
                             f"x 的形狀必須是 (n >= 4, {k})；實際為 {tuple(x.shape)}")
        if not bool(x.isfinite().all()) or float(x.std()) < 0.1:
            raise Submission("x is degenerate (non-finite or nearly constant)",
                             "x 退化（非有限值或幾乎為常數）")
        p = adapter.pairs[name]
        w = w0[f"{name}.weight"]
        update = scaling * (x @ p["A"].T) @ p["B"].T
        y_want = x @ w.T + update
        if tuple(y_hand.shape) != tuple(y_want.shape) or tuple(m_hand.shape) != (d, k):
            raise Submission(f"y_hand {tuple(y_hand.shape)} / merged_hand {tuple(m_hand.shape)} "
                             f"have the wrong shape", "y_hand / merged_hand 的形狀錯誤")
        scale = 1.0 + float(y_want.abs().max())
        y_err = float((y_hand - y_want).abs().max())
        m_err = float((m_hand - expected_merged[f"{name}.weight"]).abs().max())
        signal = float(update.abs().max())
        count_hand = int(cmp_["param_count_hand"].flatten()[0])
        problems: list[Msg] = []
        if not y_err <= atol * scale:
            problems.append((f"forward differs from W0·x + (α/r)·B·A·x by {y_err:.2e}",
                             f"forward 與 W0·x + (α/r)·B·A·x 相差 {y_err:.2e}"))
        if not m_err <= atol * scale:
            problems.append((f"merged_weight differs from W0 + (α/r)·B·A by {m_err:.2e}",
                             f"merged_weight 與 W0 + (α/r)·B·A 相差 {m_err:.2e}"))
        if signal <= 10 * atol * scale:
            problems.append(("the LoRA update is too small on these inputs to tell the layers "
                             "apart (train first)",
                             "在這些輸入上 LoRA 更新太小，無法區分兩個層（請先訓練）"))
        init_a, init_b = cmp_["init_A"], cmp_["init_B"]
        if tuple(init_a.shape) != (r, k) or tuple(init_b.shape) != (d, r):
            got = f"A {tuple(init_a.shape)} / B {tuple(init_b.shape)}"
            want = f"({r}, {k}) / ({d}, {r})"
            problems.append((f"initial {got}: expected {want}", f"初始 {got}：應為 {want}"))
        else:
            if not float(init_b.abs().max()) == 0.0:
                problems.append(("your layer does not start with B = 0, so it does not start "
                                 "as the frozen layer",
                                 "你的層初始時 B 不為 0，因此一開始就不等於凍結的層"))
            if not float(init_a.abs().max()) > 0.0:
                problems.append(("your layer starts with A = 0: no gradient would reach A or B",
                                 "你的層初始時 A = 0：梯度永遠到不了 A 或 B"))
        if count_hand != r * (d + k):
            problems.append((f"lora_param_count gave {count_hand}, r(d+k) = {r * (d + k)}",
                             f"lora_param_count 回傳 {count_hand}，r(d+k) = {r * (d + k)}"))
        V["hand-lora-matches-peft"] = _verdict(
            not problems,
            f"your layer matches peft on {name} (max |diff| {y_err:.2e})" if not problems
            else _en(problems),
            f"手寫層在 {name} 上與 peft 一致（最大差 {y_err:.2e}）" if not problems
            else _zh(problems),
            forward_err=y_err, merged_err=m_err, update_max=signal, param_count=count_hand,
        )
    except Submission as exc:
        V["hand-lora-matches-peft"] = _verdict(False, exc.en, exc.zh)

    # -- qlora-adapter --------------------------------------------------------------------------
    qadapter, q_problems = load_adapter("qlora/adapter")
    if qadapter is not None and not q_problems:
        qzeros = qadapter.zero_b()
        if qzeros:
            q_problems.append((f"B is still zero in {len(qzeros)} module(s)",
                               f"{len(qzeros)} 個模組的 B 仍為零"))
        if qadapter.numel() != expected_count:
            q_problems.append((f"{qadapter.numel()} parameters, expected {expected_count}",
                               f"{qadapter.numel()} 個參數，應為 {expected_count}"))
    V["qlora-adapter"] = _verdict(
        not q_problems,
        f"QLoRA adapter: {expected_count} parameters, every B trained" if not q_problems
        else _en(q_problems),
        f"QLoRA adapter：{expected_count} 個參數，每個 B 都已訓練" if not q_problems
        else _zh(q_problems), problems=_en_list(q_problems),
    )

    # -- metrics-consistent ---------------------------------------------------------------------
    flags: list[Msg] = []
    lora_m = metrics.get("lora") if isinstance(metrics.get("lora"), dict) else None
    if not metrics or lora_m is None:
        flags.append(("metrics.json missing or without a 'lora' section",
                      "metrics.json 不存在或沒有 'lora' 區段"))
    else:
        if metrics.get("seed") != seed:
            flags.append((f"seed {metrics.get('seed')!r} reported, the run used {seed}",
                          f"回報的 seed 為 {metrics.get('seed')!r}，實際執行使用 {seed}"))
        if lora_m.get("trainable_params") != count or count != expected_count:
            claimed = lora_m.get("trainable_params")
            flags.append((f"trainable_params {claimed!r} reported, {count} in the adapter, "
                          f"{expected_count} by r(d+k)",
                          f"回報 trainable_params {claimed!r}，adapter 中有 {count}，"
                          f"依 r(d+k) 應為 {expected_count}"))
        for key, want in (("val_loss_base", base_val), ("val_loss_final", adapted_val)):
            got = lora_m.get(key)
            if not math.isfinite(want):
                flags.append((f"{key}: cannot recompute (no usable adapter or no data)",
                              f"{key}：無法重算（沒有可用的 adapter 或資料）"))
            elif not isinstance(got, int | float) or not abs(float(got) - want) <= tol:
                flags.append((f"{key} {got!r} reported, {want:.4f} recomputed",
                              f"回報 {key} {got!r}，重算為 {want:.4f}"))
    V["metrics-consistent"] = _verdict(
        not flags,
        "metrics.json agrees with the recomputed numbers" if not flags
        else "metrics.json does not match the artifacts (flagged): " + _en(flags),
        "metrics.json 與重算結果一致" if not flags
        else "metrics.json 與產出檔不符（已標記）：" + _zh(flags),
        flags=_en_list(flags), recomputed={"val_loss_base": base_val, "val_loss_final": adapted_val,
                                 "trainable_params": expected_count},
    )

    # -- qlora-memory ---------------------------------------------------------------------------
    try:
        mem = _read_json(out_dir, "qlora/memory.json", 1_000_000)
        if not isinstance(mem, dict) or not isinstance(mem.get("layers"), dict):
            raise Submission("qlora/memory.json needs a 'layers' mapping",
                             "qlora/memory.json 需要 'layers' 對照表")
        want_layers = _nf4_bytes(base)
        problems = []
        reported: dict[str, Any] = mem["layers"]
        if set(reported) != set(want_layers):
            miss = sorted(set(want_layers) - set(reported))
            extra = sorted(set(reported) - set(want_layers))
            problems.append((f"layers differ from the quantized linears: missing {miss[:4]}, "
                             f"extra {extra[:4]}",
                             f"層與被量化的線性層不符：缺少 {miss[:4]}，多出 {extra[:4]}"))
        def bad_for(variant: str) -> list[str]:
            return [
                n for n, v in want_layers.items()
                if n in reported and (not isinstance(reported[n], dict)
                                      or reported[n].get("fp32_bytes") != v["fp32_bytes"]
                                      or reported[n].get("nf4_bytes") != v[variant])
            ]

        # without double quantization (what the lab asks for), or with it; compare against the
        # layout that fits the report best
        variant = min(("plain", "double"), key=lambda var: len(bad_for(var)))
        bad_layers = bad_for(variant)
        if bad_layers:
            problems.append((f"bytes differ from the recomputation in {bad_layers[:4]}",
                             f"以下各層的位元組數與重算結果不符：{bad_layers[:4]}"))
        fp32 = sum(v["fp32_bytes"] for v in want_layers.values())
        nf4 = sum(v[variant] for v in want_layers.values())
        if mem.get("fp32_bytes") != fp32 or mem.get("nf4_bytes") != nf4:
            got = f"{mem.get('nf4_bytes')!r} / {mem.get('fp32_bytes')!r}"
            problems.append((f"totals {got} reported, {nf4} / {fp32} recomputed",
                             f"回報總計 {got}，重算為 {nf4} / {fp32}"))
        ratio = fp32 / nf4 if nf4 else float("nan")
        V["qlora-memory"] = _verdict(
            not problems,
            f"NF4 {nf4} B vs fp32 {fp32} B: {ratio:.2f}x smaller" if not problems
            else _en(problems),
            f"NF4 {nf4} 位元組 vs fp32 {fp32} 位元組：小 {ratio:.2f} 倍" if not problems
            else _zh(problems),
            nf4_bytes=nf4, fp32_bytes=fp32, ratio=ratio, variant=variant,
        )
    except Submission as exc:
        V["qlora-memory"] = _verdict(False, exc.en, exc.zh)
    return V


def _nf4_bytes(base: Any) -> dict[str, dict[str, int]]:
    """Bytes of every linear layer transformers quantizes (all but lm_head) in NF4 and fp32.

    Quantizes the grader's own base weights with bitsandbytes (block size 64): ``plain`` = packed
    uint8 values + fp32 absmax per block; ``double`` = with the absmax quantized again (8-bit +
    fp32 scale per 256 blocks).
    """
    import torch

    bnbf: Any
    try:
        import bitsandbytes.functional as bnbf
    except ImportError:  # arithmetic fallback, same layout
        bnbf = None
    out: dict[str, dict[str, int]] = {}
    for name, m in base.named_modules():
        if not isinstance(m, torch.nn.Linear) or name == "lm_head":
            continue
        d, k = m.out_features, m.in_features
        if bnbf is not None:
            packed, qs = bnbf.quantize_4bit(m.weight.data.contiguous(), blocksize=64,
                                            quant_type="nf4")
            plain = packed.numel() * packed.element_size() + qs.absmax.numel() * 4
            _, qs2 = bnbf.quantize_4bit(m.weight.data.contiguous(), blocksize=64,
                                        quant_type="nf4", compress_statistics=True)
            double = (packed.numel() * packed.element_size()
                      + qs2.absmax.numel() * qs2.absmax.element_size()
                      + qs2.state2.absmax.numel() * qs2.state2.absmax.element_size())
        else:
            blocks = -(-d * k // 64)
            plain = -(-d * k // 2) + blocks * 4
            double = -(-d * k // 2) + blocks + -(-blocks // 256) * 4
        out[name] = {"fp32_bytes": d * k * 4, "plain": plain, "double": double}
    return out
