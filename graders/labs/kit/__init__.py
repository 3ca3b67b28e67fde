"""The check kit: what a lab's checker is written with (docs/labs.md "Writing the checks").

```python
from graders.labs.kit import Context, Fail, Problem, check

@check("ring-allreduce")
def ring_allreduce(ctx: Context) -> dict[str, Any] | None:
    res = ctx.probe("ring-allreduce")
    ...
    raise Fail(Problem("differs by {err:.2e}", "相差 {err:.2e}", err=err))
```
Importing this package imports neither torch nor the submission; the tensor helpers import torch
when called (in the grader's child process).
"""

from graders.labs.kit.core import Context, Fail, Problem, check, fail, jsonable, registered
from graders.labs.kit.numeric import (
    assert_close,
    common_module,
    compare_state_dicts,
    cross_check,
    heldout_loss,
    integer,
    labcommon,
    max_abs_diff,
    metrics,
    number,
    pair_logps,
    profile_of,
    run_profile,
    seq_len,
    tiny_model,
    validation_ids,
)
from graders.labs.kit.readers import ArtifactError, json_shape_ok, read_json, read_tensors
from graders.labs.kit.worker import evaluate, run_kit

__all__ = [
    "ArtifactError",
    "Context",
    "Fail",
    "Problem",
    "assert_close",
    "check",
    "common_module",
    "compare_state_dicts",
    "cross_check",
    "evaluate",
    "fail",
    "heldout_loss",
    "integer",
    "json_shape_ok",
    "jsonable",
    "labcommon",
    "max_abs_diff",
    "metrics",
    "number",
    "pair_logps",
    "profile_of",
    "read_json",
    "read_tensors",
    "registered",
    "run_profile",
    "run_kit",
    "seq_len",
    "tiny_model",
    "validation_ids",
]
