"""Checks of Lab-1.3 (DeepSpeed ZeRO-1/2/3 and ZeRO-Offload), on the check kit.

What is recomputed, and from what:
- the learner's config files (read as JSON from the submission) against the run they belong to:
  the ZeRO stage, optimizer offload only where asked, and train_batch = micro × accumulation ×
  ranks; the engine's own view of each config (config.json) must agree;
- every run's saved weights go into the grader's own seeded model, whose held-out loss must fall by
  the margin;
- the element counts each rank read from its engine (states.json) against ZeRO's partitioning,
  re-derived from the config's stage and the model's Ψ (Rajbhandari et al. 2020, "ZeRO: Memory
  Optimizations Toward Training Trillion Parameter Models", §5: P_os, P_os+g, P_os+g+p; Ren et al.
  2021, "ZeRO-Offload": the optimizer partition in CPU memory);
- each rank's fp32 master partition (partition.safetensors) against the grader's own slice of the
  saved weights, so numbers written without running DeepSpeed do not pass;
- the gathered stage-3 weights against the stage-0 run's;
- DeepSpeed's own estimators (recomputed here) against the learner's estimates.json and against
  the project's estimator (graders.estimate, convention ``deepspeed``).
"""

from __future__ import annotations

import math
from typing import Any

from graders.labs.kit import (
    ArtifactError,
    Context,
    Fail,
    Problem,
    check,
    compare_state_dicts,
    fail,
    heldout_loss,
    integer,
    read_json,
    seq_len,
    tiny_model,
)

RUNS: dict[str, tuple[int, bool]] = {
    "zero0": (0, False), "zero1": (1, False), "zero2": (2, False), "zero3": (3, False),
    "zero2_offload": (2, True),
}
"""Run directory -> (ZeRO stage, optimizer offloaded to the CPU)."""
CONFIGS: dict[str, str] = {"zero1": "ds_zero1.json", "zero2": "ds_zero2.json",
                           "zero3": "ds_zero3.json", "zero2_offload": "ds_zero2_offload.json"}
"""Run directory -> the learner's config file."""


# -- shared state (built once per grading, kept in ctx.cache) ---------------------------------------


def _model_facts(ctx: Context) -> dict[str, Any]:
    """Ψ, parameter names in order, each parameter's size, the initial held-out loss."""
    if "facts" not in ctx.cache:
        model = tiny_model(ctx)
        named = list(model.named_parameters())
        ctx.cache["facts"] = {
            "psi": sum(p.numel() for _, p in named),
            "names": [n for n, _ in named],
            "sizes": [p.numel() for _, p in named],
            "largest_module": max(sum(p.numel() for p in m.parameters(recurse=False))
                                  for m in model.modules()),
            "heldout_init": heldout_loss(model, ctx, seq_len(ctx)),
        }
    out: dict[str, Any] = ctx.cache["facts"]
    return out


def _weights(ctx: Context, run: str) -> dict[str, Any]:
    key = f"w-{run}"
    if key not in ctx.cache:
        ctx.cache[key] = ctx.tensors(f"{run}/model.safetensors", float32=True)
    out: dict[str, Any] = ctx.cache[key]
    return out


def _states(ctx: Context, run: str, rank: int) -> dict[str, Any]:
    raw = ctx.json(f"{run}/rank{rank}/states.json")
    if not isinstance(raw, dict):
        raise fail("{run}/rank{r}/states.json is not an object", "{run}/rank{r}/states.json 不是物件",
                   run=run, r=rank)
    big = 10**9
    out: dict[str, Any] = {k: integer(raw.get(k), f"{run}/rank{rank} {k}", lo=0, hi=big)
                           for k in ("params", "grads", "optimizer", "stage")}
    out["master_partition"] = integer(raw.get("master_partition", 0),
                                      f"{run}/rank{rank} master_partition", lo=0, hi=big)
    dev = raw.get("optimizer_device")
    out["optimizer_device"] = dev if isinstance(dev, str) else ""
    off = raw.get("offload")
    out["offload"] = off if isinstance(off, str) else ""
    return out


def _config_file(ctx: Context, name: str) -> dict[str, Any]:
    try:
        cfg = read_json(ctx.submission_dir, name, 100_000)
    except ArtifactError as exc:
        raise Fail(Problem(exc.en, exc.zh)) from None
    if not isinstance(cfg, dict):
        raise fail("{name} is not a JSON object", "{name} 不是 JSON 物件", name=name)
    return cfg


def _positive_int(cfg: dict[str, Any], key: str, name: str) -> int:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**6:
        raise fail("{name}: {key} must be a positive integer, not {value}",
                   "{name}：{key} 必須是正整數，而不是 {value}", name=name, key=key,
                   value=str(value)[:40])
    return value


# -- checks ----------------------------------------------------------------------------------------


