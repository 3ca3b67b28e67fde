"""Running a kit checker: the parent side (``run_kit``) and the child process (``main``).

The parent writes the :class:`Context` as a job file and starts ``python -I -c ...`` with only the
grader's package on ``sys.path``; the child imports ``graders.labs.<checker>``, runs the registered
checks in lab.yaml order and appends one JSON line per finished check to the result file. A
timeout or a crash of the child therefore costs only the checks not yet finished, which become
``error`` (the grader's fault: fail closed), never a score.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from graders.labs.kit.core import Context, Fail, jsonable, registered

_ROOT = Path(__file__).resolve().parents[3]
"""The directory holding the ``graders`` package (a checkout or site-packages)."""
_PASS_ENV = ("PATH", "HOME", "LANG", "TMPDIR")


def run_kit(ctx: Context, timeout_s: float) -> dict[str, dict[str, Any]]:
    """``{check id: {"status", "message": {en, zh-TW}, "details"}}`` for every check of the spec."""
    with tempfile.TemporaryDirectory(prefix=f"{ctx.spec.id}-check-") as tmp:
        job_file, result_file = Path(tmp, "job.json"), Path(tmp, "results.jsonl")
        job_file.write_text(json.dumps(ctx.to_job()), encoding="utf-8")
        result_file.touch()
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from graders.labs.kit.worker import main; main(sys.argv[2], sys.argv[3])")
        env = {k: v for k, v in os.environ.items() if k in _PASS_ENV}
        env.update({"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(ctx.spec.cpu_threads),
                    "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": "",
                    "PYTHONHASHSEED": "0"})
        why: dict[str, Any] | None = None
        try:
            proc = subprocess.run([sys.executable, "-I", "-c", code, str(_ROOT), str(job_file),
                                   str(result_file)], capture_output=True, text=True,
                                  errors="replace", timeout=timeout_s, env=env, cwd=tmp)
            if proc.returncode != 0:
                why = {"en": f"grader error: the check process failed (exit {proc.returncode})",
                       "zh-TW": f"評分器錯誤：檢查程序失敗（結束碼 {proc.returncode}）",
                       "stderr": (proc.stderr or "")[-2000:]}
        except subprocess.TimeoutExpired:
            why = {"en": f"grader error: the checks timed out after {timeout_s:.0f} s",
                   "zh-TW": f"評分器錯誤：檢查逾時（{timeout_s:.0f} 秒）", "stderr": ""}
        done: dict[str, dict[str, Any]] = {}
        for line in result_file.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                item = json.loads(line)
                done[str(item["id"])] = item
            except (ValueError, KeyError, TypeError):
                continue
    out: dict[str, dict[str, Any]] = {}
    for c in ctx.spec.checks:
        if c.id in done:
            out[c.id] = done[c.id]
        else:
            why = why or {"en": "grader error: the check process produced no result",
                          "zh-TW": "評分器錯誤：檢查程序沒有產生結果", "stderr": ""}
            out[c.id] = {"id": c.id, "status": "error",
                         "message": {"en": why["en"], "zh-TW": why["zh-TW"]},
                         "details": {"stderr": why["stderr"]} if why["stderr"] else {}}
    return out


def run_one(ctx: Context, check_id: str, fn: Any) -> dict[str, Any]:
    """One check as a verdict dict; ``Fail`` = fail, any other exception = error."""
    t0 = time.monotonic()
    try:
        details = fn(ctx) or {}
        if not isinstance(details, dict):
            details = {"value": details}
        status, msg = "pass", {"en": _pass_message(details, "en"),
                               "zh-TW": _pass_message(details, "zh-TW")}
    except Fail as exc:
        status, msg, details = "fail", {"en": exc.en, "zh-TW": exc.zh}, exc.details
    except Exception as exc:  # noqa: BLE001 - the checker broke: the grader's fault
        status = "error"
        line = f"{type(exc).__name__}: {str(exc)[:300]}"
        msg = {"en": f"grader error: {line}", "zh-TW": f"評分器錯誤：{line}"}
        details = {"traceback": traceback.format_exc()[-2000:]}
    details = dict(jsonable(details))
    details.setdefault("elapsed_s", round(time.monotonic() - t0, 3))
    return {"id": check_id, "status": status, "message": msg, "details": details}


def _pass_message(details: dict[str, Any], lang: str) -> str:
    """``details["message"]`` ({en, zh-TW} or text) when the check gives one, else "passed"."""
    m = details.pop("message", None)
    if isinstance(m, dict) and isinstance(m.get(lang), str):
        return str(m[lang])
    if isinstance(m, str):
        return m
    return "通過" if lang == "zh-TW" else "passed"


def evaluate(ctx: Context) -> dict[str, dict[str, Any]]:
    """Every check of ``ctx.spec`` in this process (tests; the grader uses ``run_kit``)."""
    import importlib

    module = f"graders.labs.{ctx.spec.checker}"
    importlib.import_module(module)
    table = registered(module)
    return {c.id: run_one(ctx, c.id, table[c.id]) for c in ctx.spec.checks if c.id in table}


def main(job_path: str, result_path: str) -> None:
    """Child-process entry: run every check of the job's spec, one JSON line each."""
    import importlib
    import warnings

    warnings.filterwarnings("ignore")
    ctx = Context.from_job(json.loads(Path(job_path).read_text(encoding="utf-8")))
    module = f"graders.labs.{ctx.spec.checker}"
    importlib.import_module(module)
    table = registered(module)
    with open(result_path, "a", encoding="utf-8") as out:
        for c in ctx.spec.checks:
            fn = table.get(c.id)
            if fn is None:
                verdict = {"id": c.id, "status": "error", "details": {},
                           "message": {"en": f"grader error: {module} has no @check({c.id!r})",
                                       "zh-TW": f"評分器錯誤：{module} 沒有 @check({c.id!r})"}}
            else:
                verdict = run_one(ctx, c.id, fn)
            out.write(json.dumps(verdict, ensure_ascii=False, allow_nan=False, default=str) + "\n")
            out.flush()
