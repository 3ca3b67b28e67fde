"""Bayesian Knowledge Tracing: the per-concept probability that the learner knows it.

Standard four-parameter BKT (Corbett & Anderson 1995), as in OATutor: observe an answer, take the
posterior P(known | answer), then allow a transition to "known" with probability ``p_transit``::

    correct:   P(L|obs) = P(L)(1-slip) / (P(L)(1-slip) + (1-P(L)) guess)
    incorrect: P(L|obs) = P(L) slip     / (P(L) slip     + (1-P(L)) (1-guess))
    P(L') = P(L|obs) + (1 - P(L|obs)) transit

With the OATutor defaults (all four 0.1, threshold 0.95) three correct first attempts in a row
move P(known) 0.1 -> 0.55 -> 0.925 -> 0.99196 and master the concept.
"""

from __future__ import annotations

from typing import Protocol


class BktLike(Protocol):
    """Anything with the four BKT parameters (``tutor.curriculum.models.BktParams``)."""

    @property
    def p_init(self) -> float: ...
    @property
    def p_transit(self) -> float: ...
    @property
    def p_slip(self) -> float: ...
    @property
    def p_guess(self) -> float: ...
    @property
    def threshold(self) -> float: ...


def bkt_update(p_known: float, correct: bool, params: BktLike) -> float:
    """P(known) after one observed answer (posterior, then the learning transition)."""
    slip, guess, transit = params.p_slip, params.p_guess, params.p_transit
    if correct:
        num = p_known * (1.0 - slip)
        den = num + (1.0 - p_known) * guess
    else:
        num = p_known * slip
        den = num + (1.0 - p_known) * (1.0 - guess)
    posterior = num / den if den > 0 else p_known
    return posterior + (1.0 - posterior) * transit
