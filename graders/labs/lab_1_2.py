"""Checks of Lab-1.2 (data parallelism with DDP, ring all-reduce by hand), on the check kit.

What is recomputed, and from what:
- the learner's ``ring_all_reduce`` is run by the probe ``ring-allreduce``
  (graders/labs/probes/lab_1_2_ring.py) on 3 ranks with the collectives blocked; the grader rebuilds
  every rank's inputs from the probe seed and sums them itself, and compares the bytes the probe
  counted with the ring's 2(p − 1)/p · M per rank (Patarasuk & Yuan 2009; Thakur et al. 2005);
- the shards and batches of every rank (rank<r>/steps.json) against DistributedSampler's contract:
  equal, disjoint shards covering all but fewer than p windows (Li et al. 2020, PyTorch DDP);
- the weights every rank saved after the DDP run and after the ring run, against each other;
- a single-process run of the grader's own seeded model on the same global batches (the union of
  the ranks' batches at each step): DDP averages the gradients of equal per-rank batches, so its
  loss curve (the mean of the ranks' losses) and weights equal that run's up to rounding.
"""

from __future__ import annotations

from typing import Any

from graders.labs.kit import (
    Context,
    Fail,
    Problem,
    assert_close,
    check,
    compare_state_dicts,
    fail,
    integer,
    labcommon,
    number,
    seq_len,
    tiny_model,
)

PROBE = "ring-allreduce"
"""The probe id of lab.yaml."""


# -- shared state (built once per grading, kept in ctx.cache) ---------------------------------------


def _windows(ctx: Context) -> Any:
    """The training windows [n, seq_len] the run was given (the grader's own split)."""
    if "windows" not in ctx.cache:
        if ctx.data_dir is None:
            raise RuntimeError("the grader has no training data for this lab")
        lc = labcommon(ctx)
        train_ids, _ = lc.load_corpus(ctx.data_dir, val_every=int(ctx.params.get("val_every", 10)))
        ctx.cache["windows"] = lc.windows(train_ids, seq_len(ctx))
    return ctx.cache["windows"]


def _int_list(value: Any, name: str, hi: int) -> list[int]:
    if not isinstance(value, list) or len(value) > hi:  # a shard never exceeds the windows
        raise fail("{name} must be a list of window indices", "{name} 必須是視窗索引的清單",
                   name=name)
    return [integer(v, name, lo=0, hi=hi - 1) for v in value]


def _steps(ctx: Context) -> list[dict[str, Any]]:
    """Every rank's steps.json, validated: shards, batches and losses."""
    if "steps" in ctx.cache:
        cached: list[dict[str, Any]] = ctx.cache["steps"]
        return cached
    n = len(_windows(ctx))
    b = int(ctx.params["per_rank_batch"])
    steps = int(ctx.params["steps"])
    out: list[dict[str, Any]] = []
    for r, _ in enumerate(ctx.ranks()):
        raw = ctx.json(f"rank{r}/steps.json")
        if not isinstance(raw, dict):
            raise fail("rank{r}/steps.json is not an object", "rank{r}/steps.json 不是物件", r=r)
        shards = raw.get("shards")
        batches = raw.get("batches")
        if not isinstance(shards, list) or not shards or len(shards) > 100:
            raise fail("rank{r}/steps.json: shards must list every epoch's shard",
                       "rank{r}/steps.json：shards 必須列出每個 epoch 的分片", r=r)
        if not isinstance(batches, list) or len(batches) != steps:
            raise fail("rank{r}/steps.json: batches must list the {steps} steps' window indices",
                       "rank{r}/steps.json：batches 必須列出 {steps} 步各自的視窗索引", r=r,
                       steps=steps)
        parsed_batches = [_int_list(x, f"rank{r} batches[{i}]", n) for i, x in enumerate(batches)]
        for i, x in enumerate(parsed_batches):
            if len(x) != b:
                raise fail("rank{r}: step {i} has {got} windows, the per-rank batch is {b}",
                           "rank{r}：第 {i} 步有 {got} 個視窗，每個 rank 的 batch 應為 {b}",
                           r=r, i=i, got=len(x), b=b)
        losses = {}
        for key in ("ddp_loss", "ring_loss"):
            vals = raw.get(key)
            if not isinstance(vals, list) or len(vals) != steps:
                raise fail("rank{r}/steps.json: {key} must hold {steps} losses",
                           "rank{r}/steps.json：{key} 必須有 {steps} 個損失值", r=r, key=key,
                           steps=steps)
            losses[key] = [number(v, f"rank{r} {key}", lo=0.0, hi=100.0) for v in vals]
        out.append({"shards": [_int_list(s, f"rank{r} shards[{e}]", n) for e, s in enumerate(shards)],
                    "batches": parsed_batches, **losses})
    ctx.cache["steps"] = out
    return out


