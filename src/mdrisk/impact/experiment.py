"""Attacked runs against clean runs, for many patients and attacks in one batch.

:func:`run_attacks` lays out one batch: the clean runs of every patient first, then one block
of every patient per attack plan (common random numbers: a patient's CGM noise and meter
errors are the same in every block, so the difference between blocks is the attack's). With
Monte Carlo days (``RunSetup.mc_days``) each patient has one row per random day in every block
(patient-major: patient 0's days, then patient 1's, ...). One :class:`AttackTap` applies
each plan to its block, a :class:`~mdrisk.impact.stealth.StealthMonitor` watches every row,
and the ML-advised controller gets the same tap chain so the attacks reach its internal
``iob`` and ``forecast`` signals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mdrisk.impact.attacks.base import ATTACKS, Attack, Window
from mdrisk.impact.attacks.spec import AttackPlan, AttackSpec
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.controllers.base import Controller, make_controller
from mdrisk.impact.controllers.ml_advised import MLAdvisedController
from mdrisk.impact.fdi_signals import ML_SIGNALS
from mdrisk.impact.fingerstick import Fingerstick
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.harm import PatientHarm, compare_runs, take_rows
from mdrisk.impact.mc_days import DayVariation, random_days
from mdrisk.impact.params import load_patients, load_sensor
from mdrisk.impact.scenario import Meal, MealScenario
from mdrisk.impact.simulate import SimulationResult, simulate
from mdrisk.impact.stealth import StealthLimits, StealthMonitor, StealthReport
from mdrisk.impact.taps import SCHEDULED_SIGNALS, TapChain

DEFAULT_DAY = MealScenario.from_hours([(7, 45), (12, 70), (18, 80), (21, 15)], name="reference day")
DAY_MIN = 1440


def repeat_days(day: MealScenario, days: int) -> MealScenario:
    """The same day's meals ``days`` times in a row."""

    def shifted(meals: tuple[Meal, ...]) -> tuple[Meal, ...]:
        return tuple(Meal(m.time_min + d * DAY_MIN, m.carbs_g) for d in range(days) for m in meals)

    return MealScenario(
        meals=shifted(day.meals),
        announced=None if day.announced is None else shifted(day.announced),
        name=day.name,
    )


@dataclass(frozen=True)
class RunSetup:
    """Who is simulated, on what day, with which controller and sensor.

    ``days`` consecutive days of ``scenario`` in each run; or, with ``mc_days``, that many
    independent random days around ``scenario`` (one row each, ``days`` must then be 1).
    ``fingerstick``: when the user measures with a meter (the app calibrates the CGM with
    it); ``None``: no meter, and attacks on ``fingerstick`` are refused.
    """

    patients: tuple[str, ...]
    scenario: MealScenario = DEFAULT_DAY
    controller: str = "ml_advised"
    days: int = 1
    sensor: str = "Dexcom"
    pump: str = "Insulet"
    noise: bool = False  # see mdrisk.impact.stealth: the limits are calibrated without
    seed: int = 1
    limits: StealthLimits = field(default_factory=StealthLimits)
    mc_days: int = 0
    variation: DayVariation = field(default_factory=DayVariation)
    fingerstick: Fingerstick | None = None

    def __post_init__(self) -> None:
        if self.mc_days < 0:
            raise ValueError(f"mc_days must not be negative: {self.mc_days}")
        if self.mc_days and self.days != 1:
            raise ValueError("random days (mc_days) are one day long each: leave days at 1")

    @property
    def duration_min(self) -> int:
        return self.days * DAY_MIN

    @property
    def days_per_patient(self) -> int:
        """Rows per patient in a block: the random days, or the one (multi-day) run."""
        return self.mc_days or 1

    def day_scenarios(self) -> list[MealScenario]:
        """The scenario of each of a patient's rows."""
        if self.mc_days:
            return random_days(self.scenario, self.mc_days, self.seed, self.variation)
        return [repeat_days(self.scenario, self.days)]


def needs_ml_controller(plans: Sequence[AttackPlan]) -> list[str]:
    """The specs that target a signal only the ML-advised controller has."""
    return [a.text for plan in plans for a in plan.attacks if a.signal in ML_SIGNALS]


class ProgressTap:
    """Reports the fraction of the run done, once per control period."""

    def __init__(self, duration_min: int, report: Callable[[float], None]) -> None:
        self.duration_min = duration_min
        self.report = report

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        if signal == "carbs":
            self.report(min(1.0, float(t_minutes) / self.duration_min))
        return values


def stack_attacks(
    plans: Sequence[AttackPlan], rows_of_plans: Sequence[np.ndarray], size: int
) -> tuple[list[Attack], list[np.ndarray]]:
    """One attack object per (position in the plan, family, signal), its parameters and
    window one value per row, acting on the rows of every plan that has it: a batch of many
    plans costs a few array operations per signal, not one per plan. Each row keeps its own
    plan's order of attacks (objects are ordered by position in the plan)."""
    groups: dict[tuple[int, str, str], list[tuple[np.ndarray, AttackSpec]]] = {}
    for plan, plan_rows in zip(plans, rows_of_plans, strict=True):
        for position, spec in enumerate(plan.attacks):
            groups.setdefault((position, spec.family, spec.signal), []).append(
                (np.asarray(plan_rows), spec)
            )
    attacks, masks = [], []
    for (_, family, signal), members in sorted(groups.items()):
        first = members[0][1]
        params = {name: np.full(size, value) for name, value in first.params}
        start = np.full(size, float(first.window.start))
        end = np.full(size, float(first.window.end))
        mask = np.zeros(size, dtype=bool)
        for member_rows, spec in members:
            for name, value in spec.params:
                params[name][member_rows] = value
            start[member_rows] = spec.window.start
            end[member_rows] = spec.window.end
            mask[member_rows] = True
        windows = {(spec.window.start, spec.window.end) for _, spec in members}
        # One window for every member: a scalar one, so the window costs no array per call.
        window = Window(*windows.pop()) if len(windows) == 1 else Window(start, end)
        attacks.append(ATTACKS[family](signal, window, **params))
        masks.append(mask)
    return attacks, masks