@check("configs")
def configs(ctx: Context) -> dict[str, Any] | None:
    """Stage, offload and batch arithmetic of every config; the engine ran them as written."""
    world = ctx.spec.ranks
    details: dict[str, Any] = {}
    for run, name in CONFIGS.items():
        stage, offload = RUNS[run]
        cfg = _config_file(ctx, name)
        zero = cfg.get("zero_optimization")
        if not isinstance(zero, dict) or zero.get("stage") != stage or isinstance(
                zero.get("stage"), bool):
            raise fail("{name}: zero_optimization.stage must be {stage}",
                       "{name}：zero_optimization.stage 必須是 {stage}", name=name, stage=stage)
        opt_off = zero.get("offload_optimizer")
        device = opt_off.get("device") if isinstance(opt_off, dict) else None
        if offload and device != "cpu":
            raise fail("{name}: zero_optimization.offload_optimizer.device must be \"cpu\"",
                       "{name}：zero_optimization.offload_optimizer.device 必須是 \"cpu\"", name=name)
        if not offload and device not in (None, "none"):
            raise fail("{name}: only ds_zero2_offload.json offloads the optimizer",
                       "{name}：只有 ds_zero2_offload.json 要卸載優化器", name=name)
        total = _positive_int(cfg, "train_batch_size", name)
        micro = _positive_int(cfg, "train_micro_batch_size_per_gpu", name)
        accum = _positive_int(cfg, "gradient_accumulation_steps", name)
        if total != micro * accum * world:
            raise fail("{name}: train_batch_size {total} ≠ micro-batch {micro} × accumulation "
                       "{accum} × ranks {world}",
                       "{name}：train_batch_size {total} ≠ micro-batch {micro} × 累積步數 {accum} × "
                       "rank 數 {world}", name=name, total=total, micro=micro, accum=accum,
                       world=world)
        ran = ctx.json(f"{run}/config.json")
        if not isinstance(ran, dict):
            raise fail("{run}/config.json is not an object", "{run}/config.json 不是物件", run=run)
        engine = {k: integer(ran.get(k), f"{run}/config.json {k}", lo=0, hi=10**6)
                  for k in ("train_batch_size", "train_micro_batch_size_per_gpu",
                            "gradient_accumulation_steps", "world", "zero_stage")}
        want = {"train_batch_size": total, "train_micro_batch_size_per_gpu": micro,
                "gradient_accumulation_steps": accum, "world": world, "zero_stage": stage}
        if engine != want:
            raise fail("{run}: the engine ran {engine}, but {name} says {want}",
                       "{run}：引擎實際執行 {engine}，但 {name} 寫的是 {want}", run=run,
                       engine=engine, name=name, want=want)
        details[run] = f"stage {stage}, {micro}×{accum}×{world} = {total}"
    return details


@check("stages-train")
def stages_train(ctx: Context) -> dict[str, Any] | None:
    """Each run's held-out loss, recomputed from its saved weights, falls by the margin."""
    facts = _model_facts(ctx)
    margin = float(ctx.params.get("heldout_margin", 1.0))
    expected = {k: v.detach().float() for k, v in tiny_model(ctx).state_dict().items()}
    out: dict[str, Any] = {"initial": round(facts["heldout_init"], 4)}
    for run in RUNS:
        weights = _weights(ctx, run)
        compare_state_dicts(weights, expected, math.inf, what=f"{run}/model.safetensors")
        model = tiny_model(ctx)
        model.load_state_dict({k: weights[k] for k in expected}, strict=True)
        loss = heldout_loss(model, ctx, seq_len(ctx))
        if not facts["heldout_init"] - loss >= margin:
            raise fail("{run}: held-out loss {loss:.3f}, the initial model's {init:.3f}: it must "
                       "fall by at least {margin:g}",
                       "{run}：保留資料損失 {loss:.3f}，初始模型為 {init:.3f}：必須至少下降 {margin:g}",
                       run=run, loss=loss, init=facts["heldout_init"], margin=margin)
        out[run] = round(loss, 4)
    return out


def _expected_counts(psi: int, world: int, stage: int) -> dict[str, tuple[int, bool]]:
    """Elements per rank and whether the quantity is partitioned: parameters, gradients and
    optimizer states (fp32 training: Adam's m and v, plus the fp32 master copy under ZeRO)."""
    part = psi / world
    return {
        "params": (math.ceil(part), True) if stage >= 3 else (psi, False),
        "grads": (math.ceil(part), True) if stage >= 2 else (psi, False),
        "optimizer": (math.ceil(3 * part), True) if stage >= 1 else (2 * psi, False),
    }


