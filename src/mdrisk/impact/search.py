"""The worst stealthy attack within a budget, found by simulating candidates side by side.

The attacker adds an offset to one signal (the CGM reading by default) and is limited by a
**budget**: the offset's magnitude (``max``), how long it lasts (``duration``), and when it may
start (``from``/``to``, on a ``grid``). Two shapes are searched:

* ``bias``: the naive attack, a constant offset switched on and off;
* ``ramp``: an offset that rises linearly to its peak over ``ramp`` minutes, holds, and falls
  back (``ramp:+60/20min``). It never jumps, so it can stay under the rate-of-change limit,
  and while it rises the forecaster reads a rising trend and forecasts beyond the offset itself.

The search is coarse to fine: every start on the grid with the full and half duration, both
signs, a step and two ramp times; then, twice, the best stealthy candidates' neighbours (start
moved by a quarter and a twelfth of the grid, other ramp times and durations). Every stage is
one batch (candidates x patients, plus the clean runs), chunked to bound memory.

A candidate's **harm** is the objective metric of the attacked run minus the clean run, averaged
over the patients (default: minutes below 54 mg/dL, ties broken by the LBGI increase). It is
**stealthy** when no patient's run trips any stealth alarm (:mod:`mdrisk.impact.stealth`).
The **naive** attack is the best constant bias of the full magnitude and duration on the same
grid, whether stealthy or not: the strongest thing an analyst would try by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN, Window
from mdrisk.impact.attacks.bias import Bias
from mdrisk.impact.attacks.ramp import Ramp
from mdrisk.impact.attacks.spec import AttackPlan, AttackSpec, SpecError
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.experiment import (
    AttackRuns,
    RunSetup,
    controller_for,
    repeat_days,
    run_attacks,
)
from mdrisk.impact.fdi_signals import ALL_SIGNALS, ML_SIGNALS
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.harm import PatientHarm, compare_runs, take_rows
from mdrisk.impact.params import load_patients, load_sensor
from mdrisk.impact.simulate import simulate
from mdrisk.impact.stealth import StealthMonitor
from mdrisk.impact.taps import TapChain

# objective: (metric to maximise, tie-breaker); all from HarmMetrics rows.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "below54": ("minutes_below_54", "lbgi"),
    "below70": ("minutes_below_70", "lbgi"),
    "lbgi": ("lbgi", "minutes_below_70"),
    "above250": ("minutes_above_250", "hbgi"),
    "hbgi": ("hbgi", "minutes_above_250"),
}
MAX_ROWS_PER_BATCH = 4000
# Ramp times tried, as multiples of the shortest ramp that keeps the attack's own slope at
# three quarters of the rate-of-change limit (the attacker knows the limit; physiology adds
# its own slope on top).
RAMP_MULTIPLES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
QUIET_STEP_SHARES = (0.75, 0.375)  # of the largest step the rate check lets through


@dataclass(frozen=True)
class SearchBudget:
    """What the attacker may do. Text form (``--search``)::

    signal=cgm,max=60,duration=4h,grid=60min,from=00:00,to=24:00,objective=below54
    """

    signal: str = "cgm"
    max_offset: float = 60.0
    max_duration_min: int = 240
    grid_min: int = 60
    earliest_min: int = 0
    latest_min: int = DAY_MIN
    objective: str = "below54"

    @property
    def text(self) -> str:
        return (
            f"signal={self.signal},max={self.max_offset:g},"
            f"duration={self.max_duration_min}min,grid={self.grid_min}min,"
            f"from={Window.clock(self.earliest_min)},to={Window.clock(self.latest_min)},"
            f"objective={self.objective}"
        )


_KEYS = ("signal", "max", "duration", "grid", "from", "to", "objective")


def _minutes(spec: str, value: str, at: int, what: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(min|m|h)?", value)
    if not match or float(match.group(1)) <= 0:
        raise SpecError(
            spec,
            at,
            f"{what} {value!r} is not a duration",
            "write minutes or hours, e.g. 90min or 4h",
        )
    minutes = float(match.group(1)) * (60.0 if match.group(2) == "h" else 1.0)
    if minutes != int(minutes):
        raise SpecError(spec, at, f"{what} must be whole minutes")
    return int(minutes)


def _clock(spec: str, value: str, at: int) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if (
        not match
        or int(match.group(2)) > 59
        or int(match.group(1)) * 60 + int(match.group(2)) > DAY_MIN
    ):
        raise SpecError(spec, at, f"{value!r} is not a time of day", "write HH:MM, e.g. 06:00")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_budget(text: str) -> SearchBudget:
    """A budget from ``key=value`` pairs (any subset; the rest keep their defaults)."""
    budget = SearchBudget()
    if text.strip() in ("", "default"):
        return budget
    at = 0
    seen: set[str] = set()
    for part in text.split(","):
        key, equals, value = part.partition("=")
        key_clean, value_clean = key.strip(), value.strip()
        value_at = at + len(key) + 1 + (len(value) - len(value.lstrip()))
        if not equals or key_clean not in _KEYS:
            raise SpecError(
                text,
                at,
                f"{part.strip()!r} is not a budget setting",
                f"write key=value with keys {', '.join(_KEYS)}",
            )
        if key_clean in seen:
            raise SpecError(text, at, f"{key_clean} given twice")
        seen.add(key_clean)
        if key_clean == "signal":
            if value_clean not in ALL_SIGNALS:
                raise SpecError(
                    text,
                    value_at,
                    f"unknown signal {value_clean!r}",
                    f"signals: {', '.join(ALL_SIGNALS)}",
                )
            budget = replace(budget, signal=value_clean)
        elif key_clean == "max":
            try:
                offset = float(value_clean.lstrip("+"))
            except ValueError:
                offset = float("nan")
            if not np.isfinite(offset) or offset <= 0:
                raise SpecError(
                    text,
                    value_at,
                    f"max {value_clean!r} is not a positive number",
                    "write the largest offset, e.g. max=60",
                )
            budget = replace(budget, max_offset=offset)
        elif key_clean == "duration":
            budget = replace(
                budget, max_duration_min=_minutes(text, value_clean, value_at, "duration")
            )
        elif key_clean == "grid":
            budget = replace(budget, grid_min=_minutes(text, value_clean, value_at, "grid"))
        elif key_clean == "from":
            budget = replace(budget, earliest_min=_clock(text, value_clean, value_at))
        elif key_clean == "to":
            budget = replace(budget, latest_min=_clock(text, value_clean, value_at))
        elif key_clean == "objective":
            if value_clean not in OBJECTIVES:
                raise SpecError(
                    text,
                    value_at,
                    f"unknown objective {value_clean!r}",
                    f"objectives: {', '.join(OBJECTIVES)}",
                )
            budget = replace(budget, objective=value_clean)
        at += len(part) + 1
    if budget.latest_min <= budget.earliest_min:
        raise SpecError(text, 0, "'to' must be later than 'from'")
    if budget.max_duration_min > DAY_MIN or budget.grid_min > DAY_MIN:
        raise SpecError(text, 0, "duration and grid must be at most 24h")
    return budget


@dataclass(frozen=True)
class Candidate:
    """One attack the search tries: a bias (``ramp_min`` None) or a ramp, on a window."""

    signal: str
    offset: float
    start_min: int
    duration_min: int
    ramp_min: float | None = None

    @property
    def spec(self) -> AttackSpec:
        end = (self.start_min + self.duration_min) % DAY_MIN
        if self.ramp_min is None:
            return AttackSpec("bias", self.signal, (("offset", self.offset),), self.start_min, end)
        return AttackSpec(
            "ramp",
            self.signal,
            (("peak", self.offset), ("ramp_min", float(self.ramp_min))),
            self.start_min,
            end,
        )

    @property
    def text(self) -> str:
        return self.spec.text


@dataclass(frozen=True)
class Outcome:
    """A candidate's result over the patients."""

    candidate: Candidate
    harm: tuple[PatientHarm, ...]
    stealthy_patients: tuple[bool, ...]
    alarms: tuple[tuple[str, ...], ...]
    objective: str

    @property
    def stealthy(self) -> bool:
        return all(self.stealthy_patients)

    def mean_delta(self, metric: str) -> float:
        return float(
            np.mean([h.delta.get(metric, h.attacked[metric] - h.clean[metric]) for h in self.harm])
        )

    @property
    def score(self) -> tuple[float, float]:
        primary, secondary = OBJECTIVES[self.objective]
        return (round(self.mean_delta(primary), 6), round(self.mean_delta(secondary), 6))


