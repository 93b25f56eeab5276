"""Candidate attacks simulated per patient over Monte Carlo days, judged by pluggable monitors.

:class:`CandidateRunner` simulates many (patient, candidate vector) pairs in one batch, each
on every Monte Carlo day, and compares each with that patient-day's clean run (simulated once,
when the runner is built). For each pair it returns the objective's change averaged over the
days and on the worst day, the tie-breaker's mean change, and whether the attack stayed
stealthy: no monitor alarmed on any day.

A monitor is any signal tap with a ``report()`` whose result has a boolean ``stealthy`` array
(one per row) and ``tripped(row)`` (alarm names). Monitors are given as factories
``factory(patients, sample_time_min, forecaster)``, called for every batch with the batch's
rows and the forecaster the device uses; :func:`stealth_monitor` is today's
:class:`~mdrisk.impact.stealth.StealthMonitor`, and runtime detectors declared by a device can
be added the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.controllers.base import Controller, make_controller
from mdrisk.impact.controllers.ml_advised import MLAdvisedController
from mdrisk.impact.experiment import stack_attacks
from mdrisk.impact.fdi_signals import ML_SIGNALS
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.forecasting.held_out import SPLIT_NAME, held_out_forecaster
from mdrisk.impact.metrics import HarmMetrics
from mdrisk.impact.monte_carlo_days import MonteCarloDays
from mdrisk.impact.params import PatientTable, load_patients, load_sensor
from mdrisk.impact.search import OBJECTIVES
from mdrisk.impact.search_space import SearchSpace
from mdrisk.impact.simulate import simulate
from mdrisk.impact.stealth import StealthLimits, StealthMonitor
from mdrisk.impact.taps import SignalTap, TapChain

MAX_ROWS_PER_BATCH = 4000
FORECASTERS = ("held_out", "default")


class MonitorReport(Protocol):
    @property
    def stealthy(self) -> np.ndarray: ...

    def tripped(self, row: int) -> list[str]: ...


class Monitor(SignalTap, Protocol):
    def report(self) -> MonitorReport: ...


MonitorFactory = Callable[[PatientTable, int, Forecaster], Monitor]


def stealth_monitor(limits: StealthLimits | None = None) -> MonitorFactory:
    """Today's stealth limits (:class:`StealthMonitor`; default limits) as a monitor factory."""
    limits = limits or StealthLimits()

    def build(patients: PatientTable, sample_time_min: int, forecaster: Forecaster) -> Monitor:
        return StealthMonitor(patients, sample_time_min, forecaster, limits)

    return build


@dataclass(frozen=True, eq=False)
class PairResults:
    """Per (patient, candidate) pair: objective and tie-breaker changes, stealth, alarms."""

    primary_mean: np.ndarray
    primary_worst: np.ndarray
    secondary_mean: np.ndarray
    stealthy: np.ndarray
    alarms: tuple[tuple[str, ...], ...]


def _metric(metrics: HarmMetrics, name: str) -> np.ndarray:
    return np.asarray(getattr(metrics, name), dtype=float)


