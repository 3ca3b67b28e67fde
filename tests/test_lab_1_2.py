"""Lab-1.2 (DDP, ring all-reduce by hand): the solution passes every check, the starter fails,
the ring probe catches the cheats the issue names (a ring that calls dist.all_reduce, one that
sends the whole buffer to every rank, a wrong sum), doctored artifacts fail the check they target,
and a crashing rank fails the run cleanly with no process left behind.

Everything runs through the lab pipeline (tutor.labs.session.run_and_check, what `tutor lab
run/check` and `tutor dev check` call) and the kit's run_checks / run_local_probes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from graders.labs.checks import CheckResult, run_checks
from graders.labs.probing import run_local_probes
from graders.labs.spec import load_lab
from tutor.labs.session import LabResult, run_and_check

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "exercises" / "lab-1.2-ddp"
RING_CHECKS = ("ring-allreduce", "ring-bytes")

pytestmark = pytest.mark.serial


def _by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


def _en(result: CheckResult) -> str:
    return str(getattr(result.message, "en", result.message))


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> LabResult:
    """The reference solution, run and checked once for the module (~30 s on 2 idle cores)."""
    work = tmp_path_factory.mktemp("lab12-solution")
    return run_and_check(load_lab(LAB), LAB, work=work, solution=True)


def test_solution_passes_every_check(solution: LabResult) -> None:
    assert solution.finished.ok, solution.finished
    results = _by_id(solution.results)
    assert set(results) == {c.id for c in load_lab(LAB).checks}
    for r in solution.results:
        assert r.status == "pass", (r.id, _en(r), r.details)
    assert results["ring-allreduce"].details["world"] == 3
    bytes_case = results["ring-bytes"].details["cases"][3]  # divisible by p = 3
    assert bytes_case["sent_per_rank"] == [2 * 2 * bytes_case["bytes"] // 3] * 3
    assert results["ddp-equals-single"].details["loss_last"] < 4.0  # it trained


def test_starter_fails(tmp_path: Path) -> None:
    res = run_and_check(load_lab(LAB), LAB, work=tmp_path, solution=False)
    assert not res.finished.ok
    got, total = res.points
    assert got == 0 and total > 0
    assert all(r.status == "fail" for r in res.results), [(r.id, r.status) for r in res.results]


# -- the probe: hostile ring all-reduces ----------------------------------------------------------

ALL_REDUCE_INSIDE = '''
import torch.distributed as dist


def ring_all_reduce(tensor):
    dist.all_reduce(tensor)
    return tensor
'''

SEND_EVERYTHING = '''
import torch
import torch.distributed as dist


def ring_all_reduce(tensor):
    """Correct sums, but every rank sends its whole buffer to every other rank: (p - 1)·M."""
    world, rank = dist.get_world_size(), dist.get_rank()
    if tensor.numel() == 0:
        return tensor
    mine = tensor.detach().contiguous().clone()
    total = mine.clone()
    for shift in range(1, world):
        buf = torch.empty_like(mine)
        reqs = [dist.isend(mine, (rank + shift) % world), dist.irecv(buf, (rank - shift) % world)]
        for r in reqs:
            r.wait()
        total += buf
    tensor.copy_(total.view_as(tensor))
    return tensor
'''

REDUCE_SCATTER_ONLY = '''
import torch
import torch.distributed as dist


def ring_all_reduce(tensor):
    """Stops after the reduce-scatter: each rank holds one finished chunk, the rest partial."""
    world, rank = dist.get_world_size(), dist.get_rank()
    flat = tensor.contiguous().view(-1)
    chunks = list(torch.tensor_split(flat, world))
    for s in range(world - 1):
        send, recv = chunks[(rank - s) % world], chunks[(rank - s - 1) % world]
        buf = torch.empty_like(recv)
        reqs = []
        if send.numel():
            reqs.append(dist.isend(send.contiguous(), (rank + 1) % world))
        if recv.numel():
            reqs.append(dist.irecv(buf, (rank - 1) % world))
        for r in reqs:
            r.wait()
        recv += buf
    if flat.data_ptr() != tensor.data_ptr():
        tensor.copy_(flat.view_as(tensor))
    return tensor
'''


PROCESS_GROUP_BYPASS = '''
import torch.distributed.distributed_c10d as c10d


def ring_all_reduce(tensor):
    """The right sum, fetched from the process group itself (no dist.all_reduce, no send)."""
    if tensor.numel():
        flat = tensor.contiguous().clone()
        c10d._get_default_group().allreduce([flat]).wait()
        tensor.copy_(flat)
    return tensor
'''


def _blocking_ring() -> str:
    """The solution's ring with blocking send/recv (even ranks send first, odd ranks receive
    first), so that the probe's byte count is checked on dist.send as well as dist.isend."""
    text = (LAB / "solution" / "ring.py").read_text(encoding="utf-8")
    start = text.index("    reqs = []")
    end = text.index("        req.wait()\n", start) + len("        req.wait()\n")
    blocking = (
        "    def out() -> None:\n"
        "        if send.numel():\n"
        "            dist.send(send.contiguous(), right)\n"
        "\n"
        "    def into() -> None:\n"
        "        if recv.numel():\n"
        "            dist.recv(recv, left)\n"
        "\n"
        "    first, second = (out, into) if dist.get_rank() % 2 == 0 else (into, out)\n"
        "    first()\n"
        "    second()\n")
    return text[:start] + blocking + text[end:]


