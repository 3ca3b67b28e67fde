"""The check kit against hostile artifacts: every odd value, size, depth, count or link is the
submission's failure (Fail), never a grader crash; a broken check is an error, a slow one times
out without losing the finished ones."""

from __future__ import annotations

import json
import math
import os
import struct
import time
from pathlib import Path

import pytest

from graders.labs.kit import (
    Context,
    Fail,
    Problem,
    assert_close,
    compare_state_dicts,
    cross_check,
    integer,
    jsonable,
    number,
    profile_of,
    run_kit,
)
from graders.labs.kit.worker import run_one
from graders.labs.spec import load_lab

ROOT = Path(__file__).resolve().parents[1]
RANKS = ROOT / "tests" / "fixtures" / "ranks_lab" / "lab-9.2-ranks"


def _ctx(out: Path, **kw: object) -> Context:
    return Context(spec=load_lab(RANKS), out_dir=out, submission_dir=out, seed=0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, "1", [1], None, math.nan, math.inf, 10**400, {"a": 1}])
def test_number_refuses_odd_values(value: object) -> None:
    with pytest.raises(Fail):
        number(value, "loss")


def test_number_and_integer_bounds() -> None:
    assert number(2, "x", lo=0, hi=3) == 2.0
    with pytest.raises(Fail, match="outside"):
        number(5.0, "x", hi=3)
    assert integer(7, "n") == 7
    for bad in (7.0, True, 2**70, "7"):
        with pytest.raises(Fail):
            integer(bad, "n")


def test_json_depth_count_utf8_links(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    (tmp_path / "deep.json").write_text("[" * 600 + "]" * 600)
    (tmp_path / "many.json").write_text("[" + ",".join(["0"] * 300_000) + "]")
    (tmp_path / "bad.json").write_bytes(b'{"a": "\xff"}')
    (tmp_path / "ok.json").write_text(json.dumps({"profile": ["cpu"], "n": 10**400,
                                                  "loss": float("nan")}))
    os.symlink(tmp_path / "ok.json", tmp_path / "link.json")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "sub", tmp_path / "dirlink")
    (tmp_path / "sub" / "x.json").write_text("{}")
    for rel, why in (("deep.json", "deeper"), ("many.json", "more than"), ("bad.json", "UTF-8"),
                     ("link.json", "links"), ("dirlink/x.json", "links"), ("none.json", "missing"),
                     ("../ok.json", "relative")):
        with pytest.raises(Fail, match=why):
            ctx.json(rel)
    data = ctx.json("ok.json")  # parses; the values are then refused one by one
    assert profile_of(ctx, data["profile"]) == "cpu"
    with pytest.raises(Fail):
        number(data["n"], "n")
    with pytest.raises(Fail):
        number(data["loss"], "loss")
    assert json.dumps(jsonable(data))  # huge ints and NaN are JSON-safe in details


def _safetensors(header: dict[str, object], data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_tensors_header_is_validated_before_loading(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    ctx = _ctx(tmp_path)
    many = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
            for i in range(1_000_000)}
    (tmp_path / "many.safetensors").write_bytes(_safetensors(many))
    (tmp_path / "lie.safetensors").write_bytes(_safetensors(
        {"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 16]}}, b"\0" * 16))
    (tmp_path / "dtype.safetensors").write_bytes(_safetensors(
        {"w": {"dtype": "PICKLE", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4))
    (tmp_path / "short.safetensors").write_bytes(b"\x01\x02")
    few = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(5000)}
    (tmp_path / "few.safetensors").write_bytes(_safetensors(few))
    t0 = time.monotonic()
    for rel, why in (("many.safetensors", "too many tensors"), ("lie.safetensors", "lies"),
                     ("dtype.safetensors", "malformed"), ("short.safetensors", "not a valid"),
                     ("few.safetensors", "more than 4096")):
        with pytest.raises(Fail, match=why):
            ctx.tensors(rel)
    assert time.monotonic() - t0 < 30  # ~1M empty tensors took the old checker 134 s
    ok = _safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
                      struct.pack("<2f", 1.0, 2.0))
    (tmp_path / "ok.safetensors").write_bytes(ok)
    assert ctx.tensors("ok.safetensors")["w"].tolist() == [1.0, 2.0]


def test_tensor_comparisons() -> None:
    torch = pytest.importorskip("torch")
    a = torch.zeros(2, 3)
    assert assert_close(a, a + 1e-6, atol=1e-4) < 1e-4
    with pytest.raises(Fail, match="shape"):
        assert_close(a, torch.zeros(3, 2), atol=1)
    with pytest.raises(Fail, match="differs"):
        assert_close(a, a + float("nan"), atol=1)
    with pytest.raises(Fail, match="lacks"):
        compare_state_dicts({}, {"w": a}, atol=1)
    assert compare_state_dicts({"w": a, "extra": a}, {"w": a}, atol=0)[1] == "w"
    assert cross_check(1.0, 1.01, 0.02, "loss") == 1.0
    with pytest.raises(Fail, match="reported"):
        cross_check(1.0, 2.0, 0.02, "loss")


def test_ranks_and_probe_results(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, probes_dir=tmp_path / "probes")
    (tmp_path / "rank0").mkdir()
    with pytest.raises(Fail, match="rank1"):
        ctx.ranks()
    (tmp_path / "rank1").symlink_to(tmp_path / "rank0")
    with pytest.raises(Fail, match="rank1"):
        ctx.ranks()
    with pytest.raises(KeyError):
        ctx.probe("no-such-probe")  # a checker bug: an error, not the learner's fail


def test_run_one_statuses(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)

    def fails(_: Context) -> None:
        raise Fail(Problem("bad {x}", "壞 {x}", x=1), Problem("worse", "更壞"))

    def breaks(_: Context) -> None:
        raise ZeroDivisionError("boom")

    v = run_one(ctx, "c", fails)
    assert v["status"] == "fail" and v["message"]["en"] == "bad 1; worse"
    assert v["message"]["zh-TW"] == "壞 1；更壞" and v["details"]["x"] == 1
    v = run_one(ctx, "c", breaks)
    assert v["status"] == "error" and "ZeroDivisionError" in v["message"]["en"]
    v = run_one(ctx, "c", lambda _: {"message": {"en": "fine", "zh-TW": "好"}, "n": math.inf})
    assert v["status"] == "pass" and v["message"]["en"] == "fine" and v["details"]["n"] == "inf"


def test_run_kit_child_process_errors_fail_closed(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    verdicts = run_kit(ctx, timeout_s=60)  # no artifacts: the check fails, no error
    assert verdicts["ranks-agree"]["status"] == "fail"
    broken = _ctx(tmp_path)
    broken.spec = broken.spec.model_copy(update={"checker": "no_such_checker"})
    assert run_kit(broken, timeout_s=60)["ranks-agree"]["status"] == "error"
    assert run_kit(ctx, timeout_s=0.01)["ranks-agree"]["status"] == "error"