@check("partition-sizes")
def partition_sizes(ctx: Context) -> dict[str, Any] | None:
    """states.json of every rank against Ψ or Ψ/N_d per quantity and stage."""
    facts = _model_facts(ctx)
    psi, world = int(facts["psi"]), ctx.spec.ranks
    # a partition may hold more than Ψ/N_d: DeepSpeed pads each stage-3 parameter to a multiple
    # of N_d, aligns flat buffers, and stage 2 keeps whole the gradient of the parameter that
    # straddles its partition boundary
    slack = max(facts["sizes"]) + world * len(facts["sizes"]) + 64 * world
    out: dict[str, Any] = {"psi": psi, "world": world}
    for run, (stage, offload) in RUNS.items():
        for r in range(world):
            st = _states(ctx, run, r)
            if st["stage"] != stage:
                raise fail("{run}/rank{r}: the engine ran stage {got}, expected {stage}",
                           "{run}/rank{r}：引擎執行的是 stage {got}，應為 {stage}",
                           run=run, r=r, got=st["stage"], stage=stage)
            for key, (want, partitioned) in _expected_counts(psi, world, stage).items():
                got = st[key]
                room = slack * (3 if key == "optimizer" else 1) if partitioned else 0
                if not want <= got <= want + room:
                    raise fail("{run}/rank{r}: {key} holds {got} elements; ZeRO stage {stage} on "
                               "{world} ranks gives {want}{plus}",
                               "{run}/rank{r}：{key} 有 {got} 個元素；ZeRO stage {stage}、{world} 個 "
                               "rank 應為 {want}{plus}", run=run, r=r, key=key, got=got,
                               stage=stage, world=world, want=want,
                               plus=f" (+ up to {room} padding)" if room else "")
            if offload and (st["offload"] != "cpu" or st["optimizer_device"] != "cpu"):
                raise fail("{run}/rank{r}: the optimizer states are on {dev}, not in CPU memory",
                           "{run}/rank{r}：優化器狀態位於 {dev}，而不是 CPU 記憶體",
                           run=run, r=r, dev=st["optimizer_device"] or "?")
        out[run] = {k: v[0] for k, v in _expected_counts(psi, world, stage).items()}
    return out