def _same_weights(actual: dict[str, Any], expected: dict[str, Any], atol: float, en: str,
                  zh: str) -> tuple[float, str]:
    """compare_state_dicts, its failure prefixed with what was compared (``en``/``zh``)."""
    try:
        return compare_state_dicts(actual, expected, atol)
    except Fail as exc:
        raise Fail(Problem(f"{en}: {exc.en}", f"{zh}：{exc.zh}", **exc.details)) from None


def _weights(ctx: Context, rank: int, run: str) -> dict[str, Any]:
    key = f"w-{rank}-{run}"
    if key not in ctx.cache:
        ctx.cache[key] = ctx.tensors(f"rank{rank}/{run}.safetensors", float32=True)
    out: dict[str, Any] = ctx.cache[key]
    return out


# -- the probe: the learner's ring all-reduce -------------------------------------------------------


def _probe_outputs(ctx: Context) -> tuple[int, list[Any], list[dict[str, Any]], list[int]]:
    """(world, the grader's reference sums in float64, every rank's probe outputs, the bytes per
    element of every case)."""
    import torch

    from graders.labs.probes.lab_1_2_ring import draw, shapes

    res = ctx.probe(PROBE)
    world = integer(res.get("world"), "probe world", lo=2, hi=8)
    if world != ctx.spec.probe(PROBE).ranks:
        raise RuntimeError(f"the probe ran with {world} ranks, lab.yaml says "
                           f"{ctx.spec.probe(PROBE).ranks}")
    if ctx.probe_seed is None:
        raise RuntimeError("no probe seed")
    case_shapes = shapes(ctx.probe_seed, world)
    cases = len(case_shapes)
    inputs = [draw(ctx.probe_seed, r, world) for r in range(world)]
    refs = [sum((inputs[r][i].double() for r in range(world)), torch.zeros(()).double())
            for i in range(cases)]
    outs = [ctx.probe_tensors(PROBE, f"rank{r}.safetensors") for r in range(world)]
    sizes = [8 if dtype == "float64" else 4 for _, dtype, _ in case_shapes]
    return world, refs, outs, sizes


def _bytes_sent(outs: list[dict[str, Any]], cases: int) -> list[list[int]]:
    """Per rank, the bytes the probe counted through send/isend for every case."""
    sent = []
    for r, out in enumerate(outs):
        b = out.get("bytes_sent")
        if b is None or tuple(b.shape) != (cases,):
            raise fail("rank {r}: the probe's byte counts are missing", "rank {r}：探針的位元組計數遺失",
                       r=r)
        sent.append([int(v) for v in b.tolist()])
    return sent


