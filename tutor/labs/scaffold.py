"""`tutor dev new lab-N.M NAME`: a lab skeleton that `tutor dev check --lab lab-N.M` passes.

It writes exercises/lab-N.M-NAME/ (lab.yaml, README.md + README.zh-TW.md, starter/train.py with a
TODO, solution/train.py), the checker graders/labs/lab_N_M.py with one kit check, and a test
tests/test_lab_N_M.py on the kit's public API. The placeholder task (the sum of squares 1..n for a
seed-dependent n) runs in a second without torch; replace it with the lab's real work. When the
course's labs.yaml already lists the lab, its title, concepts and gpu are copied so that the
course/lab.yaml agreement of `tutor dev check` holds from the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAB_ID = re.compile(r"^lab-(\d+)\.(\d+)$")
NAME = re.compile(r"^[a-z0-9][a-z0-9\-]{0,40}$")


class ScaffoldError(Exception):
    """Bad arguments or existing files (the message says which)."""


@dataclass
class Scaffold:
    """What ``new_lab`` wrote."""

    lab_dir: Path
    """exercises/lab-N.M-NAME."""
    checker: Path
    """graders/labs/lab_N_M.py."""
    test: Path | None
    """tests/test_lab_N_M.py (None when there is no tests/ directory)."""


TRAIN = '''"""{lab_id}: {title_en} (the placeholder task of `tutor dev new`: replace it).

Writes out/result.json with the sum of squares 1..n, n = 10 + seed % 7.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I drops the script dir
import labcommon as lc  # noqa: E402


def sum_of_squares(n: int) -> int:
    """1² + 2² + ... + n²."""
{body}


def main() -> None:
    args = lc.parse_args()
    n = 10 + args.seed % 7
    lc.progress(1, 1)
    lc.write_json(args.out / "result.json", {{"n": n, "sum": sum_of_squares(n)}})
    lc.done()


if __name__ == "__main__":
    main()
'''

CHECKER = '''"""Checks of {lab_id} ({title_en}) on the check kit (docs/labs.md "Writing the checks")."""

from __future__ import annotations

from typing import Any

from graders.labs.kit import Context, check, fail, integer


@check("result")
def result(ctx: Context) -> dict[str, Any]:
    """result.json holds n = 10 + seed % 7 and the sum of squares 1..n, recomputed here."""
    res = ctx.json("result.json")
    if not isinstance(res, dict):
        raise fail("result.json is not an object", "result.json 不是物件")
    n = integer(res.get("n"), "n", lo=0, hi=10_000)
    if n != 10 + ctx.seed % 7:
        raise fail("n = {{n}}, expected {{want}}", "n = {{n}}，應為 {{want}}", n=n, want=10 + ctx.seed % 7)
    want = n * (n + 1) * (2 * n + 1) // 6
    got = integer(res.get("sum"), "sum")
    if got != want:
        raise fail("sum = {{got}}, expected {{want}}", "sum = {{got}}，應為 {{want}}", got=got, want=want)
    return {{"n": n, "sum": got}}
'''

TEST = '''"""{lab_id}: its checks on hand-made artifacts, through the kit's public API."""

from __future__ import annotations

import json
from pathlib import Path

from graders.labs.kit import Context, evaluate
from graders.labs.spec import load_lab

LAB = Path(__file__).resolve().parents[1] / "exercises" / "{dirname}"


def _run(tmp_path: Path, result: object) -> str:
    (tmp_path / "result.json").write_text(json.dumps(result), encoding="utf-8")
    ctx = Context(spec=load_lab(LAB), out_dir=tmp_path, submission_dir=tmp_path, seed=3,
                  lab_dir=LAB)
    return str(evaluate(ctx)["result"]["status"])


def test_right_sum_passes(tmp_path: Path) -> None:
    assert _run(tmp_path, {{"n": 13, "sum": 819}}) == "pass"


def test_wrong_or_hostile_values_fail(tmp_path: Path) -> None:
    for bad in ({{"n": 13, "sum": 0}}, {{"n": 12, "sum": 650}}, {{"n": 13, "sum": 10**400}},
                {{"n": True, "sum": 819}}, [1, 2]):
        assert _run(tmp_path, bad) == "fail", bad
