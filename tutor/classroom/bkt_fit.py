"""Fitting BKT parameters per concept from class data by expectation-maximisation.

Bayesian Knowledge Tracing (Corbett & Anderson 1995) is a two-state hidden Markov model per
concept: the learner knows it (K=1) or not; P(K₁=1) = p_init; an unknown concept becomes known
after each opportunity with p_transit and is never forgotten; a known concept is answered wrong
with p_slip, an unknown one right with p_guess. The four parameters are fitted with the
Baum-Welch algorithm (EM for HMMs; Rabiner 1989), scaled forward-backward passes over every
learner's sequence of observations for the concept, several starting points, the best
log-likelihood kept — the method pyBKT uses (Badrinath et al. 2021).

Slip and guess are bounded to at most ``MAX_SLIP_GUESS`` = 0.3: above that the model is
"degenerate" (a known concept answered wrong more often than chance; Baker, Corbett & Aleven
2008), and the fit is refused for concepts with fewer than ``MIN_LEARNERS`` learners or
``MIN_OBSERVATIONS`` observations, where the parameters are not identifiable in practice.

Observations: from a pyBKT CSV (``tutor export --format pybkt``: exactly the observations the
engine counted) or, from a jsonl export, each learner's first attempt at each question, right when
its score is 1 (a hint counts as wrong).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tutor.classroom.data import ClassData

MAX_SLIP_GUESS = 0.3
"""Upper bound on p_slip and p_guess (model degeneracy above it)."""
MIN_LEARNERS = 30
"""Learners a concept needs before it is fitted."""
MIN_OBSERVATIONS = 150
"""Observations a concept needs before it is fitted."""
_EPS = 1e-4


@dataclass(frozen=True)
class BktFit:
    """The fitted parameters of one concept (or why it was not fitted)."""

    concept: str
    """Concept id."""
    learners: int
    """Learners with at least one observation."""
    observations: int
    """Observations used."""
    p_init: float | None = None
    """P(known) before practice."""
    p_transit: float | None = None
    """P(learning) per opportunity."""
    p_slip: float | None = None
    """P(wrong | known)."""
    p_guess: float | None = None
    """P(right | not known)."""
    log_likelihood: float | None = None
    """Log-likelihood of the data under the fitted parameters."""
    skipped: str | None = None
    """Why the concept was not fitted (too little data)."""


def observations(data: ClassData) -> dict[str, list[list[int]]]:
    """concept → one 0/1 sequence per learner, in attempt order (first attempt per question)."""
    seqs: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for learner in data.learners.values():
        seen: set[str] = set()
        for a in learner.attempts:
            if a.item_id in seen:
                continue
            seen.add(a.item_id)
            correct = 1 if a.score >= 1.0 and a.hints_used == 0 else 0
            for c in a.concepts:
                seqs[c][learner.name].append(correct)
    return {c: list(per.values()) for c, per in seqs.items()}


def _loglik_and_counts(seqs: Sequence[Sequence[int]], L0: float, T: float, S: float, G: float,
                       ) -> tuple[float, tuple[float, ...]]:
    """One E-step: log-likelihood and the expected counts for the M-step."""
    ll = 0.0
    init_known = 0.0
    trans_num = trans_den = 0.0
    guess_num = guess_den = slip_num = slip_den = 0.0
    for obs in seqs:
        n = len(obs)
        if n == 0:
            continue
        # scaled forward pass: alpha[t] = P(K_t = 1 | o_1..t)
        alpha: list[tuple[float, float]] = []
        scales: list[float] = []
        prior1 = L0
        for t, o in enumerate(obs):
            if t:
                a0, a1 = alpha[-1]
                prior1 = a1 + a0 * T
            e1 = (1 - S) if o else S
            e0 = G if o else (1 - G)
            u1, u0 = prior1 * e1, (1 - prior1) * e0
            c = u0 + u1
            scales.append(c)
            alpha.append((u0 / c, u1 / c))
            ll += math.log(c)
        # backward pass (scaled) and posteriors
        beta0, beta1 = 1.0, 1.0
        gammas: list[tuple[float, float]] = [(0.0, 0.0)] * n
        for t in range(n - 1, -1, -1):
            a0, a1 = alpha[t]
            g0, g1 = a0 * beta0, a1 * beta1
            z = g0 + g1
            gammas[t] = (g0 / z, g1 / z)
            if t > 0:
                o = obs[t]
                e1 = (1 - S) if o else S
                e0 = G if o else (1 - G)
                p0, p1 = alpha[t - 1]
                # xi(0 -> 1) between t-1 and t, normalised by the scale of step t
                xi01 = p0 * T * e1 * beta1 / scales[t]
                trans_num += xi01
                trans_den += _gamma_prev0(p0, p1, T, e0, e1, beta0, beta1, scales[t])
                nb0 = ((1 - T) * e0 * beta0 + T * e1 * beta1) / scales[t]
                nb1 = (e1 * beta1) / scales[t]
                beta0, beta1 = nb0, nb1
        init_known += gammas[0][1]
        for (g0, g1), o in zip(gammas, obs, strict=True):
            guess_den += g0
            slip_den += g1
            if o:
                guess_num += g0
            else:
                slip_num += g1
    return ll, (init_known, trans_num, trans_den, guess_num, guess_den, slip_num, slip_den)


def _gamma_prev0(p0: float, p1: float, T: float, e0: float, e1: float, beta0: float,
                 beta1: float, scale: float) -> float:
    """P(K_{t-1} = 0 | all observations), from the forward value at t-1 and the scaled backward
    values at t: the denominator of the transit update."""
    return p0 * ((1 - T) * e0 * beta0 + T * e1 * beta1) / scale


def _clamp(x: float, hi: float = 1 - _EPS) -> float:
    return min(hi, max(_EPS, x))


def fit_concept(seqs: Sequence[Sequence[int]], *, max_iter: int = 200, tol: float = 1e-6,
                starts: Sequence[tuple[float, float, float, float]] = (
                    (0.2, 0.1, 0.1, 0.2), (0.5, 0.2, 0.05, 0.1), (0.1, 0.3, 0.2, 0.25),
                    (0.4, 0.05, 0.15, 0.15)),
                ) -> tuple[float, float, float, float, float]:
    """(p_init, p_transit, p_slip, p_guess, log-likelihood), best of ``starts``."""
    n_seq = sum(1 for s in seqs if s)
    best: tuple[float, float, float, float, float] | None = None
    for L0, T, S, G in starts:
        prev = -math.inf
        ll = prev
        for _ in range(max_iter):
            ll, (ik, tn, td, gn, gd, sn, sd) = _loglik_and_counts(seqs, L0, T, S, G)
            L0 = _clamp(ik / max(n_seq, 1))
            T = _clamp(tn / td) if td > 0 else T
            G = _clamp(gn / gd, MAX_SLIP_GUESS) if gd > 0 else G
            S = _clamp(sn / sd, MAX_SLIP_GUESS) if sd > 0 else S
            if ll - prev < tol:
                break
            prev = ll
        ll, _ = _loglik_and_counts(seqs, L0, T, S, G)
        if best is None or ll > best[4]:
            best = (L0, T, S, G, ll)
    assert best is not None
    return best


def fit_class(data: ClassData, *, min_learners: int = MIN_LEARNERS,
              min_observations: int = MIN_OBSERVATIONS) -> list[BktFit]:
    """Every concept with observations, fitted or skipped with the reason, sorted by id."""
    out: list[BktFit] = []
    for concept, seqs in sorted(observations(data).items()):
        learners = sum(1 for s in seqs if s)
        nobs = sum(len(s) for s in seqs)
        if learners < min_learners or nobs < min_observations:
            out.append(BktFit(concept, learners, nobs, skipped=(
                f"too little data: {learners} learners, {nobs} observations "
                f"(needs {min_learners} and {min_observations})")))
            continue
        L0, T, S, G, ll = fit_concept(seqs)
        out.append(BktFit(concept, learners, nobs, round(L0, 4), round(T, 4), round(S, 4),
                          round(G, 4), round(ll, 3)))
    return out


def to_yaml(fits: list[BktFit], threshold: float | None = None) -> str:
    """The fitted ``bkt:`` blocks, one per concept id, to paste into concepts.yaml; skipped
    concepts as comments with the reason."""
    lines = [
        "# BKT parameters fitted by `tutor class fit-bkt` (EM / Baum-Welch; see docs/classroom.md).",
        "# Paste each concept's `bkt:` block into that concept's entry in concepts.yaml.",
    ]
    for f in fits:
        if f.skipped:
            lines.append(f"# {f.concept}: not fitted, {f.skipped}")
            continue
        extra = f", threshold: {threshold:g}" if threshold is not None else ""
        lines.append(f"{f.concept}:  # {f.learners} learners, {f.observations} observations, "
                     f"log-likelihood {f.log_likelihood}")
        lines.append(f"  bkt: {{p_init: {f.p_init}, p_transit: {f.p_transit}, "
                     f"p_slip: {f.p_slip}, p_guess: {f.p_guess}{extra}}}")
    return "\n".join(lines) + "\n"