def needs_fingerstick(plans: Sequence[AttackPlan]) -> list[str]:
    """The specs that target a signal only a run with a fingerstick schedule has."""
    return [a.text for plan in plans for a in plan.attacks if a.signal in SCHEDULED_SIGNALS]


def controller_for(name: str, tap: TapChain, forecaster: Forecaster | None = None) -> Controller:
    """The named controller; the ML-advised one gets ``tap`` for its own signals and doses
    from ``forecaster`` (default: :func:`default_forecaster`, the ridge regression)."""
    if name == MLAdvisedController.name:
        return MLAdvisedController(forecaster or default_forecaster(), tap=tap)
    return make_controller(name)


@dataclass(frozen=True, eq=False)
class AttackRuns:
    """Clean and attacked runs of every patient. Row layout: block 0 clean, block ``i + 1``
    attack plan ``i``; within a block, ``setup.patients`` in order, each with its
    ``setup.days_per_patient`` rows (its random days) together."""

    setup: RunSetup
    plans: tuple[AttackPlan, ...]
    result: SimulationResult
    stealth: StealthReport

    @property
    def n_patients(self) -> int:
        return len(self.setup.patients)

    @property
    def block_size(self) -> int:
        return self.n_patients * self.setup.days_per_patient

    @property
    def row_patients(self) -> tuple[str, ...]:
        """The patient of each row of a block."""
        days = self.setup.days_per_patient
        return tuple(p for p in self.setup.patients for _ in range(days))

    def rows(self, block: int) -> np.ndarray:
        return np.arange(block * self.block_size, (block + 1) * self.block_size)

    def harm(self, plan_index: int) -> list[PatientHarm]:
        """Every row's attacked run (plan ``plan_index``) against its clean run: one per
        patient, or one per patient and random day (patient-major)."""
        metrics = self.result.metrics
        clean = take_rows(metrics, self.rows(0))
        attacked = take_rows(metrics, self.rows(plan_index + 1))
        return compare_runs(self.row_patients, clean, attacked)

    def plan_stealth(self, plan_index: int) -> StealthReport:
        return self.stealth.take(self.rows(plan_index + 1))

    def clean_stealth(self) -> StealthReport:
        return self.stealth.take(self.rows(0))


def run_attacks(
    setup: RunSetup,
    plans: Sequence[AttackPlan],
    *,
    record: Sequence[str] = ("bg",),
    progress: Callable[[float], None] | None = None,
    forecaster: Forecaster | Callable[[Sequence[str]], Forecaster] | None = None,
) -> AttackRuns:
    """Simulate every patient clean and under each plan; see :class:`AttackRuns`.

    ``forecaster``: the model the ML-advised controller doses from (default: the ridge of
    :func:`default_forecaster`), or a function of the batch rows' patients that returns one
    (e.g. ``held_out_models("gbt").for_rows`` of :mod:`mdrisk.impact.evasion.models`: the
    gradient-boosted trees the device declares, each row forecast by a model that never saw
    its patient). The stealth monitor's independent physiology model stays the default."""
    plans = tuple(plans)
    if setup.controller != MLAdvisedController.name:
        ml_only = needs_ml_controller(plans)
        if ml_only:
            raise ValueError(
                f"{', '.join(ml_only)}: only the ml_advised controller has the "
                f"{'/'.join(ML_SIGNALS)} signals"
            )
    if setup.fingerstick is None and needs_fingerstick(plans):
        raise ValueError(
            f"{', '.join(needs_fingerstick(plans))}: the run has no fingerstick schedule "
            "(the user never measures with a meter)"
        )
    patients = load_patients(setup.patients)
    days = setup.day_scenarios()
    blocks = len(plans) + 1
    block_size = len(patients) * len(days)
    batch = patients.take(np.tile(np.repeat(np.arange(len(patients)), len(days)), blocks))
    scenarios = days * len(patients) * blocks
    sample_time = load_sensor(setup.sensor).sample_time
    blocks_of_plans = [
        np.arange((i + 1) * block_size, (i + 2) * block_size) for i in range(len(plans))
    ]
    attacks, rows = stack_attacks(plans, blocks_of_plans, len(batch))
    monitor = StealthMonitor(batch, sample_time, default_forecaster(), setup.limits)
    if forecaster is not None and not isinstance(forecaster, Forecaster):
        forecaster = forecaster(batch.names)
    taps: list = [AttackTap(attacks, sample_time, rows), monitor]
    if progress is not None:
        taps.append(ProgressTap(setup.duration_min, progress))
    chain = TapChain(taps)
    seeds = [setup.seed + i for i in range(block_size)] * blocks
    result = simulate(
        batch,
        scenarios,
        controller_for(setup.controller, chain, forecaster),
        duration_min=setup.duration_min,
        sensor=setup.sensor,
        pump=setup.pump,
        noise=setup.noise,
        seed=seeds,
        tap=chain,
        record=tuple(record),
        fingerstick=setup.fingerstick,
    )
    return AttackRuns(setup=setup, plans=plans, result=result, stealth=monitor.report())