'''

README_EN = '''# {lab_id}: {title_en}

(Written by `tutor dev new`: replace the placeholder task with the lab's real work.)

```
tutor lab start {lab_id}
tutor lab check {lab_id}
```

| file | what you do |
|---|---|
| `train.py` | **TODO** `sum_of_squares(n)` |
| `labcommon.py` | shared by every lab, do not edit |
'''

README_ZH = '''# {lab_id}：{title_zh}

（由 `tutor dev new` 產生：請把占位任務換成本實驗真正的內容。）

```
tutor lab start {lab_id}
tutor lab check {lab_id}
```

| 檔案 | 你要做的事 |
|---|---|
| `train.py` | **TODO** `sum_of_squares(n)` |
| `labcommon.py` | 所有實驗共用，請勿修改 |
'''


def new_lab(lab_id: str, name: str, *, exercises: Path, graders_labs: Path,
            tests: Path | None, course_lab: Any = None, force: bool = False) -> Scaffold:
    """Write the skeleton of ``lab_id`` (see the module docstring); ScaffoldError on bad input
    or when a file exists (unless ``force``)."""
    m = LAB_ID.match(lab_id)
    if not m:
        raise ScaffoldError(f"lab id must look like lab-1.2, got {lab_id!r}")
    if not NAME.match(name):
        raise ScaffoldError(f"name must be lower-case letters, digits and '-', got {name!r}")
    module = f"lab_{m.group(1)}_{m.group(2)}"
    dirname = f"{lab_id}-{name}"
    lab_dir = exercises / dirname
    checker = graders_labs / f"{module}.py"
    test = tests / f"test_{module}.py" if tests is not None else None
    targets = [lab_dir / "lab.yaml", checker] + ([test] if test else [])
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise ScaffoldError("already exists (use --force): " + ", ".join(existing))
    title_en, title_zh, concepts, gpu = name.replace("-", " "), name.replace("-", " "), [name], "none"
    if course_lab is not None:
        title_en, title_zh = course_lab.title.en, course_lab.title.zh_TW
        concepts, gpu = list(course_lab.concepts), str(course_lab.gpu)
    spec = {
        "id": lab_id, "title": {"en": title_en, "zh-TW": title_zh}, "concepts": concepts,
        "entry": "train.py", "starter": ["train.py"], "common": ["labcommon.py"],
        "requires": {"packages": [], "gpu": gpu}, "gpu": gpu,
        "artifacts": ["result.json"], "checker": module, "time_budget_s": 60,
        "checks": [{
            "id": "result", "bucket": "implementation", "points": 10,
            "title": {"en": "Sum of squares", "zh-TW": "平方和"},
            "description": {"en": "result.json holds n and 1² + ... + n², recomputed by the grader.",
                            "zh-TW": "result.json 含 n 與 1² + ... + n²，由評分器重算。"},
        }],
        "params": {"checker_timeout_s": 60},
    }
    fields = {"lab_id": lab_id, "title_en": title_en, "title_zh": title_zh, "dirname": dirname}
    for sub in ("starter", "solution"):
        (lab_dir / sub).mkdir(parents=True, exist_ok=True)
    head = f"# {lab_id}: written by `tutor dev new`; reference: docs/labs.md\n"
    (lab_dir / "lab.yaml").write_text(head + yaml.safe_dump(spec, allow_unicode=True,
                                                            sort_keys=False), encoding="utf-8")
    (lab_dir / "README.md").write_text(README_EN.format(**fields), encoding="utf-8")
    (lab_dir / "README.zh-TW.md").write_text(README_ZH.format(**fields), encoding="utf-8")
    (lab_dir / "starter" / "train.py").write_text(TRAIN.format(
        **fields, body="    # TODO: return the sum of squares\n    return 0"), encoding="utf-8")
    (lab_dir / "solution" / "train.py").write_text(TRAIN.format(
        **fields, body="    return sum(i * i for i in range(1, n + 1))"), encoding="utf-8")
    checker.write_text(CHECKER.format(**fields), encoding="utf-8")
    if test is not None:
        test.write_text(TEST.format(**fields), encoding="utf-8")
    return Scaffold(lab_dir, checker, test)