class CandidateRunner:
    """Simulates candidate vectors of ``space`` on ``patients`` over ``days``.

    ``forecaster``: ``"held_out"`` (every patient dosed by a model trained without them,
    :mod:`mdrisk.impact.forecasting.held_out`) or ``"default"`` (the device's default model).
    ``patient_days`` counts every simulated patient-day, clean runs included.
    """

    def __init__(
        self,
        patients: Sequence[str],
        space: SearchSpace,
        *,
        days: MonteCarloDays | None = None,
        controller: str = "ml_advised",
        monitors: Sequence[MonitorFactory] | None = None,
        forecaster: str = "held_out",
        sensor: str = "Dexcom",
        pump: str = "Insulet",
    ) -> None:
        if forecaster not in FORECASTERS:
            raise ValueError(f"forecaster must be one of {FORECASTERS}, not {forecaster!r}")
        ml_only = [s for s in space.budget.signals if s in ML_SIGNALS]
        if ml_only and controller != MLAdvisedController.name:
            raise ValueError(f"{', '.join(ml_only)} exist(s) only with the ml_advised controller")
        self.patients = tuple(patients)
        self.space = space
        self.days = days = days or MonteCarloDays()
        self.controller = controller
        self.monitors = tuple(monitors) if monitors is not None else (stealth_monitor(),)
        self.forecaster = forecaster
        self.sensor = sensor
        self.pump = pump
        self.sample_time = load_sensor(sensor).sample_time
        self._table = load_patients(self.patients)
        self._scenarios = {name: days.scenarios(name) for name in self.patients}
        self.primary, self.secondary = OBJECTIVES[space.budget.objective]
        self.patient_days = 0
        clean, self.clean_alarms = self._clean_runs()
        n_days = days.days
        self._clean_primary = _metric(clean, self.primary).reshape(len(self.patients), n_days)
        self._clean_secondary = _metric(clean, self.secondary).reshape(len(self.patients), n_days)

    @property
    def forecaster_text(self) -> str:
        if self.controller != MLAdvisedController.name:
            return f"none ({self.controller} controller)"
        if self.forecaster == "held_out":
            return f"held out: {SPLIT_NAME}"
        return (
            "default (trained on patients #001-007 of every group: may include the evaluated ones)"
        )

    def _forecaster_for(self, row_patients: Sequence[str]) -> Forecaster:
        if self.forecaster == "held_out":
            return held_out_forecaster(row_patients)
        return default_forecaster()

    def _simulate(
        self, patient_rows: np.ndarray, day_rows: np.ndarray, tap: AttackTap | None
    ) -> tuple[HarmMetrics, list[MonitorReport]]:
        batch = self._table.take(patient_rows)
        forecaster = self._forecaster_for([self.patients[i] for i in patient_rows])
        monitors = [build(batch, self.sample_time, forecaster) for build in self.monitors]
        taps: list[SignalTap] = [tap] if tap is not None else []
        chain = TapChain([*taps, *monitors])
        controller: Controller
        if self.controller == MLAdvisedController.name:
            controller = MLAdvisedController(forecaster, tap=chain)
        else:
            controller = make_controller(self.controller)
        result = simulate(
            batch,
            [
                self._scenarios[self.patients[p]][d]
                for p, d in zip(patient_rows, day_rows, strict=True)
            ],
            controller,
            duration_min=DAY_MIN,
            sensor=self.sensor,
            pump=self.pump,
            noise=self.days.noise,
            seed=[
                self.days.noise_seed(self.patients[p], int(d))
                for p, d in zip(patient_rows, day_rows, strict=True)
            ],
            tap=chain,
            record=(),
        )
        self.patient_days += len(batch)
        return result.metrics, [m.report() for m in monitors]

    def _clean_runs(self) -> tuple[HarmMetrics, tuple[tuple[str, ...], ...]]:
        n_days = self.days.days
        patient_rows = np.repeat(np.arange(len(self.patients)), n_days)
        day_rows = np.tile(np.arange(n_days), len(self.patients))
        metrics, reports = self._simulate(patient_rows, day_rows, None)
        alarms = []
        for p in range(len(self.patients)):
            names: set[str] = set()
            for row in range(p * n_days, (p + 1) * n_days):
                for report in reports:
                    names.update(report.tripped(row))
            alarms.append(tuple(sorted(names)))
        return metrics, tuple(alarms)

    def run(
        self,
        patient_index: np.ndarray,
        vectors: np.ndarray,
        progress: Callable[[int], None] | None = None,
    ) -> PairResults:
        """Every pair (``patient_index[k]``, ``vectors[k]``) on every day, in chunks."""
        patient_index = np.asarray(patient_index, dtype=int)
        vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
        if len(patient_index) != len(vectors):
            raise ValueError(f"{len(patient_index)} patients for {len(vectors)} candidates")
        n_days = self.days.days
        per_chunk = max(1, MAX_ROWS_PER_BATCH // n_days)
        parts = []
        for first in range(0, len(vectors), per_chunk):
            chunk = slice(first, first + per_chunk)
            parts.append(self._run_chunk(patient_index[chunk], vectors[chunk]))
            if progress is not None:
                progress(len(patient_index[chunk]) * n_days)
        return PairResults(
            primary_mean=np.concatenate([p.primary_mean for p in parts]),
            primary_worst=np.concatenate([p.primary_worst for p in parts]),
            secondary_mean=np.concatenate([p.secondary_mean for p in parts]),
            stealthy=np.concatenate([p.stealthy for p in parts]),
            alarms=tuple(a for p in parts for a in p.alarms),
        )

    def _run_chunk(self, patient_index: np.ndarray, vectors: np.ndarray) -> PairResults:
        n_days = self.days.days
        pairs = len(vectors)
        size = pairs * n_days
        patient_rows = np.repeat(patient_index, n_days)
        day_rows = np.tile(np.arange(n_days), pairs)
        plans = [self.space.plan(v) for v in vectors]
        present = [k for k, plan in enumerate(plans) if plan.attacks]
        rows_of_plans = [np.arange(k * n_days, (k + 1) * n_days) for k in present]
        attacks, masks = stack_attacks([plans[k] for k in present], rows_of_plans, size)
        tap = AttackTap(attacks, self.sample_time, masks)
        metrics, reports = self._simulate(patient_rows, day_rows, tap)
        clean_primary = self._clean_primary[patient_rows, day_rows]
        clean_secondary = self._clean_secondary[patient_rows, day_rows]
        primary = (_metric(metrics, self.primary) - clean_primary).reshape(pairs, n_days)
        secondary = (_metric(metrics, self.secondary) - clean_secondary).reshape(pairs, n_days)
        stealthy_rows = np.ones(size, dtype=bool)
        for report in reports:
            stealthy_rows &= np.asarray(report.stealthy, dtype=bool)
        alarms = []
        for k in range(pairs):
            names: set[str] = set()
            for row in range(k * n_days, (k + 1) * n_days):
                if not stealthy_rows[row]:
                    for report in reports:
                        names.update(report.tripped(row))
            alarms.append(tuple(sorted(names)))
        return PairResults(
            primary_mean=primary.mean(axis=1),
            primary_worst=primary.max(axis=1),
            secondary_mean=secondary.mean(axis=1),
            stealthy=np.asarray(stealthy_rows.reshape(pairs, n_days).all(axis=1)),
            alarms=tuple(alarms),
        )
