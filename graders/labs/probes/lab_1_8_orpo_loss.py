"""Lab-1.8 probe: the learner's own ``orpo_loss`` on inputs drawn at grading time.

Runs inside the sandbox with ``trl`` blocked (graders/labs/probes/_bootstrap.py):

    python -I _bootstrap.py --block trl --probe lab_1_8_orpo_loss.py -- \
        --submission RUN_DIR --out OUT --seed S

From the grading-time seed S it draws n pairs of length-normalised log-likelihoods (some close to
0, where log(1 − P) cancels badly when computed naively), an SFT loss and a λ (``draw``), calls
``orpo_loss(chosen, rejected, nll, lam)`` from the learner's orpo_loss.py, and writes the loss, the
per-pair log odds ratio and the gradients with respect to the three inputs
(``outputs.safetensors``). The checker imports ``draw`` and compares with
L_SFT + λ·mean(−log σ(log odds(y_w) − log odds(y_l))), odds(y) = P/(1 − P) (Hong et al. 2024,
"ORPO", eqs. 4-7).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def draw(seed: int) -> dict[str, Any]:
    """The probe's inputs for ``seed``: n, λ, the SFT loss and two [n] tensors of log P (< 0)."""
    import torch

    g = torch.Generator().manual_seed(int(seed) % (2**63))
    n = int(torch.randint(6, 24, (1,), generator=g))
    lam = float((0.1, 0.25, 0.5, 1.0)[int(torch.randint(0, 4, (1,), generator=g))])
    # log P between -6 and -1e-4: P from 0.25 % to 99.99 %
    chosen = -torch.exp(torch.rand(n, generator=g, dtype=torch.float64) * 10.5 - 9.2)
    rejected = -torch.exp(torch.rand(n, generator=g, dtype=torch.float64) * 10.5 - 9.2)
    nll = torch.rand((), generator=g, dtype=torch.float64) * 3 + 0.5
    return {"n": n, "lam": lam, "chosen": chosen, "rejected": rejected, "nll": nll}


def run(submission: Path, out: Path, seed: int) -> dict[str, Any]:
    """Call the learner's loss on the drawn inputs; the result (tensors saved beside it)."""
    import torch
    from safetensors.torch import save_file

    sys.path.insert(0, str(submission))
    import orpo_loss as module  # the learner's file

    inp = draw(seed)
    chosen = inp["chosen"].clone().requires_grad_(True)
    rejected = inp["rejected"].clone().requires_grad_(True)
    nll = inp["nll"].clone().requires_grad_(True)
    loss, ratio = module.orpo_loss(chosen, rejected, nll, inp["lam"])
    loss = torch.as_tensor(loss)
    if loss.numel() != 1:
        return {"error": f"orpo_loss returned a loss of shape {list(loss.shape)}, expected a scalar"}
    total: Any = loss.reshape(())  # torch's backward is untyped
    total.backward()
    grads = {name: (t.grad if t.grad is not None else torch.zeros_like(t))
             for name, t in (("grad_chosen", chosen), ("grad_rejected", rejected), ("grad_nll", nll))}
    save_file({"loss": loss.detach().double().reshape(1).contiguous(),
               "log_odds_ratio": torch.as_tensor(ratio).detach().double().reshape(-1).contiguous(),
               **{k: v.double().reshape(-1).contiguous() for k, v in grads.items()}},
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
