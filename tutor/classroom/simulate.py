"""A synthetic class drawn from known BKT parameters: for tests, the benchmark and for trying the
class report before a real class exists.

Each learner answers ``items_per_concept`` questions per concept in order; the hidden knowledge
state follows BKT (Corbett & Anderson 1995) with the given parameters, so ``tutor class fit-bkt``
should recover them. A planted item answers right with probability 0.5 whatever the learner
knows: it measures nothing and must be flagged non-discriminating.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class TrueBkt:
    """The generating parameters."""

    p_init: float = 0.2
    p_transit: float = 0.15
    p_slip: float = 0.1
    p_guess: float = 0.2


def simulate_class(n_learners: int, concepts: list[str], items_per_concept: int, *,
                   params: TrueBkt = TrueBkt(), seed: int = 0, planted: str | None = "noise-item",
                   labs: tuple[str, ...] = ("lab-1.1",), ability_spread: float = 0.0,
                   ) -> list[str]:
    """One jsonl export text per learner (the format of ``tutor export --format jsonl``).

    ``ability_spread`` > 0 gives each learner an ability a in [0, 1] and moves their p_init and
    p_transit towards a by that share (real classes differ; 0 = every learner has ``params``)."""
    rng = random.Random(seed)
    t0 = datetime(2026, 9, 1, tzinfo=UTC)
    exports: list[str] = []
    for li in range(n_learners):
        name = f"learner{li:04d}"
        lines: list[dict[str, object]] = []
        aid = 0
        ability = rng.random()
        mine = TrueBkt(
            p_init=params.p_init * (1 - ability_spread) + ability_spread * ability,
            p_transit=params.p_transit * (1 - ability_spread) + ability_spread * ability,
            p_slip=params.p_slip, p_guess=params.p_guess)
        for c in concepts:
            known = rng.random() < mine.p_init
            p_post = params.p_init
            for k in range(items_per_concept):
                aid += 1
                p_right = 1 - params.p_slip if known else params.p_guess
                right = rng.random() < p_right
                lines.append(_attempt(name, aid, f"{c}-q{k}", c, right, rng, t0))
                p_post = _posterior(p_post, right, params)
                if not known and rng.random() < mine.p_transit:
                    known = True
            lines.append({"type": "mastery", "learner": name, "concept": c,
                          "p_known": round(p_post, 6),
                          "state": "mastered" if p_post >= 0.95 else "learning",
                          "attempts": items_per_concept})
        if planted:
            aid += 1
            lines.append(_attempt(name, aid, planted, concepts[0], rng.random() < 0.5, rng, t0))
        lines.append({"type": "pacing", "learner": name, "plan_day": rng.randint(1, 20),
                      "expected_day": 10, "days_ahead": rng.randint(-5, 3),
                      "hours_left": 10.0, "finished": False, "start_date": "2026-09-01"})
        for lab in labs:
            frac = [min(1.0, max(0.0, rng.gauss(0.5 + ability / 2, 0.15))) for _ in range(4)]
            lines.append({"type": "lab", "learner": name, "lab_id": lab,
                          "score": round(sum(frac) / 4, 4), "passed": sum(frac) / 4 >= 0.6,
                          "created_at": t0.isoformat(),
                          "buckets": [{"id": b, "fraction": round(f, 4), "evidence": True}
                                      for b, f in zip(("concepts", "implementation", "analysis",
                                                       "innovation"), frac, strict=True)]})
        exports.append("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    return exports


def _posterior(p: float, right: bool, b: TrueBkt) -> float:
    if right:
        post = p * (1 - b.p_slip) / (p * (1 - b.p_slip) + (1 - p) * b.p_guess)
    else:
        post = p * b.p_slip / (p * b.p_slip + (1 - p) * (1 - b.p_guess))
    return post + (1 - post) * b.p_transit


def _attempt(name: str, aid: int, item: str, concept: str, right: bool, rng: random.Random,
             t0: datetime) -> dict[str, object]:
    return {"type": "attempt", "id": aid, "learner": name, "item_id": item,
            "concepts": [concept], "answer": "a" if right else rng.choice(["b", "c", "d"]),
            "status": "correct" if right else "incorrect", "score": 1.0 if right else 0.0,
            "hints_used": 0, "duration_s": round(rng.uniform(10, 120), 1),
            "created_at": (t0 + timedelta(minutes=aid)).isoformat(), "seed": None, "note": None}
