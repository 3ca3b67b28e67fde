"""Lab-1.7 probe: the learner's own ``dpo_loss`` on log-probabilities drawn at grading time.

Runs inside the sandbox with ``trl`` blocked (graders/labs/probes/_bootstrap.py):

    python -I _bootstrap.py --block trl --probe lab_1_7_dpo_loss.py -- \
        --submission RUN_DIR --out OUT --seed S

From the grading-time seed S it draws n pairs of policy and reference log-probabilities and a β
(``draw``), calls ``dpo_loss(pc, pr, rc, rr, beta)`` from the learner's dpo_loss.py, and writes the
per-pair losses, the implicit rewards and the gradient of Σ loss with respect to the policy's
log-probabilities (``outputs.safetensors``). The checker imports ``draw`` to rebuild the same
inputs outside the sandbox and compares with −log σ(β[(pc − rc) − (pr − rr)]) (Rafailov et al.
2023, eq. 7) and its gradient ∂L/∂pc = −β·σ(−z), ∂L/∂pr = +β·σ(−z).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def draw(seed: int) -> dict[str, Any]:
    """The probe's inputs for ``seed``: n, β and four [n] tensors of log-probabilities (< 0).

    The reference log-probs are near the policy's (a DPO run starts at the reference), with some
    pairs ranked wrongly and some with large margins, so a wrong sign or a missing β shows."""
    import torch

    g = torch.Generator().manual_seed(int(seed) % (2**63))
    n = int(torch.randint(6, 24, (1,), generator=g))
    beta = float((0.05, 0.1, 0.25, 0.5, 1.0)[int(torch.randint(0, 5, (1,), generator=g))])
    rc = -torch.rand(n, generator=g, dtype=torch.float64) * 40 - 1
    rr = -torch.rand(n, generator=g, dtype=torch.float64) * 40 - 1
    pc = rc + torch.randn(n, generator=g, dtype=torch.float64) * 4
    pr = rr + torch.randn(n, generator=g, dtype=torch.float64) * 4
    return {"n": n, "beta": beta, "pc": pc, "pr": pr, "rc": rc, "rr": rr}


def run(submission: Path, out: Path, seed: int) -> dict[str, Any]:
    """Call the learner's loss on the drawn inputs; the result (tensors saved beside it)."""
    import torch
    from safetensors.torch import save_file

    sys.path.insert(0, str(submission))
    import dpo_loss as module  # the learner's file

    inp = draw(seed)
    pc = inp["pc"].clone().requires_grad_(True)
    pr = inp["pr"].clone().requires_grad_(True)
    losses, chosen_r, rejected_r = module.dpo_loss(pc, pr, inp["rc"].clone(), inp["rr"].clone(),
                                                   inp["beta"])
    losses = torch.as_tensor(losses)
    if losses.shape != (inp["n"],):
        return {"error": f"dpo_loss returned losses of shape {list(losses.shape)}, "
                         f"expected [{inp['n']}]"}
    total: Any = losses.sum()  # torch's backward is untyped
    total.backward()
    grad_c = pc.grad if pc.grad is not None else torch.zeros_like(pc)
    grad_r = pr.grad if pr.grad is not None else torch.zeros_like(pr)
    save_file({"losses": losses.detach().double().contiguous(),
               "chosen_rewards": torch.as_tensor(chosen_r).detach().double().reshape(-1).contiguous(),
               "rejected_rewards": torch.as_tensor(rejected_r).detach().double().reshape(-1).contiguous(),
               "grad_chosen": grad_c.double().contiguous(),
               "grad_rejected": grad_r.double().contiguous()},
              str(out / "outputs.safetensors"))
    return {"n": inp["n"]}


def main() -> None:
    """Probe entry (arguments as in the module docstring)."""
    p = argparse.ArgumentParser()
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import labcommon  # the grader's copy (loaded by the bootstrap)

    try:
        result = run(args.submission, args.out, args.seed)
    except Exception as exc:  # noqa: BLE001 - the learner's code raised: the submission's failure
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}".splitlines()[0]}
    labcommon.write_json(args.out / "result.json", result)


if __name__ == "__main__":
    main()