@check("ring-allreduce")
def ring_allreduce(ctx: Context) -> dict[str, Any] | None:
    """Every rank's result equals the sum over ranks, for every awkward case, and came through
    point-to-point sends (a sum fetched from the process group directly earns nothing)."""
    world, refs, outs, _ = _probe_outputs(ctx)
    atol = float(ctx.params.get("ring_atol", 1e-4))
    sent = _bytes_sent(outs, len(refs))
    for i, ref in enumerate(refs):
        for r in range(world):
            if ref.numel() >= world and sent[r][i] == 0:
                raise fail("case {i}: rank {r} sent nothing through send/isend, so its sum did not "
                           "come from your ring", "第 {i} 個案例：rank {r} 沒有透過 send/isend 傳送任何"
                           "資料，所以它的總和不是由你的 ring 算出的", i=i, r=r)
    worst = 0.0
    for r, out in enumerate(outs):
        for i, ref in enumerate(refs):
            got = out.get(f"case{i}")
            if got is None:
                raise fail("rank {r} has no result for case {i}", "rank {r} 缺少第 {i} 個案例的結果",
                           r=r, i=i)
            shape = "×".join(str(s) for s in ref.shape) or "scalar"
            worst = max(worst, assert_close(got.double(), ref, atol=atol, rtol=1e-5,
                                            what=f"rank {r}, case {i} ({shape} elements)"))
    return {"world": world, "cases": len(refs), "max_abs_err": worst}


@check("ring-bytes")
def ring_bytes(ctx: Context) -> dict[str, Any] | None:
    """Bytes sent per rank = 2(p − 1)/p · M when p divides the size; 2(p − 1) · M in all."""
    world, refs, outs, sizes = _probe_outputs(ctx)
    sent = _bytes_sent(outs, len(refs))
    per_case = []
    for i, ref in enumerate(refs):
        m = ref.numel() * sizes[i]
        total = sum(s[i] for s in sent)
        if total != 2 * (world - 1) * m:
            raise fail("case {i} ({m} bytes): the {p} ranks sent {total} bytes together, a ring "
                       "sends 2(p−1)·M = {want}",
                       "第 {i} 個案例（{m} bytes）：{p} 個 rank 合計傳送 {total} bytes，ring 應傳送 "
                       "2(p−1)·M = {want}", i=i, m=m, p=world, total=total,
                       want=2 * (world - 1) * m)
        if ref.numel() % world == 0:
            want = 2 * (world - 1) * m // world
            for r in range(world):
                if sent[r][i] != want:
                    raise fail("case {i} ({m} bytes): rank {r} sent {got} bytes, a ring sends "
                               "2(p−1)/p·M = {want} per rank",
                               "第 {i} 個案例（{m} bytes）：rank {r} 傳送 {got} bytes，ring 每個 rank "
                               "應傳送 2(p−1)/p·M = {want}", i=i, m=m, r=r, got=sent[r][i],
                               want=want)
        per_case.append({"bytes": m, "sent_per_rank": [s[i] for s in sent]})
    return {"world": world, "cases": per_case[:8]}


# -- the training run -----------------------------------------------------------------------------


