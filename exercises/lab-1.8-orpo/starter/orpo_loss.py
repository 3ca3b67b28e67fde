"""Your ORPO loss, written by hand (Hong et al. 2024, "ORPO: Monolithic Preference Optimization
without Reference Model", eqs. 4-7).

The grader imports this file on its own inputs (drawn at grading time) with trl unavailable, and
compares the loss, the log odds ratio and the gradient with its reference. Use torch only.
"""

from __future__ import annotations

from typing import Any


def log_odds(logp: Any) -> Any:
    """log odds(y) = log P − log(1 − P) from log P (< 0), without cancelling near P = 1."""
    import math  # noqa: F401

    import torch  # noqa: F401

    # TODO: log(1 − e^x) is log(−expm1(x)) near x = 0 and log1p(−e^x) for very negative x;
    # pick per element with torch.where, then return logp − log(1 − P).
    raise NotImplementedError("log_odds")


def orpo_loss(chosen_logps: Any, rejected_logps: Any, nll: Any, lam: float) -> tuple[Any, Any]:
    """ORPO's loss for a batch: L = L_SFT + λ · mean(L_OR).

    ``chosen_logps`` and ``rejected_logps`` are [n] tensors of length-normalised log-likelihoods
    log P(y|x) = (1/|y|) Σ_t log πθ(y_t | x, y_<t) (< 0) of the chosen (y_w) and rejected (y_l)
    responses; ``nll`` is the SFT loss on the chosen responses (a scalar); ``lam`` is λ. Returns
    ``(loss, log_odds_ratio)``: the scalar loss (graph kept) and, per pair, the detached
    log odds ratio log(odds(y_w) / odds(y_l)), where odds(y) = P / (1 − P) and

        L_OR = −log σ(log odds(y_w) − log odds(y_l)).
    """
    import torch.nn.functional as F  # noqa: F401

    # TODO: the log odds ratio with log_odds, then L_SFT + λ · mean(−log σ(ratio)).
    raise NotImplementedError("orpo_loss")