def _probe_checks(tmp_path: Path, ring_source: str | None) -> dict[str, CheckResult]:
    """Run the ring probe on a submission whose ring.py is ``ring_source`` (None: the solution's)
    and return the two ring checks."""
    spec = load_lab(LAB)
    sub = tmp_path / "sub"
    shutil.copytree(LAB / "solution", sub)
    if ring_source is not None:
        (sub / "ring.py").write_text(ring_source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"})
    probes = run_local_probes(spec, LAB, sub, tmp_path / "probes", env=env)
    out = tmp_path / "out"
    out.mkdir()
    results = _by_id(run_checks(spec, out, sub, None, 0, lab_dir=LAB, probes=probes))
    return {k: results[k] for k in RING_CHECKS}


def test_a_blocking_send_recv_ring_passes_and_is_counted_once(tmp_path: Path) -> None:
    res = _probe_checks(tmp_path, _blocking_ring())
    assert res["ring-allreduce"].status == "pass", _en(res["ring-allreduce"])
    assert res["ring-bytes"].status == "pass", _en(res["ring-bytes"])


def test_ring_that_calls_all_reduce_loses_the_probe(tmp_path: Path) -> None:
    res = _probe_checks(tmp_path, ALL_REDUCE_INSIDE)
    assert res["ring-allreduce"].status == "fail"
    assert "all_reduce is not available" in _en(res["ring-allreduce"])
    assert res["ring-bytes"].status == "fail"


def test_sending_everything_to_everyone_loses_the_bytes_check(tmp_path: Path) -> None:
    res = _probe_checks(tmp_path, SEND_EVERYTHING)
    assert res["ring-allreduce"].status == "pass", _en(res["ring-allreduce"])  # the sums are right
    assert res["ring-bytes"].status == "fail"
    assert "2(p−1)·M" in _en(res["ring-bytes"])


def test_a_sum_from_the_process_group_earns_nothing(tmp_path: Path) -> None:
    res = _probe_checks(tmp_path, PROCESS_GROUP_BYPASS)
    assert res["ring-allreduce"].status == "fail"
    assert "did not come from your ring" in _en(res["ring-allreduce"])
    assert res["ring-bytes"].status == "fail"


def test_reduce_scatter_alone_is_a_wrong_sum(tmp_path: Path) -> None:
    res = _probe_checks(tmp_path, REDUCE_SCATTER_ONLY)
    assert res["ring-allreduce"].status == "fail"
    assert "differs by" in _en(res["ring-allreduce"])


# -- doctored artifacts: each check fails for its own reason --------------------------------------


def _edit_json(path: Path, edit: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_doctored_artifacts_fail_their_checks(solution: LabResult, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    out = tmp_path / "out"
    shutil.copytree(solution.run_dir.parent / "out", out)

    rank0 = json.loads((out / "rank0" / "steps.json").read_text(encoding="utf-8"))
    first = rank0["shards"][0]

    def overlap_rank1(d: dict[str, Any]) -> None:
        d["shards"][0][:3] = first[:3]

    _edit_json(out / "rank1" / "steps.json", overlap_rank1)

    def lie_about_losses(d: dict[str, Any]) -> None:  # a loss curve not from this training
        d["ddp_loss"] = [x * 0.9 for x in d["ddp_loss"]]

    _edit_json(out / "rank0" / "steps.json", lie_about_losses)
    w = load_file(str(out / "rank1" / "ddp.safetensors"))  # rank 1 drifted from rank 0
    w["lm_head.weight"] = w["lm_head.weight"] + 0.01
    save_file(w, str(out / "rank1" / "ddp.safetensors"))

    spec = load_lab(LAB)
    results = _by_id(run_checks(spec, out, LAB / "solution", None, 0, lab_dir=LAB,
                                probes=_solution_probes(solution)))
    assert results["shards"].status == "fail" and "repeats" in _en(results["shards"])
    assert results["identical-weights"].status == "fail"
    assert "rank1/ddp.safetensors" in _en(results["identical-weights"])
    assert results["ddp-equals-single"].status == "fail"
    assert "mean loss" in _en(results["ddp-equals-single"])


def _solution_probes(solution: LabResult) -> Any:
    """The solution's probe outputs, under a seed that is not theirs: the ring checks then fail,
    which these artifact tests ignore (they only need the probes to have run)."""
    from graders.labs.probing import ProbeRuns

    return ProbeRuns(seed=0, dest=solution.run_dir.parent / "probes")


# -- a crashing rank ------------------------------------------------------------------------------


def _processes_in(path: Path) -> list[int]:
    """Pids of live processes whose command line or working directory mentions ``path``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if str(path) in cmd or cwd.startswith(str(path)):
            found.append(int(pid))
    return found


def test_a_crashing_rank_fails_cleanly(tmp_path: Path) -> None:
    sub = tmp_path / "crash"
    shutil.copytree(LAB / "solution", sub)
    train = sub / "train.py"
    text = train.read_text(encoding="utf-8")
    # init_distributed (the learner's part; ddp_run.py calls it first) returns on rank 0, dies on rank 1
    anchor = "    return dist.get_rank(), dist.get_world_size()\n"
    assert anchor in text
    text = text.replace(anchor, "    if dist.get_rank() == 1:\n        raise RuntimeError('rank 1 crashed')\n"
                        + anchor)
    train.write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    res = run_and_check(load_lab(LAB), LAB, work=work, source=sub)
    assert res.finished.returncode != 0 and not res.finished.done
    assert not res.finished.timed_out  # the launcher stopped rank 0, not the wall limit
    assert all(r.status == "fail" for r in res.results if r.id not in RING_CHECKS)
    assert _processes_in(work) == []


def test_checker_and_probe_import_nothing_heavy() -> None:
    """The grader imports the checker (and the probe's ``draw``) without the ML stack."""
    import subprocess
    import sys

    code = ("import sys, graders.labs.lab_1_2, graders.labs.probes.lab_1_2_ring; "
            "heavy = {'torch', 'transformers', 'deepspeed', 'textual'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.serial
@pytest.mark.slow
def test_solution_scores_100_through_the_sandboxed_grader(tmp_path: Path) -> None:
    """`tutor grade`'s pipeline (sandbox, ranks, probe in the sandbox, analysis answers, design
    challenge): the reference solution gets every point."""
    from grading_helpers import grade_copy

    report = grade_copy(LAB / "solution", "lab-1.2", tmp_path)
    assert report.status == "graded", report.messages
    assert [(c.id, c.message) for c in report.checks if c.status != "pass"] == []
    assert report.total == 100
