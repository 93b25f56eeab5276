"""The worst stealthy attack per patient: differential evolution over a continuous budget.

The attacker adapts to the victim: each patient gets their own search, and the answer is
each patient's worst case plus the population's distribution of those (median, 95th
percentile, worst), not one attack that must suit everyone on average.

* **Variables**: every attacked signal's magnitude, onset, duration and ramp share
  (:mod:`mdrisk.impact.search_space`), all continuous within the budget's box; several
  signals are attacked together (e.g. the CGM and carb entries).
* **Stages**: a structured scan of the box's edges at every time of day
  (:func:`structured_scan`); two zoom rounds around the best of the four most harmful times
  of day, onsets moved by a quarter then a twelfth of the scan's spacing, as the grid refines
  its best four (:func:`zoom_moves`); the evolution below from their best; a pattern search
  around the best of the two most harmful times of day with the rest of the budget. Where
  the minutes below 54 are still 0 the harm rests on small LBGI differences between the meal
  and the night, so the refinement keeps more than one time of day alive.
* **Optimiser**: :func:`scipy.optimize.differential_evolution` (``best1bin``), one per patient,
  with ``vectorized=True``: each generation is one call with the whole population, and the
  patients' populations are gathered into one simulated batch (:mod:`mdrisk.impact.lockstep`).
  The initial population is a Latin hypercube; candidates given in ``initial`` (e.g. the
  grid search's best for that patient) replace its first members. Tolerances are off, so
  the search spends exactly its budget; no polishing (the harm is piecewise constant).
* **Harm** of a candidate on a patient: the objective's change (attacked minus clean; by
  default minutes below 54 mg/dL) averaged over the Monte Carlo days
  (:mod:`mdrisk.impact.monte_carlo_days`), the tie-breaker's mean change (LBGI) breaking ties;
  the worst day is reported too. The best is ranked exactly so (objective, then tie-breaker)
  over every candidate tried; the optimiser itself sees objective + 3 x LBGI for the
  minutes-below objectives, so it can climb where the minutes are still 0.
* **Stealth**: a candidate counts only if no monitor alarms on any day for that patient
  (default: today's stealth limits; :mod:`mdrisk.impact.candidate_runs` takes any monitor
  factory). Others get a penalty above any harm, growing with their magnitude, so the
  population moves back towards what goes unnoticed.
* **Forecaster**: by default each patient is dosed by a model trained without them
  (:mod:`mdrisk.impact.forecasting.held_out`).

``evaluations`` is the budget per patient in simulated patient-days (candidates x days); the
result reports what was used in all, clean runs included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import differential_evolution
from scipy.stats import qmc

from mdrisk.impact.attacks.spec import AttackPlan
from mdrisk.impact.candidate_runs import CandidateRunner, MonitorFactory
from mdrisk.impact.lockstep import Ask, Lockstep
from mdrisk.impact.monte_carlo_days import MonteCarloDays
from mdrisk.impact.search import OBJECTIVES
from mdrisk.impact.search_space import BudgetError, SearchSpace, WorstCaseBudget

# What one unit of the tie-breaker is worth to the optimiser, in units of the objective: for
# minutes below 54 or 70 the LBGI guides the search where the minutes are still 0 (one LBGI
# unit is worth 3 minutes, one reading); elsewhere it only breaks ties.
GUIDE_WEIGHTS = {"below54": 3.0, "below70": 3.0}
TIE_WEIGHT = 1e-3
PENALTY = 1e6  # an alarmed candidate scores worse than any stealthy one
MIN_POPULATION = 10
POPULATION_PER_VARIABLE = 5
STRATEGY = "best1bin"
MUTATION = (0.5, 1.0)
RECOMBINATION = 0.7
SCAN_SHARE = 0.4  # of the candidates, spent on the structured scan before the evolution
REFINE_SHARE = 0.2  # of the generations after the scan, spent on the pattern search
REFINE_STEP = 0.05  # its first step, as a share of each variable's range
MODE_MIN = 180.0  # a time of day, for the diversity of the first generation
REFINE_MODES = 2  # times of day the pattern search refines, each around its best
ZOOM_CENTRES = 4  # times of day the zoom after the scan refines, as the grid its best 4
ZOOM_SHARE = 0.25  # of the candidates, spent on the zoom (two rounds)
ZOOM_RAMP = 0.05  # ramp share moved by the zoom
OPTIMISER = (
    "a structured scan of the box's edges and times of day, two zoom rounds around the best "
    "4 times of day, then scipy differential_evolution (best1bin, vectorized, deferred "
    "updating) from their best, then a pattern search around each patient's 2 most harmful "
    "times of day"
)


@dataclass(frozen=True)
class PatientWorstCase:
    """The most harmful stealthy attack found for one patient (``plan`` None: none found)."""

    patient: str
    plan: AttackPlan | None
    vector: tuple[float, ...] | None
    harm_mean: float  # objective change, mean over the Monte Carlo days
    harm_worst_day: float
    tie_breaker_mean: float
    candidates: int  # candidate attacks tried on this patient
    patient_days: int  # attacked patient-days simulated for them
    clean_alarms: tuple[str, ...]  # alarms the clean days already raise (limits unfit)
    from_initial: bool  # the best is one of the given initial candidates

    @property
    def attack(self) -> str:
        return self.plan.text if self.plan is not None else "none stealthy"


@dataclass(frozen=True)
class WorstCaseResult:
    """Every patient's worst case, the population's distribution, and the cost."""

    budget: WorstCaseBudget
    days: MonteCarloDays
    controller: str
    forecaster: str
    optimiser: str
    patients: tuple[PatientWorstCase, ...]
    patient_days: int  # every simulated patient-day, clean runs included
    elapsed_s: float

    @property
    def harms(self) -> np.ndarray:
        return np.array([p.harm_mean for p in self.patients])

    @property
    def distribution(self) -> dict[str, float]:
        """Median, 95th percentile and worst of the per-patient worst cases."""
        harms = self.harms
        return {
            "median": float(np.median(harms)),
            "p95": float(np.percentile(harms, 95)),
            "worst": float(np.max(harms)),
        }


class _Best:
    """The most harmful stealthy candidate seen for one patient, and the best of each time
    of day (``MODE_MIN`` wide, by the first onset variable ``onset_column``)."""

    def __init__(self, onset_column: int | None = None) -> None:
        self.key: tuple[float, float] | None = None
        self.vector: np.ndarray | None = None
        self.worst_day = 0.0
        self.from_initial = False
        self.candidates = 0
        self.onset_column = onset_column
        self.modes: dict[int, tuple[tuple[float, float], np.ndarray]] = {}

    def offer(
        self, vector: np.ndarray, key: tuple[float, float], worst_day: float, initial: bool
    ) -> None:
        if self.key is None or key > self.key:
            self.key, self.vector, self.worst_day = key, vector.copy(), worst_day
            self.from_initial = initial
        if self.onset_column is not None:
            mode = int(vector[self.onset_column] // MODE_MIN)
            kept = self.modes.get(mode)
            if kept is None or key > kept[0]:
                self.modes[mode] = (key, vector.copy())

    def leaders(self, count: int) -> list[np.ndarray]:
        """The best candidates of the ``count`` most harmful times of day, best first."""
        if not self.modes:
            return [] if self.vector is None else [self.vector]
        ranked = sorted(self.modes.values(), key=lambda item: item[0], reverse=True)
        return [vector for _, vector in ranked[:count]]


def population_size(dimensions: int, candidates: int) -> int:
    """Members per generation: 5 per variable (at least 10), fewer when the budget is small.

    A small population run for many generations found more than a large one run for few
    (10 adults, 920 patient-days each: 10 per variable lost to the grid on some patients)."""
    return max(MIN_POPULATION, min(POPULATION_PER_VARIABLE * dimensions, candidates // 10))


def _levels(space: SearchSpace, column: int, onsets: int) -> np.ndarray:
    """The values the structured scan tries for one variable: a magnitude at either limit,
    the longest and a middle duration, a step and three ramps, ``onsets`` times of day."""
    low, high = space.lower[column], space.upper[column]
    name = space.names[column]
    if name.endswith(".onset"):
        return low + (high - low) * np.arange(onsets) / onsets
    if name.endswith((".magnitude", ".amount")):
        return np.array([high] if low >= 0 else [low, high])
    if name.endswith(".duration"):
        return np.array([high, (low + high) / 2.0])
    # Ramp share: a step, then ramps from short (the shortest an alarm on the rate of change
    # lets through is unknown here) to slow.
    return low + (high - low) * np.array([0.0, 0.125, 0.25, 0.5])


def structured_scan(space: SearchSpace, count: int) -> np.ndarray:
    """At most ``count`` candidates: every combination of each variable's scan levels, with
    as many onsets per signal as fit. The strongest attacks sit on the box's edges and their
    harm turns on the time of day (before a meal, at night), where an evolution started at
    random points can settle on one time of day and never see another."""
    onset_columns = [i for i, n in enumerate(space.names) if n.endswith(".onset")]
    others = int(np.prod([len(_levels(space, c, 1)) for c in range(space.size)]))
    per_onset = max(int((count / others) ** (1.0 / max(len(onset_columns), 1))), 1)
    grids = np.meshgrid(*[_levels(space, c, per_onset) for c in range(space.size)])
    scan = np.stack([g.ravel() for g in grids], axis=1)
    return scan[:count]


def zoom_moves(space: SearchSpace, centre: np.ndarray, onset_step: float) -> np.ndarray:
    """Candidates near a scanned one, as the grid refines its best: every onset moved by up
    to two ``onset_step`` either way, ramps a little steeper and slower, and the duration
    shortened by one step; magnitudes kept (the scan has them at the box's edge)."""
    names = space.names
    onsets = [i for i, n in enumerate(names) if n.endswith(".onset")]
    ramps = [i for i, n in enumerate(names) if n.endswith(".ramp_share")]
    durations = [i for i, n in enumerate(names) if n.endswith(".duration")]
    moves = []
    for shift in (-2, -1, 0, 1, 2):
        for ramp in (-ZOOM_RAMP, 0.0, ZOOM_RAMP):
            for shorter in (0.0, onset_step):
                if not (shift or ramp or shorter):
                    continue
                moved = centre.copy()
                moved[onsets] += shift * onset_step
                moved[ramps] += ramp
                moved[durations] -= shorter
                moves.append(moved)
    return np.clip(np.array(moves), space.lower, space.upper)


def _zoom(
    ask: Ask,
    best: _Best,
    space: SearchSpace,
    spacing: float,
    rounds: Sequence[int],
    rng: np.random.Generator,
) -> None:
    """Coarse to fine around the best of the ``ZOOM_CENTRES`` most harmful times of day: each
    round moves onsets by a quarter, then a twelfth, of the scan's spacing, ``rounds[i]``
    candidates a round."""
    for size, fraction in zip(rounds, (4.0, 12.0), strict=False):
        centres = best.leaders(ZOOM_CENTRES)
        moves = np.empty((0, space.size))
        if centres:
            moves = np.concatenate([zoom_moves(space, c, spacing / fraction) for c in centres])
        if len(moves) < size:  # few or no times of day seen: the rest samples the box
            sample = qmc.LatinHypercube(d=space.size, rng=rng).random(size - len(moves))
            moves = np.concatenate([moves, qmc.scale(sample, space.lower, space.upper)])
        ask(moves[:size])


def _diverse_first(space: SearchSpace, scan: np.ndarray, fitness: np.ndarray) -> np.ndarray:
    """The scanned candidates, best first, but the best of each time of day (``MODE_MIN``
    wide, by the first onset variable) ahead of the others: the evolution then starts at the
    meals and nights where the harm lies, not only around the single best."""
    order = np.argsort(fitness, kind="stable")
    onsets = [i for i, n in enumerate(space.names) if n.endswith(".onset")]
    if not onsets:
        return scan[order]
    modes = (scan[order, onsets[0]] // MODE_MIN).astype(int)
    _, first = np.unique(modes, return_index=True)
    leaders = np.sort(first)  # each mode's best, in order of fitness
    rest = np.setdiff1d(np.arange(len(order)), leaders, assume_unique=True)
    return scan[order[np.concatenate([leaders, rest])]]


def _initial_population(
    space: SearchSpace,
    size: int,
    rng: np.random.Generator,
    given: Sequence[np.ndarray],
    scanned: np.ndarray | None = None,
) -> np.ndarray:
    """Half the scan's best (``scanned``, best first) and half a Latin hypercube; candidates
    ``given`` replace the first members."""
    sample = qmc.LatinHypercube(d=space.size, rng=rng).random(size)
    population = qmc.scale(sample, space.lower, space.upper)
    if scanned is not None:
        best = scanned[: size // 2]
        population[: len(best)] = best
    for row, vector in enumerate(list(given)[:size]):
        population[row] = np.clip(vector, space.lower, space.upper)
    return population


def _pattern_moves(
    space: SearchSpace, centre: np.ndarray, step: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` candidates around ``centre``: each variable moved up and down by its step,
    then random moves within the step."""
    moves = []
    for column in range(space.size):
        for sign in (1.0, -1.0):
            moved = centre.copy()
            moved[column] += sign * step[column]
            moves.append(moved)
    while len(moves) < size:
        moves.append(centre + step * rng.uniform(-1.0, 1.0, space.size))
    return np.clip(np.array(moves[:size]), space.lower, space.upper)


def _refine(
    ask: Ask, best: _Best, space: SearchSpace, batches: Sequence[int], rng: np.random.Generator
) -> None:
    """Spend ``batches`` (candidates per round) on pattern searches around the best of the
    ``REFINE_MODES`` most harmful times of day (which ``ask`` keeps up to date), each round
    shared between them; a centre's step halves after a round that found nothing better
    there. Harm where the minutes below 54 are still 0 rests on small LBGI differences, and
    the evolution can settle on the night when the meal held the worse attack. With no
    stealthy attack yet, keep sampling the whole box."""
    full = (space.upper - space.lower) * REFINE_STEP
    steps: dict[int, np.ndarray] = {}
    for size in batches:
        if best.vector is None:
            sample = qmc.LatinHypercube(d=space.size, rng=rng).random(size)
            ask(qmc.scale(sample, space.lower, space.upper))
            continue
        centres = best.leaders(REFINE_MODES)
        shares = np.array_split(np.arange(size), len(centres))
        moves, owners = [], []
        for centre, share in zip(centres, shares, strict=True):
            if len(share) == 0:
                continue
            mode = _mode_of(best, centre)
            step = steps.setdefault(mode, full.copy())
            moves.append(_pattern_moves(space, centre, step, len(share), rng))
            owners.append((mode, best.modes.get(mode, (best.key, centre))[0]))
        ask(np.concatenate(moves))
        for mode, before in owners:
            if best.modes.get(mode, (before,))[0] == before:
                steps[mode] = steps[mode] / 2.0


def _mode_of(best: _Best, vector: np.ndarray) -> int:
    return -1 if best.onset_column is None else int(vector[best.onset_column] // MODE_MIN)


def search_worst_case(
    patients: Sequence[str],
    budget: WorstCaseBudget | None = None,
    *,
    evaluations: int = 1000,
    days: MonteCarloDays | None = None,
    controller: str = "ml_advised",
    monitors: Sequence[MonitorFactory] | None = None,
    forecaster: str = "held_out",
    seed: int = 0,
    initial: Mapping[str, Sequence[np.ndarray]] | None = None,
    runner: CandidateRunner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WorstCaseResult:
    """Each patient's most harmful stealthy attack within ``budget``.

    ``evaluations``: attacked patient-days per patient (candidates x Monte Carlo days).
    ``initial``: per patient, candidate vectors placed in the first generation.
    ``runner``: reuse one (its space, days and monitors win over the arguments).
    ``progress(done, planned)``: patient-days simulated so far.
    """
    started = time.perf_counter()
    if not isinstance(evaluations, int | np.integer) or evaluations <= 0:
        raise BudgetError(f"evaluations must be a positive whole number, not {evaluations}")
    space = SearchSpace(budget or WorstCaseBudget()) if runner is None else runner.space
    if runner is None:
        runner = CandidateRunner(
            patients,
            space,
            days=days,
            controller=controller,
            monitors=monitors,
            forecaster=forecaster,
        )
    n_days = runner.days.days
    index_of = {name: i for i, name in enumerate(runner.patients)}
    chosen = list(patients)
    if any(name not in index_of for name in chosen):
        raise ValueError("the runner simulates other patients than those asked for")
    candidates = int(evaluations) // n_days
    size = population_size(space.size, candidates)
    scan = structured_scan(space, int(candidates * SCAN_SHARE))
    zoom_rounds = [int(candidates * ZOOM_SHARE) // 2] * 2
    if candidates - len(scan) - sum(zoom_rounds) < 2 * size:
        scan, zoom_rounds = scan[:0], []
    onsets = [i for i, n in enumerate(space.names) if n.endswith(".onset")]
    spacing = (
        (space.upper[onsets[0]] - space.lower[onsets[0]]) / len(np.unique(scan[:, onsets[0]]))
        if onsets and len(scan)
        else 0.0
    )
    zoom_rounds = zoom_rounds if spacing else []
    head = len(scan) + sum(zoom_rounds)
    generations = (candidates - head) // size - 1
    refine_rounds = int(generations * REFINE_SHARE)
    # What the whole generations leave of the budget is one last, smaller round.
    leftover = candidates - head - size * (generations + 1)
    refine_batches = [size] * refine_rounds + ([leftover] if leftover > 0 else [])
    if generations < 1:
        raise BudgetError(
            f"{evaluations} patient-days per patient is too few for a search over "
            f"{n_days} day(s): at least {2 * size * n_days} are needed"
        )
    bests = {name: _Best(onsets[0] if onsets else None) for name in chosen}
    initial = initial or {}
    initial_keys = {
        name: {tuple(np.round(np.clip(v, space.lower, space.upper), 9)) for v in vectors}
        for name, vectors in initial.items()
    }
    start_days = runner.patient_days
    planned = len(chosen) * candidates * n_days
    guide = GUIDE_WEIGHTS.get(space.budget.objective, TIE_WEIGHT)
    magnitudes = space.magnitude_columns
    magnitude_spread = (space.upper - space.lower)[magnitudes]

    def evaluate(parts: Sequence[tuple[str, np.ndarray]]) -> list[np.ndarray]:
        vectors = np.concatenate([np.asarray(v) for _, v in parts])
        owners = np.concatenate([np.full(len(v), index_of[n]) for n, v in parts])
        results = runner.run(owners, vectors)
        scores = results.primary_mean + guide * results.secondary_mean
        size_share = np.abs(vectors[:, magnitudes]).sum(axis=1) / magnitude_spread.sum()
        fitness = np.where(results.stealthy, -scores, PENALTY + size_share)
        answers, at = [], 0
        for name, population in parts:
            count = len(population)
            best = bests[name]
            best.candidates += count
            for k in np.flatnonzero(results.stealthy[at : at + count]) + at:
                vector = vectors[k]
                key = (round(float(results.primary_mean[k]), 6), float(results.secondary_mean[k]))
                seeded = tuple(np.round(vector, 9)) in initial_keys.get(name, set())
                best.offer(vector, key, float(results.primary_worst[k]), seeded)
            answers.append(fitness[at : at + count])
            at += count
        if progress is not None:
            progress(runner.patient_days - start_days, planned)
        return answers

    def job(name: str) -> Callable[[Ask], None]:
        rng = np.random.default_rng([seed, index_of[name]])

        def solve(ask: Ask) -> None:
            scanned = None
            if len(scan):
                scanned = _diverse_first(space, scan, ask(scan))
                _zoom(ask, bests[name], space, spacing, zoom_rounds, rng)
                leaders = bests[name].leaders(ZOOM_CENTRES)
                if leaders:
                    scanned = np.concatenate([np.array(leaders), scanned])
            population = _initial_population(space, size, rng, initial.get(name, ()), scanned)
            differential_evolution(
                lambda x: ask(np.asarray(x).T),
                bounds=list(space.bounds),
                maxiter=generations - refine_rounds,
                init=population,
                vectorized=True,
                updating="deferred",
                polish=False,
                tol=0.0,
                atol=0.0,
                rng=rng,
                strategy=STRATEGY,
                mutation=MUTATION,
                recombination=RECOMBINATION,
            )
            _refine(ask, bests[name], space, refine_batches, rng)

        return solve

    Lockstep(evaluate).run({name: job(name) for name in chosen})
    found = []
    for name in chosen:
        best = bests[name]
        vector = best.vector
        harm, tie = best.key if best.key is not None else (0.0, 0.0)
        found.append(
            PatientWorstCase(
                patient=name,
                plan=None if vector is None else space.plan(vector, name=f"worst case for {name}"),
                vector=None if vector is None else tuple(float(v) for v in vector),
                harm_mean=float(harm),
                harm_worst_day=best.worst_day,
                tie_breaker_mean=float(tie),
                candidates=best.candidates,
                patient_days=best.candidates * n_days,
                clean_alarms=runner.clean_alarms[index_of[name]],
                from_initial=best.from_initial,
            )
        )
    return WorstCaseResult(
        budget=space.budget,
        days=runner.days,
        controller=runner.controller,
        forecaster=runner.forecaster_text,
        optimiser=OPTIMISER,
        patients=tuple(found),
        patient_days=runner.patient_days,
        elapsed_s=time.perf_counter() - started,
    )


def result_record(result: WorstCaseResult) -> dict[str, Any]:
    """The result as plain data (JSON output, tables)."""
    primary, secondary = OBJECTIVES[result.budget.objective]
    return {
        "budget": result.budget.text,
        "objective": {"metric": primary, "tie_breaker": secondary},
        "days": result.days.text,
        "controller": result.controller,
        "forecaster": result.forecaster,
        "optimiser": result.optimiser,
        "patient_days": result.patient_days,
        "elapsed_s": round(result.elapsed_s, 2),
        "distribution": {k: round(v, 3) for k, v in result.distribution.items()},
        "patients": [
            {
                "patient": p.patient,
                "attack": p.plan.text if p.plan is not None else None,
                "harm_mean": round(p.harm_mean, 3),
                "harm_worst_day": round(p.harm_worst_day, 3),
                "tie_breaker_mean": round(p.tie_breaker_mean, 4),
                "candidates": p.candidates,
                "patient_days": p.patient_days,
                "clean_alarms": list(p.clean_alarms),
                "from_initial": p.from_initial,
            }
            for p in result.patients
        ],
    }
