"""`tutor lab ...`, `tutor dev check`, `tutor grade`, `tutor estimate`.

Two engineers share this file; each owns separate registration functions called from
``register``:
- labs framework: ``_register_lab`` (``tutor lab list|start|run|check``) and ``_register_dev``
  (``tutor dev check``), handlers ``_lab_*`` / ``_dev_*``;
- grading: ``_register_grade`` (``tutor grade``) and ``_register_estimate`` (``tutor estimate``).

Handlers import what they need inside their body (torch & co. never load for `tutor --help`).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands to the `tutor` parser."""
    _register_lab(sub, parents)
    _register_dev(sub, parents)
    _register_grade(sub, parents)
    _register_estimate(sub, parents)


# --------------------------------------------------------------------------------------------
# lab + dev (labs framework)
# --------------------------------------------------------------------------------------------


def _register_lab(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor lab list|start|run|check`."""
    p = sub.add_parser("lab", parents=parents, help="list, start, run and check the labs")
    lab_sub = p.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    ls = lab_sub.add_parser("list", parents=parents, help="the lab catalogue")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.add_argument("--learner", default=argparse.SUPPRESS,
                    help="learner whose lock states are shown (default: default)")
    ls.set_defaults(handler=_lab_list)

    st = lab_sub.add_parser("start", parents=parents, help="copy a lab's starter files")
    st.add_argument("lab_id", metavar="ID")
    st.add_argument("--force", action="store_true", help="overwrite existing work")
    st.set_defaults(handler=_lab_start)

    rn = lab_sub.add_parser("run", parents=parents, help="run your workspace copy of a lab")
    rn.add_argument("lab_id", metavar="ID")
    rn.add_argument("--solution", action="store_true", help="run the reference solution")
    rn.add_argument("--seed", type=int, default=0)
    rn.add_argument("--out", metavar="DIR",
                    help="artifact directory (default: out/ in the workspace, emptied first)")
    rn.set_defaults(handler=_lab_run)

    ck = lab_sub.add_parser("check", parents=parents, help="run a lab and check its artifacts")
    ck.add_argument("lab_id", metavar="ID")
    ck.add_argument("--solution", action="store_true", help="check the reference solution")
    ck.add_argument("--seed", type=int, default=0)
    ck.add_argument("--out", metavar="DIR",
                    help="artifact directory (default: out/ in the workspace, emptied first)")
    ck.add_argument("--json", action="store_true", help="print JSON")
    ck.add_argument("--learner", default=argparse.SUPPRESS,
                    help="learner whose progress records the result (default: default)")
    ck.set_defaults(handler=_lab_check)


def _register_dev(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor dev check`."""
    p = sub.add_parser("dev", parents=parents, help="maintainer tools")
    dev_sub = p.add_subparsers(dest="dev_command", metavar="ACTION", required=True)
    ck = dev_sub.add_parser(
        "check", parents=parents,
        help="every lab starter fails its checks, every solution passes, no orphan files",
    )
    ck.add_argument("--lab", action="append", metavar="ID", help="only these labs")
    ck.add_argument("--static", action="store_true", help="skip running starters/solutions")
    ck.set_defaults(handler=_dev_check)
    nw = dev_sub.add_parser("new", parents=parents,
                            help="scaffold a lab (lab.yaml, READMEs, starter/solution, checker, test)")
    nw.add_argument("lab_id", metavar="lab-N.M")
    nw.add_argument("name", metavar="NAME", help="short name: exercises/lab-N.M-NAME")
    nw.add_argument("--force", action="store_true", help="overwrite the scaffold's files")
    nw.set_defaults(handler=_dev_new)


def _lab_list(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import lab_list

    return lab_list(args)


def _lab_start(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import lab_start

    return lab_start(args)


def _lab_run(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import lab_run

    return lab_run(args)


def _lab_check(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import lab_check

    return lab_check(args)


def _dev_check(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import dev_check

    return dev_check(args)


def _dev_new(args: argparse.Namespace) -> int:
    from tutor.cli.lab_handlers import dev_new

    return dev_new(args)


# --------------------------------------------------------------------------------------------
# grade + estimate (grading engineer)
# --------------------------------------------------------------------------------------------


def _register_grade(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor grade`: sandboxed lab grading, one submission or a batch (graders/grade.py)."""
    p = sub.add_parser(
        "grade", parents=parents, help="grade a lab submission (or a batch) in a sandbox",
        description="Run a lab submission in a sandbox, recompute its results from its "
        "artifacts and write a rubric report. Exit 0 when a report was written (whatever the "
        "score), 2 for a bad command line or unknown lab, 1 if the grader itself failed.",
    )
    p.add_argument("submission", nargs="?", metavar="SUBMISSION", help="submission directory")
    p.add_argument("--lab", required=True, metavar="ID", help="lab id (e.g. lab-1.1) or lab dir")
    p.add_argument("--batch", metavar="DIR", help="grade every subdirectory of DIR")
    p.add_argument("--jobs", type=int, default=1, help="parallel gradings for --batch")
    p.add_argument("--format", choices=["json", "gradescope", "junit", "md"], default="json")
    p.add_argument("--out", metavar="FILE", help="report file (batch: gradebook CSV)")
    p.add_argument("--seed", type=int, default=0, help="seed handed to the lab")
    p.add_argument("--timeout", type=float, metavar="S", help="wall-clock limit per run")
    p.add_argument("--learner", metavar="NAME", help="learner whose quiz mastery fills concepts")
    p.set_defaults(handler=_grade)


def _grade(args: argparse.Namespace) -> int:
    from tutor.cli.grading import grade_command

    return grade_command(args)


def _register_estimate(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`tutor estimate`: the training-memory calculator (graders/estimate.py)."""
    p = sub.add_parser(
        "estimate", parents=parents,
        help="training-memory calculator (full FT, LoRA, QLoRA, ZeRO-1/2/3, CPU offload)",
        description="Memory per GPU for training, term by term with formulas. "
        "Give --params or a model shape (--layers --hidden --heads ...).",
    )
    p.add_argument("--params", metavar="N", help="parameters, e.g. 7e9 or 7B")
    p.add_argument("--layers", type=int, help="transformer layers L")
    p.add_argument("--hidden", type=int, help="hidden size h")
    p.add_argument("--heads", type=int, help="attention heads a")
    p.add_argument("--kv-heads", type=int, help="key/value heads (MQA/GQA)")
    p.add_argument("--vocab", type=int, default=50257, help="vocabulary size V (default 50257)")
    p.add_argument("--ffn", type=int, help="MLP inner size (default 4h)")
    p.add_argument("--gated-mlp", action="store_true",
                   help="gated MLP with three matrices (Llama, SwiGLU)")
    p.add_argument("--untied-head", action="store_true",
                   help="the output head is not tied to the embeddings (Llama)")
    p.add_argument("--method", choices=["full", "lora", "qlora"], default="full")
    p.add_argument("--gpus", type=int, default=1, help="data-parallel GPUs N")
    p.add_argument("--nodes", type=int, metavar="N",
                   help="nodes the GPUs are spread over (host memory is per node; default: 8 GPUs per node)")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16", "int8", "nf4"], default="bf16")
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd", "adam8bit"], default="adamw")
    p.add_argument("--zero", type=int, choices=[0, 1, 2, 3], default=0, help="ZeRO stage")
    p.add_argument("--offload", choices=["none", "optimizer", "params"], default="none")
    p.add_argument("--rank", type=int, default=8, help="LoRA rank r")
    p.add_argument("--targets", choices=["qv", "attn", "all"], default="attn",
                   help="LoRA-adapted matrices per layer")
    p.add_argument("--batch", type=int, default=1, help="micro-batch per GPU")
    p.add_argument("--seq-len", type=int, default=2048, help="sequence length")
    p.add_argument("--checkpointing", action="store_true", help="gradient checkpointing")
    p.add_argument("--flash", action="store_true", help="FlashAttention (no stored scores)")
    p.add_argument("--convention", choices=["paper", "deepspeed"], default="paper",
                   help="ZeRO paper accounting (default) or DeepSpeed's estimators'")
    p.add_argument("--advise", action="store_true",
                   help="also apply the technique decision tree (needs --gpu-mem)")
    p.add_argument("--gpu-mem", type=float, default=80.0, metavar="GB",
                   help="memory per GPU for --advise and the fit check (default 80)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_estimate)


def _estimate(args: argparse.Namespace) -> int:
    from tutor.cli.grading import estimate_command

    return estimate_command(args)
