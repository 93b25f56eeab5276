"""Today's grid search (:mod:`mdrisk.impact.search`), run per patient: the baseline.

The same stages as :func:`~mdrisk.impact.search.search_worst_attack` (its coarse grid, then
two rounds of neighbours around the ``refine`` best stealthy candidates, with its own
candidate generators), but ranked per patient: every patient's refinement is around their own
best candidates, and every patient keeps their own best. That is the strongest use of the
grid's candidates against each patient, so the fairest baseline for a per-patient search.
Candidates are simulated by a :class:`~mdrisk.impact.candidate_runs.CandidateRunner`, so the
baseline sees the same days, forecaster and monitors as the new search; a candidate outside
the runner's box (a duration below its minimum) is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.impact.candidate_runs import CandidateRunner
from mdrisk.impact.fdi_signals import LEVEL_SIGNALS
from mdrisk.impact.search import Candidate, SearchBudget, coarse_candidates, neighbours
from mdrisk.impact.search_space import WorstCaseBudget
from mdrisk.impact.stealth import StealthLimits


@dataclass(frozen=True)
class GridBest:
    """One patient's best stealthy grid candidate (``None``: none stealthy)."""

    patient: str
    candidate: Candidate | None
    vector: np.ndarray | None
    harm_mean: float
    tie_breaker_mean: float
    candidates: int


def grid_per_patient(
    runner: CandidateRunner,
    budget: SearchBudget,
    *,
    refine: int = 4,
    max_rate: float = StealthLimits().max_rate,
) -> dict[str, GridBest]:
    """Every patient's best stealthy candidate of the grid search, refined per patient.

    ``max_rate``: the rate-of-change limit the grid's ramp times are derived from (the
    attacker knows it), as in :func:`~mdrisk.impact.search.search_worst_attack`.
    """
    space = runner.space
    n = len(runner.patients)
    seen: list[dict[Candidate, tuple[float, float, bool]]] = [{} for _ in range(n)]
    vectors: dict[Candidate, np.ndarray] = {}

    def run(per_patient: list[list[Candidate]]) -> None:
        owners, batch, order = [], [], []
        for p, candidates in enumerate(per_patient):
            for candidate in dict.fromkeys(candidates):
                if candidate in seen[p]:
                    continue
                if candidate not in vectors:
                    encoded = space.encode(candidate)
                    if encoded is None:
                        continue
                    vectors[candidate] = encoded
                owners.append(p)
                batch.append(vectors[candidate])
                order.append(candidate)
        if not batch:
            return
        results = runner.run(np.array(owners), np.array(batch))
        for k, (p, candidate) in enumerate(zip(owners, order, strict=True)):
            seen[p][candidate] = (
                round(float(results.primary_mean[k]), 6),
                float(results.secondary_mean[k]),
                bool(results.stealthy[k]),
            )

    def ranked(p: int) -> list[Candidate]:
        stealthy = [(v[:2], c.text, c) for c, v in seen[p].items() if v[2]]
        return [c for _, _, c in sorted(stealthy, key=lambda item: item[:2], reverse=True)]

    coarse = coarse_candidates(budget, max_rate, runner.sample_time)
    run([coarse] * n)
    for step in (max(budget.grid_min // 4, 1), max(budget.grid_min // 12, 1)):
        run(
            [
                [m for c in ranked(p)[:refine] for m in neighbours(c, budget, step, max_rate)]
                for p in range(n)
            ]
        )
    found = {}
    for p, name in enumerate(runner.patients):
        best = ranked(p)[:1]
        harm, tie = seen[p][best[0]][:2] if best else (0.0, 0.0)
        found[name] = GridBest(
            patient=name,
            candidate=best[0] if best else None,
            vector=vectors[best[0]] if best else None,
            harm_mean=harm,
            tie_breaker_mean=tie,
            candidates=len(seen[p]),
        )
    return found


def grid_budget(budget: WorstCaseBudget) -> SearchBudget | None:
    """Today's grid budget for the first level signal of a worst-case budget (None: none)."""
    for signal, magnitude in zip(budget.signals, budget.max_magnitude, strict=True):
        if signal in LEVEL_SIGNALS:
            return SearchBudget(
                signal=signal,
                max_offset=magnitude,
                max_duration_min=budget.max_duration_min,
                earliest_min=budget.earliest_onset_min,
                latest_min=budget.latest_onset_min,
                objective=budget.objective,
            )
    return None


def grid_seeds(runner: CandidateRunner) -> dict[str, list[np.ndarray]]:
    """Each patient's grid best as a starting candidate for the worst-case search (the
    grid's patient-days are counted by the runner)."""
    budget = grid_budget(runner.space.budget)
    if budget is None:
        return {}
    found = grid_per_patient(runner, budget)
    return {name: [best.vector] for name, best in found.items() if best.vector is not None}
