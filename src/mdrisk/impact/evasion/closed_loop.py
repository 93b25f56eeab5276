"""The evasion attack in the closed loop: harm that comes from the attacked model.

:func:`run_evasion` simulates, in one batch (common random numbers: a patient-day has the same
meals and sensor noise in every block), every evaluation patient on its days

* clean, the ML-advised controller dosing from the held-out forecaster (``gbt`` by default);
* under the evasion attacker (:class:`~mdrisk.impact.evasion.attacker.EvasionAttacker`) once
  per capability (constraint set) asked for: the forecaster itself is fed forged CGM history
  and its own output doses the patient, nothing is added to the output;
* under the old model of the same attack, a bias on the forecast output
  (``bias:+60@forecast,08:00-14:00``, glucose-impact.yaml's ``model: up``).

Harm per patient-day is the attacked run against its clean twin (time below 54 mg/dL, LBGI,
ISO 14971 severity: :mod:`mdrisk.impact.harm`), summed up for everyone and per cohort
(:mod:`mdrisk.impact.population`). Every row is watched by the stealth monitor
(range, 4 mg/dL/min rate, the physiology and forecast-residual CUSUMs) and by the declared
detectors of kind range and rate (bgms.yaml: ``cgm_range`` and ``cgm_rate``, 6 mg/dL/min),
applied to the readings the app received.

No fingerstick calibration runs (the attacker does not model it); CGM noise is off by default,
as in the impact analyses whose stealth limits are calibrated without it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdrisk.impact.attacks.spec import parse_plan
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.controllers.ml_advised import MLAdvisedController
from mdrisk.impact.detector_rules import range_alarms, rate_alarms
from mdrisk.impact.evasion.attacker import EvasionAttacker, EvasionGoal
from mdrisk.impact.evasion.capability import (
    CGM_SIGNAL,
    CgmCapability,
    declared_max_rate,
    declared_range,
)
from mdrisk.impact.evasion.models import EVALUATION_PATIENTS, HeldOutModels
from mdrisk.impact.experiment import DEFAULT_DAY, stack_attacks
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.harm import PatientHarm, compare_runs, take_rows
from mdrisk.impact.mc_days import DayVariation, random_days
from mdrisk.impact.params import load_patients, load_sensor
from mdrisk.impact.population import DayOutcome, summarise
from mdrisk.impact.scenario import MealScenario
from mdrisk.impact.simulate import SimulationResult, simulate
from mdrisk.impact.stealth import StealthLimits, StealthMonitor, StealthReport
from mdrisk.impact.taps import TapChain
from mdrisk.model.schema import DeviceModel

OUTPUT_BIAS = "bias:+60@forecast,08:00-14:00"
CLEAN = "clean"
BIAS = "output_bias"


@dataclass(frozen=True)
class EvasionSetup:
    """Who is simulated on which days, and the attacks compared."""

    patients: tuple[str, ...] = EVALUATION_PATIENTS
    scenario: MealScenario = DEFAULT_DAY
    mc_days: int = 0  # 0: the reference day once; else that many random days around it
    seed: int = 1
    variation: DayVariation = field(default_factory=DayVariation)
    noise: bool = False
    goal: EvasionGoal = field(default_factory=EvasionGoal)
    output_bias: str = OUTPUT_BIAS
    declared_range: tuple[float, float] = (40.0, 400.0)  # bgms.yaml cgm_range
    declared_max_rate: float = 6.0  # bgms.yaml cgm_rate, mg/dL/min (setup_for reads both)

    def days(self) -> list[MealScenario]:
        if self.mc_days:
            return random_days(self.scenario, self.mc_days, self.seed, self.variation)
        return [self.scenario]


def setup_for(device: DeviceModel, signal: str = CGM_SIGNAL, **settings: Any) -> EvasionSetup:
    """An :class:`EvasionSetup` whose declared range and rate detector are ``device``'s (on
    its CGM input ``signal``)."""
    declared: dict[str, Any] = {}
    low_high = declared_range(device, signal)
    if low_high is not None:
        declared["declared_range"] = low_high
    rate = declared_max_rate(device, signal)
    if rate is not None:
        declared["declared_max_rate"] = rate
    return EvasionSetup(**{**declared, **settings})


@dataclass(frozen=True, eq=False)
class BlockResult:
    """One block (clean, an evasion capability, or the output bias) over every patient-day."""

    name: str
    harm: list[PatientHarm]  # against the clean twin (the clean block: against itself)
    stealth: StealthReport
    declared_alarms: np.ndarray  # per row: the declared range or rate detector fired
    # per row: a declared detector fired on a reading the attacker forged
    forged_alarms: np.ndarray
    decisions: int = 0  # correction decision points (eligible, no meal, in the window)
    pushed: int = 0  # of them, with the forecast at or above the threshold
    days_decided: int = 0  # patient-days with a decision point
    days_pushed: int = 0  # of them, with a decision point pushed past the threshold
    queries: int = 0  # forecaster rows evaluated by the attacker
    # |forged - true| at the pushed decisions: of the newest reading, and the largest over
    # the history window the forecaster reads (mg/dL)
    newest_offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    window_offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    correction_boluses: float = 0.0  # mean per patient-day, correction-only boluses

    @property
    def success_rate(self) -> float:
        """Share of the decision points at which the forecast was past the threshold."""
        return self.pushed / self.decisions if self.decisions else 0.0

    @property
    def day_success_rate(self) -> float:
        """Share of the patient-days with a decision point on which one was pushed."""
        return self.days_pushed / self.days_decided if self.days_decided else 0.0

    def outcomes(self) -> list[DayOutcome]:
        return [
            DayOutcome(
                harm=h,
                stealthy=bool(self.stealth.stealthy[i] and not self.declared_alarms[i]),
                alarms=tuple(self.stealth.tripped(i))
                + (("declared",) if self.declared_alarms[i] else ()),
            )
            for i, h in enumerate(self.harm)
        ]


@dataclass(frozen=True, eq=False)
class EvasionRuns:
    setup: EvasionSetup
    estimator: str
    blocks: dict[str, BlockResult]
    result: SimulationResult
    attacker: EvasionAttacker
    block_rows: dict[str, np.ndarray]
    seconds: float

    @property
    def patient_days(self) -> int:
        return len(self.result)

    def summary(self, name: str) -> tuple[list, list]:
        """Per-patient and population records (everyone, then each cohort) of a block."""
        return summarise(self.blocks[name].outcomes())


def _correction_boluses(result: SimulationResult, rows: np.ndarray) -> float:
    bolus = result.trace("bolus").values[rows]
    carbs = result.trace("carbs").values[rows]
    return float(np.count_nonzero((bolus > 0) & (carbs <= 0)) / max(len(rows), 1))


def run_evasion(
    models: HeldOutModels,
    capabilities: Sequence[CgmCapability],
    setup: EvasionSetup = EvasionSetup(),
) -> EvasionRuns:
    """Clean, evaded (one block per capability) and output-biased runs; see the module."""
    started = time.perf_counter()
    patients = load_patients(setup.patients)
    days = setup.days()
    names = ["clean", *(c.name for c in capabilities), BIAS]
    block_size = len(patients) * len(days)
    batch = patients.take(np.tile(np.repeat(np.arange(len(patients)), len(days)), len(names)))
    rows = {n: np.arange(i * block_size, (i + 1) * block_size) for i, n in enumerate(names)}
    period = load_sensor("Dexcom").sample_time
    controller = MLAdvisedController(models.for_rows(batch.names))
    limits = StealthLimits()
    monitor = StealthMonitor(batch, period, default_forecaster(), limits)
    attacker = EvasionAttacker(
        controller,
        models,
        batch.names,
        [(rows[c.name], c) for c in capabilities],
        period,
        setup.goal,
        # The attacker mirrors the residual detectors (worst case: it knows their model).
        cusum=monitor.cusum_statistics,
        cusum_threshold=limits.residual_threshold,
    )
    bias_attacks, bias_rows = stack_attacks(
        [parse_plan(setup.output_bias)], [rows[BIAS]], len(batch)
    )
    chain = TapChain([AttackTap(bias_attacks, period, bias_rows), attacker, monitor])
    controller.tap = chain
    result = simulate(
        batch,
        days * len(patients) * len(names),
        controller,
        duration_min=1440,
        noise=setup.noise,
        seed=[setup.seed + i for i in range(block_size)] * len(names),
        tap=chain,
        record=("cgm", "bolus", "carbs"),
    )
    stealth = monitor.report()
    received = result.trace("cgm")
    low, high = setup.declared_range
    alarm_at = range_alarms(received.values, low, high) | rate_alarms(
        received.values, received.times_min, setup.declared_max_rate
    )
    declared = alarm_at.any(axis=1)
    touched = attacker.traces()[2][:, : alarm_at.shape[1]]
    forged = (alarm_at & touched).any(axis=1)
    clean = take_rows(result.metrics, rows[CLEAN])
    block_patients = tuple(batch.names[:block_size])
    record = attacker.record
    blocks = {}
    for name in names:
        r = rows[name]
        blocks[name] = BlockResult(
            name=name,
            harm=compare_runs(block_patients, clean, take_rows(result.metrics, r)),
            stealth=stealth.take(r),
            declared_alarms=declared[r],
            forged_alarms=forged[r],
            decisions=int(record.decisions[r].sum()),
            pushed=int(record.pushed[r].sum()),
            days_decided=int(np.count_nonzero(record.decisions[r])),
            days_pushed=int(np.count_nonzero(record.pushed[r])),
            queries=int(record.queries[r].sum()),
            newest_offsets=record.offsets(r)[0],
            window_offsets=record.offsets(r)[1],
            correction_boluses=_correction_boluses(result, r),
        )
    return EvasionRuns(
        setup=setup,
        estimator=models.estimator,
        blocks=blocks,
        result=result,
        attacker=attacker,
        block_rows=rows,
        seconds=time.perf_counter() - started,
    )