def _expected_partition(ctx: Context, run: str, stage: int, rank: int, size: int) -> Any:
    """The grader's slice of ``run``'s saved weights that rank ``rank`` should hold (``size``
    elements; padding beyond the weights is zero-filled and not compared)."""
    import torch

    facts = _model_facts(ctx)
    weights = _weights(ctx, run)
    world = ctx.spec.ranks
    flats = [weights[n].reshape(-1) for n in facts["names"]]
    if stage in (1, 2):  # one flat buffer of every parameter, cut into N_d equal parts
        flat = torch.cat(flats)
        seg = flat[rank * size : (rank + 1) * size]
        return seg, seg.numel()
    segs = []  # stage 3: every parameter cut into N_d parts of ceil(n / N_d)
    for f in flats:
        k = -(-f.numel() // world)
        s = torch.zeros(k)
        piece = f[rank * k : (rank + 1) * k]
        s[: piece.numel()] = piece
        segs.append(s)
    full = torch.cat(segs)
    return full, full.numel()


@check("partition-content")
def partition_content(ctx: Context) -> dict[str, Any] | None:
    """Each rank's fp32 master partition has its claimed size and is the grader's slice."""
    atol = float(ctx.params.get("partition_atol", 1e-5))
    worst = 0.0
    for run, (stage, _) in RUNS.items():
        if stage == 0:
            continue
        for r in range(ctx.spec.ranks):
            st = _states(ctx, run, r)
            part = ctx.tensors(f"{run}/rank{r}/partition.safetensors", float32=True).get("fp32")
            if part is None or part.dim() != 1:
                raise fail("{run}/rank{r}/partition.safetensors needs one flat tensor \"fp32\"",
                           "{run}/rank{r}/partition.safetensors 需要一個扁平張量 \"fp32\"",
                           run=run, r=r)
            if part.numel() != st["master_partition"]:
                raise fail("{run}/rank{r}: the saved partition has {got} elements, states.json "
                           "says {claim}",
                           "{run}/rank{r}：儲存的分片有 {got} 個元素，states.json 卻說 {claim}",
                           run=run, r=r, got=part.numel(), claim=st["master_partition"])
            psi, world = int(_model_facts(ctx)["psi"]), ctx.spec.ranks
            if part.numel() * world < psi:
                raise fail("{run}/rank{r}: {world} partitions of {got} elements cannot hold the "
                           "{psi} parameters", "{run}/rank{r}：{world} 個各 {got} 元素的分片裝不下 "
                           "{psi} 個參數", run=run, r=r, world=world, got=part.numel(), psi=psi)
            want, n = _expected_partition(ctx, run, stage, r, part.numel())
            if stage == 3 and n != part.numel():
                raise fail("{run}/rank{r}: a stage-3 partition of this model has {want} elements, "
                           "not {got}", "{run}/rank{r}：此模型的 stage-3 分片應有 {want} 個元素，而不是 "
                           "{got}", run=run, r=r, want=n, got=part.numel())
            diff = float((part[:n] - want[:n]).abs().max()) if n else 0.0
            if not diff <= atol:
                raise fail("{run}/rank{r}: the saved partition differs from the grader's slice of "
                           "the saved weights by {diff:.2e}",
                           "{run}/rank{r}：儲存的分片與評分器從儲存權重切出的分片相差 {diff:.2e}",
                           run=run, r=r, diff=diff)
            worst = max(worst, diff)
    return {"max_abs_diff": worst}


@check("zero3-equals-zero0")
def zero3_equals_zero0(ctx: Context) -> dict[str, Any] | None:
    """Gathered stage-3 weights = stage-0 weights within tolerance."""
    diff, key = compare_state_dicts(_weights(ctx, "zero3"), _weights(ctx, "zero0"),
                                    float(ctx.params.get("zero3_atol", 5e-3)),
                                    what="zero3 vs zero0 weights")
    return {"max_abs_diff": diff, "worst_key": key}


def _deepspeed_estimates(psi: int, largest: int, world: int) -> dict[str, dict[str, int]]:
    """DeepSpeed's own estimators, called here (arithmetic only; no engine is started)."""
    import os

    os.environ.setdefault("DS_ACCELERATOR", "cpu")  # no CUDA probing in the grader
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    out: dict[str, dict[str, int]] = {}
    for name, offload in (("zero2", False), ("zero2_offload", True)):
        cpu, gpu = estimate_zero2_model_states_mem_needs(psi, num_gpus_per_node=world,
                                                         cpu_offload=offload)
        out[name] = {"gpu_bytes": int(gpu), "cpu_bytes": int(cpu)}
    cpu, gpu, _ = estimate_zero3_model_states_mem_needs(psi, largest, num_gpus_per_node=world,
                                                        cpu_offload=False)
    out["zero3"] = {"gpu_bytes": int(gpu), "cpu_bytes": int(cpu)}
    return out


def _project_estimates(ctx: Context, psi: int, world: int) -> dict[str, dict[str, float]]:
    """graders.estimate with DeepSpeed's accounting, for the lab's model shape."""
    from graders.estimate import ModelShape, Setup, estimate

    prof = ctx.params["profiles"]["cpu"]
    shape = ModelShape(layers=int(prof["num_hidden_layers"]), hidden=int(prof["hidden_size"]),
                       heads=int(prof["num_attention_heads"]), vocab=int(prof["vocab_size"]),
                       ffn=int(prof["intermediate_size"]))
    out: dict[str, dict[str, float]] = {}
    for name, zero, offload in (("zero2", 2, "none"), ("zero2_offload", 2, "optimizer"),
                                ("zero3", 3, "none")):
        e = estimate(Setup(params=psi, shape=shape, gpus=world, zero=zero,
                           offload=offload,  # type: ignore[arg-type]
                           convention="deepspeed"))
        out[name] = {"gpu_bytes": e.model_state_gpu_bytes, "cpu_bytes": e.cpu_bytes}
    return out


@check("estimator-agrees")
def estimator_agrees(ctx: Context) -> dict[str, Any] | None:
    """estimates.json = DeepSpeed's estimators (recomputed) ≈ the project's estimator."""
    facts = _model_facts(ctx)
    psi, world = int(facts["psi"]), ctx.spec.ranks
    ds = _deepspeed_estimates(psi, int(facts["largest_module"]), world)
    ours = _project_estimates(ctx, psi, world)
    claimed = ctx.json("estimates.json")
    if not isinstance(claimed, dict):
        raise fail("estimates.json is not an object", "estimates.json 不是物件")
    rtol = float(ctx.params.get("estimate_rtol", 1e-3))
    for name, want in ds.items():
        got = claimed.get(name)
        for key, value in want.items():
            claim = integer(got.get(key) if isinstance(got, dict) else None,
                            f"estimates.json {name}.{key}", lo=0, hi=10**15)
            if claim != value:
                raise fail("estimates.json {name}.{key} = {claim}, DeepSpeed's estimator gives "
                           "{value}", "estimates.json {name}.{key} = {claim}，DeepSpeed 的估算函式為 "
                           "{value}", name=name, key=key, claim=claim, value=value)
            mine = ours[name][key]
            if abs(mine - value) > rtol * max(value, 1):
                raise RuntimeError(f"graders.estimate {name}.{key} = {mine}, DeepSpeed {value}")
    return {"deepspeed": ds, "estimator": {k: {kk: round(vv) for kk, vv in v.items()}
                                           for k, v in ours.items()}}