@dataclass(frozen=True)
class SearchResult:
    """The search's findings. ``best``: the most harmful stealthy candidate. ``naive``: the
    most harmful stealthy constant bias (the hand-made attack that respects the same stealth
    limits). ``naive_full``: the most harmful constant bias of the full magnitude and duration,
    stealthy or not (usually caught by the rate-of-change check at its first reading)."""

    budget: SearchBudget
    setup: RunSetup
    evaluated: int
    best: Outcome | None
    naive: Outcome | None
    naive_full: Outcome
    ranked: tuple[Outcome, ...]  # the most harmful stealthy candidates, best first

    @property
    def plans(self) -> list[AttackPlan]:
        found = [
            ("worst stealthy attack", self.best),
            ("naive stealthy bias", self.naive),
            ("naive full-budget bias", self.naive_full),
        ]
        return [AttackPlan((o.candidate.spec,), name=name) for name, o in found if o is not None]


def _starts(budget: SearchBudget, step: int) -> list[int]:
    return list(range(budget.earliest_min, budget.latest_min, max(step, 1)))


def shortest_ramp(budget: SearchBudget, max_rate: float) -> float:
    """Minutes to reach the full offset at three quarters of the rate limit (at least 5)."""
    return max(5.0, float(np.ceil(budget.max_offset / (0.75 * max_rate) / 5.0) * 5.0))


