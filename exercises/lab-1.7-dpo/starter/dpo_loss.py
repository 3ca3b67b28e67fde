"""Your DPO loss, written by hand (Rafailov et al. 2023, "Direct Preference Optimization", eq. 7).

The grader imports this file on its own inputs (log-probabilities drawn at grading time) with trl
unavailable, and compares the loss, the rewards and the gradient with its reference. Use torch only.
"""

from __future__ import annotations

from typing import Any


def dpo_loss(policy_chosen_logps: Any, policy_rejected_logps: Any, ref_chosen_logps: Any,
             ref_rejected_logps: Any, beta: float) -> tuple[Any, Any, Any]:
    """Per-pair DPO loss and implicit rewards from summed response log-probabilities.

    Every argument is a float tensor of shape [n]: log π(y|x) of the chosen (y_w) and rejected (y_l)
    response under the policy πθ and the frozen reference π_ref. Returns ``(losses, chosen_rewards,
    rejected_rewards)``, each of shape [n]:

        r̂(y)   = β · (log πθ(y|x) − log π_ref(y|x))            the implicit reward (eq. 5)
        loss    = −log σ(r̂(y_w) − r̂(y_l))                      Bradley-Terry (1952) likelihood

    The rewards are detached (they are reported, not trained); the loss keeps the graph.
    """
    import torch.nn.functional as F  # noqa: F401

    # TODO: the log-ratios of chosen and rejected, the implicit rewards, and the loss.
    # Hint: torch.nn.functional.logsigmoid is the numerically stable log σ(z).
    raise NotImplementedError("dpo_loss")