@check("shards")
def shards(ctx: Context) -> dict[str, Any] | None:
    """DistributedSampler's contract: equal, disjoint shards covering all but < p windows; each
    step's batch the next slice of the shard."""
    n = len(_windows(ctx))
    p = ctx.spec.ranks
    b = int(ctx.params["per_rank_batch"])
    st = _steps(ctx)
    epochs = min(len(s["shards"]) for s in st)
    if any(len(s["shards"]) != epochs for s in st):
        raise fail("the ranks report different numbers of epochs", "各 rank 回報的 epoch 數不同")
    for e in range(epochs):
        parts = [s["shards"][e] for s in st]
        if any(len(x) != n // p for x in parts):
            raise fail("epoch {e}: shard sizes {sizes}, expected {want} each ({n} windows over {p} "
                       "ranks, the remainder dropped)",
                       "第 {e} 個 epoch：分片大小 {sizes}，每份應為 {want}（{n} 個視窗分給 {p} 個 "
                       "rank，餘數捨棄）", e=e, sizes=[len(x) for x in parts], want=n // p, n=n, p=p)
        seen: set[int] = set()
        for r, x in enumerate(parts):
            dup = seen.intersection(x) or (len(set(x)) != len(x))
            if dup:
                raise fail("epoch {e}: rank {r}'s shard repeats windows another shard (or itself) "
                           "already has", "第 {e} 個 epoch：rank {r} 的分片與其他分片（或自身）重複",
                           e=e, r=r)
            seen.update(x)
        if len(seen) < n - (p - 1):
            raise fail("epoch {e}: the shards cover {got} of {n} windows",
                       "第 {e} 個 epoch：分片只涵蓋 {n} 個視窗中的 {got} 個", e=e, got=len(seen), n=n)
    for r, s in enumerate(st):
        stream = [i for shard in s["shards"] for i in shard[: len(shard) // b * b]]
        flat = [i for batch in s["batches"] for i in batch]
        if flat != stream[: len(flat)]:
            raise fail("rank {r}: the batches are not consecutive slices of its shards",
                       "rank {r}：batch 不是其分片依序切出的片段", r=r)
    return {"windows": n, "ranks": p, "epochs": epochs, "per_rank": n // p}


@check("identical-weights")
def identical_weights(ctx: Context) -> dict[str, Any] | None:
    """Every rank's weights equal rank 0's, after both runs; ring run = DDP run."""
    tol = float(ctx.params.get("rank_atol", 1e-6))
    details: dict[str, Any] = {}
    for run in ("ddp", "ring"):
        ref = _weights(ctx, 0, run)
        for r in range(1, ctx.spec.ranks):
            diff, _ = _same_weights(_weights(ctx, r, run), ref, tol,
                                    f"rank{r}/{run}.safetensors differs from rank 0's",
                                    f"rank{r}/{run}.safetensors 與 rank 0 的不同")
            details[f"{run}_rank{r}_max_diff"] = diff
    diff, key = _same_weights(_weights(ctx, 0, "ring"), _weights(ctx, 0, "ddp"),
                              float(ctx.params.get("weight_atol", 2e-3)),
                              "the ring run's weights differ from the DDP run's",
                              "ring 訓練的權重與 DDP 訓練的不同")
    details["ring_vs_ddp_max_diff"] = diff
    return details


def _single_process(ctx: Context) -> tuple[list[float], dict[str, Any]]:
    """The grader's single-process run on the global batches: (losses, final weights)."""
    import torch

    data = _windows(ctx)
    st = _steps(ctx)
    torch.manual_seed(ctx.seed)
    model = tiny_model(ctx)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=float(ctx.params["learning_rate"]),
                            weight_decay=0.0)
    losses = []
    for k in range(int(ctx.params["steps"])):
        idx = [i for s in st for i in s["batches"][k]]  # rank 0's windows, then rank 1's ...
        batch = data[idx]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss))
    return losses, {k: v.detach().float() for k, v in model.state_dict().items()}


@check("ddp-equals-single")
def ddp_equals_single(ctx: Context) -> dict[str, Any] | None:
    """DDP's loss curve and weights = one process on the global batch."""
    st = _steps(ctx)
    losses, weights = _single_process(ctx)
    ddp = [sum(s["ddp_loss"][k] for s in st) / len(st) for k in range(len(losses))]
    atol = float(ctx.params.get("loss_atol", 1e-3))
    worst_step, worst = 0, 0.0
    for k, (a, b) in enumerate(zip(ddp, losses, strict=True)):
        if abs(a - b) > worst:
            worst_step, worst = k, abs(a - b)
    if worst > atol:
        raise fail("step {k}: the ranks' mean loss {got:.5f} differs from one process on the "
                   "global batch ({want:.5f}) by {diff:.2e} (tolerance {atol:g})",
                   "第 {k} 步：各 rank 的平均損失 {got:.5f} 與單一行程處理全域批次的損失 {want:.5f} "
                   "相差 {diff:.2e}（容差 {atol:g}）", k=worst_step, got=ddp[worst_step],
                   want=losses[worst_step], diff=worst, atol=atol)
    diff, key = _same_weights(_weights(ctx, 0, "ddp"), weights,
                              float(ctx.params.get("weight_atol", 2e-3)),
                              "the DDP weights differ from one process on the global batch",
                              "DDP 權重與單一行程處理全域批次的結果不同")
    return {"max_loss_diff": worst, "max_weight_diff": diff, "worst_key": key,
            "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4)}