def coarse_candidates(
    budget: SearchBudget, max_rate: float, sample_time_min: int
) -> list[Candidate]:
    """Every grid start x {full, half duration} x {+max, -max} x {step, two ramps (the shortest
    ramp under the rate limit, and twice as long)}, plus the constant biases small enough for
    their step to pass the rate-of-change check (3/4 and 3/8 of ``max_rate`` x the sample
    time): the naive attacker who knows the limit."""
    quiet = min(budget.max_offset, max_rate * sample_time_min)
    durations = sorted({budget.max_duration_min, max(budget.max_duration_min // 2, 15)})
    ramp_min = shortest_ramp(budget, max_rate)
    candidates = []
    for start in _starts(budget, budget.grid_min):
        for sign in (1.0, -1.0):
            for share in QUIET_STEP_SHARES:
                candidates.append(
                    Candidate(budget.signal, sign * quiet * share, start, budget.max_duration_min)
                )
            for duration in durations:
                offset = sign * budget.max_offset
                candidates.append(Candidate(budget.signal, offset, start, duration))
                for ramp in (ramp_min, 2.0 * ramp_min):
                    if 2 * ramp <= duration:
                        candidates.append(Candidate(budget.signal, offset, start, duration, ramp))
    return candidates


def neighbours(
    candidate: Candidate, budget: SearchBudget, step: int, max_rate: float
) -> list[Candidate]:
    """Candidates near one: start moved by ``step``, other durations and ramp times."""
    found = []
    ramps = [m * shortest_ramp(budget, max_rate) for m in RAMP_MULTIPLES]
    starts = [candidate.start_min + k * step for k in (-2, -1, 0, 1, 2)]
    durations = {
        candidate.duration_min,
        candidate.duration_min - step,
        candidate.duration_min + step,
        budget.max_duration_min,
    }
    for start in starts:
        if not budget.earliest_min <= start < budget.latest_min:
            continue
        for duration in sorted(durations):
            if not 0 < duration <= budget.max_duration_min:
                continue
            found.append(Candidate(budget.signal, candidate.offset, start, duration))
            for ramp in ramps:
                if 2 * ramp <= duration:
                    found.append(Candidate(budget.signal, candidate.offset, start, duration, ramp))
    return found


def _batched_tap(candidates: Sequence[Candidate], n_patients: int, sample_time: int) -> AttackTap:
    """Two attack objects (bias, ramp) holding every candidate, one per block of rows."""
    offset = np.repeat([c.offset for c in candidates], n_patients)
    start = np.repeat([float(c.start_min) for c in candidates], n_patients)
    end = np.repeat(
        [float((c.start_min + c.duration_min) % DAY_MIN) for c in candidates], n_patients
    )
    ramp = np.repeat([c.ramp_min or 1.0 for c in candidates], n_patients)
    is_ramp = np.repeat([c.ramp_min is not None for c in candidates], n_patients)
    signal = candidates[0].signal
    window = Window(start, end)
    attacks = [
        Bias(signal, window, offset=offset),
        Ramp(signal, window, peak=offset, ramp_min=ramp),
    ]
    return AttackTap(attacks, sample_time, [~is_ramp, is_ramp])


def evaluate(
    setup: RunSetup,
    candidates: Sequence[Candidate],
    clean: AttackRuns,
    objective: str,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Simulate every candidate on every patient (in chunks) and compare with the clean runs."""
    patients = load_patients(setup.patients)
    n = len(patients)
    sample_time = load_sensor(setup.sensor).sample_time
    forecaster = default_forecaster()
    clean_metrics = take_rows(clean.result.metrics, clean.rows(0))
    per_chunk = max(1, MAX_ROWS_PER_BATCH // n)
    outcomes: list[Outcome] = []
    for first in range(0, len(candidates), per_chunk):
        chunk = list(candidates[first : first + per_chunk])
        batch = patients.take(np.tile(np.arange(n), len(chunk)))
        monitor = StealthMonitor(batch, sample_time, forecaster, setup.limits)
        chain = TapChain([_batched_tap(chunk, n, sample_time), monitor])
        result = simulate(
            batch,
            repeat_days(setup.scenario, setup.days),
            controller_for(setup.controller, chain),
            duration_min=setup.duration_min,
            sensor=setup.sensor,
            pump=setup.pump,
            noise=setup.noise,
            seed=[setup.seed + i for i in range(n)] * len(chunk),
            tap=chain,
            record=(),
        )
        stealth = monitor.report()
        for index, candidate in enumerate(chunk):
            rows = np.arange(index * n, (index + 1) * n)
            harm = compare_runs(setup.patients, clean_metrics, take_rows(result.metrics, rows))
            report = stealth.take(rows)
            outcomes.append(
                Outcome(
                    candidate=candidate,
                    harm=tuple(harm),
                    stealthy_patients=tuple(bool(s) for s in report.stealthy),
                    alarms=tuple(tuple(report.tripped(i)) for i in range(n)),
                    objective=objective,
                )
            )
        if progress is not None:
            progress(len(chunk))
    return outcomes


def search_worst_attack(
    setup: RunSetup,
    budget: SearchBudget = SearchBudget(),
    *,
    refine: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> SearchResult:
    """Coarse grid, then two rounds of refinement around the ``refine`` best stealthy ones.

    ``progress(done, planned)`` is called after each chunk (``planned`` grows as refinement
    rounds are added).
    """
    if budget.signal in ML_SIGNALS and setup.controller != "ml_advised":
        raise ValueError(f"the {budget.signal} signal exists only with the ml_advised controller")
    clean = run_attacks(setup, [])
    done = 0
    planned = 0
    seen: dict[Candidate, Outcome] = {}

    def run(candidates: list[Candidate]) -> None:
        nonlocal done, planned
        fresh = [c for c in dict.fromkeys(candidates) if c not in seen]
        planned += len(fresh)

        def step(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, planned)

        for outcome in evaluate(setup, fresh, clean, budget.objective, step):
            seen[outcome.candidate] = outcome

    def ranked() -> list[Outcome]:
        stealthy = [o for o in seen.values() if o.stealthy]
        return sorted(stealthy, key=lambda o: (o.score, o.candidate.text), reverse=True)

    max_rate = setup.limits.max_rate
    run(coarse_candidates(budget, max_rate, load_sensor(setup.sensor).sample_time))
    for step in (max(budget.grid_min // 4, 1), max(budget.grid_min // 12, 1)):
        around = [
            n for o in ranked()[:refine] for n in neighbours(o.candidate, budget, step, max_rate)
        ]
        run(around)

    def strongest(pool: list[Outcome]) -> Outcome | None:
        return max(pool, key=lambda o: (o.score, o.candidate.text)) if pool else None

    biases = [o for o in seen.values() if o.candidate.ramp_min is None]
    naive_full = strongest(
        [
            o
            for o in biases
            if o.candidate.duration_min == budget.max_duration_min
            and abs(o.candidate.offset) == budget.max_offset
        ]
    )
    assert naive_full is not None  # the coarse grid always has them
    best_list = ranked()
    return SearchResult(
        budget=budget,
        setup=setup,
        evaluated=len(seen),
        best=best_list[0] if best_list else None,
        naive=strongest([o for o in biases if o.stealthy]),
        naive_full=naive_full,
        ranked=tuple(best_list[:10]),
    )
