"""Runtime detectors evaluated with the simulator: detection, false alarms, residual harm.

For a set of detectors (:class:`DetectorSpec`, each watching the CGM or the device's
forecast) and attack plans, :func:`evaluate_detectors` simulates, in one batch, every
patient on ``days`` Monte Carlo days (:mod:`mdrisk.impact.monte_carlo`) with CGM sensor
noise, clean and under each plan (common random numbers: a patient-day has the same meals
and the same sensor noise in every block), records what the detectors watch
(:mod:`mdrisk.impact.detector_signals`) and applies their rules
(:mod:`mdrisk.impact.detector_rules`). Per detector and plan:

* **false alarms**: the alarms raised on the clean days, per patient-day;
* **detection**: an attacked patient-day is detected when the detector raises an alarm at
  or after the attack's onset, and its clean twin (the same day without the attack) has not
  raised one by then: an alarm the clean day raises as well is chance, not detection;
* **time to detect**: minutes from the onset to that alarm; detections that come only
  after the attack stopped (a frozen stream that resumes with a jump) are counted apart;
* **residual harm**: for a detector whose response changes the loop (``safe_mode``,
  ``suspend``, :mod:`mdrisk.impact.responses`), the whole batch is simulated again with the
  response acting on every detected attacked day from its detection time, and on every clean
  day from its first false alarm (what false alarms cost). An ``alarm`` changes nothing.

The learned detector (``isolation_forest``, :mod:`mdrisk.impact.isolation`) is trained on
clean Monte Carlo days (their own seeds) of the training pool's other patients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN
from mdrisk.impact.attacks.spec import EVENT_WINDOW_MIN, AttackPlan
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.detector_rules import (
    cusum_alarms,
    first_alarm_min,
    persistent_alarms,
    range_alarms,
    rate_alarms,
)
from mdrisk.impact.detector_signals import DetectorSeries, DetectorSignals
from mdrisk.impact.experiment import DEFAULT_DAY, ProgressTap, controller_for, stack_attacks
from mdrisk.impact.fdi_signals import FORECAST
from mdrisk.impact.fingerstick import Fingerstick, disagreeing
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.harm import take_rows
from mdrisk.impact.isolation import WindowForest, fit_forest, training_split
from mdrisk.impact.metrics import HarmMetrics, assess_severity
from mdrisk.impact.monte_carlo import MealVariability, day_seed, patient_days
from mdrisk.impact.params import load_patients, load_sensor, patient_names
from mdrisk.impact.responses import CHANGES_THE_LOOP, RespondingController
from mdrisk.impact.scenario import MealScenario
from mdrisk.impact.simulate import simulate
from mdrisk.impact.taps import TapChain

KINDS = ("range", "rate", "cusum", "forecast_residual", "isolation_forest", "agreement")
# The simulator signals each kind can watch.
WATCHABLE = {
    "range": ("cgm", FORECAST),
    "rate": ("cgm", FORECAST),
    "cusum": ("cgm",),
    "forecast_residual": (FORECAST,),
    "isolation_forest": ("cgm", FORECAST),
    "agreement": ("fingerstick",),  # a meter reading against the CGM reading of its time
}
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DetectorSpec:
    """A detector as the simulator runs it: ``signal`` is a simulator signal."""

    id: str
    kind: str
    signal: str
    settings: Mapping[str, float]
    response: str = "alarm"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown detector kind {self.kind!r}; kinds: {', '.join(KINDS)}")
        if self.signal not in WATCHABLE[self.kind]:
            raise ValueError(
                f"a {self.kind} detector cannot watch {self.signal!r} in the simulator; "
                f"it watches {', '.join(WATCHABLE[self.kind])}"
            )


@dataclass(frozen=True)
class MonteCarloSetup:
    """Who is simulated, on how many varied days, with which controller."""

    patients: tuple[str, ...]
    reference: MealScenario = DEFAULT_DAY
    controller: str = "ml_advised"
    days: int = 5
    seed: int = 1
    variability: MealVariability = field(default_factory=MealVariability)
    # Patients the learned detector may be trained on (each evaluated patient excluded);
    # None: every patient of the evaluated patients' groups.
    training_pool: tuple[str, ...] | None = None
    training_days: int = 2
    sensor: str = "Dexcom"
    pump: str = "Insulet"
    # When the user measures with a meter (the app calibrates the CGM with each reading).
    fingerstick: Fingerstick | None = None

    def pool(self) -> tuple[str, ...]:
        if self.training_pool is not None:
            return self.training_pool
        groups = {name.split("#")[0] for name in self.patients}
        return tuple(n for n in patient_names() if n.split("#")[0] in groups)

    def describe(self) -> str:
        meals = ",".join(
            f"{m.time_min // 60:02d}:{m.time_min % 60:02d}={m.carbs_g:g}"
            for m in self.reference.meals
        )
        return (
            f"{len(self.patients)} patients x {self.days} Monte Carlo days (reference day "
            f"{meals}; {self.variability.describe()}), CGM noise on, {self.controller} "
            f"controller, seed {self.seed}"
        )


@dataclass(frozen=True, eq=False)
class DayRuns:
    """Blocks of rows: block 0 clean, block ``i + 1`` plan ``i``; within a block, patient
    after patient, each with its ``days`` days in order."""

    patients: tuple[str, ...]
    days: int
    metrics: HarmMetrics
    series: DetectorSeries

    @property
    def block_size(self) -> int:
        return len(self.patients) * self.days

    def rows(self, block: int) -> np.ndarray:
        return np.arange(block * self.block_size, (block + 1) * self.block_size)


def _stage(progress: Progress | None, label: str) -> Callable[[float], None] | None:
    """The progress callback of one run, which reports under ``label``."""
    if progress is None:
        return None

    def report(share: float) -> None:
        progress(label, share)

    return report


def _scenarios(
    setup: MonteCarloSetup, patients: Sequence[str], purpose: str, days: int
) -> list[MealScenario]:
    return [
        day
        for name in patients
        for day in patient_days(setup.reference, name, days, seed=setup.seed, purpose=purpose)
    ]


def _noise_seeds(
    setup: MonteCarloSetup, patients: Sequence[str], purpose: str, days: int
) -> list[int]:
    return [day_seed(setup.seed, purpose + "-cgm", n, d) for n in patients for d in range(days)]


def run_days(
    setup: MonteCarloSetup,
    plans: Sequence[AttackPlan],
    *,
    patients: Sequence[str] | None = None,
    days: int | None = None,
    purpose: str = "evaluate",
    switch_at_min: np.ndarray | None = None,
    responses: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
) -> DayRuns:
    """Every patient-day clean and under each plan, in one batch (see :class:`DayRuns`).
    With ``switch_at_min``/``responses`` (one per row), the device responds from then on."""
    names = tuple(setup.patients if patients is None else patients)
    days = setup.days if days is None else days
    blocks = len(plans) + 1
    block_size = len(names) * days
    table = load_patients(names)
    batch = table.take(np.tile(np.repeat(np.arange(len(names)), days), blocks))
    sample_time = load_sensor(setup.sensor).sample_time
    plan_rows = [np.arange((i + 1) * block_size, (i + 2) * block_size) for i in range(len(plans))]
    attacks, masks = stack_attacks(plans, plan_rows, len(batch))
    recorder = DetectorSignals(batch, sample_time, default_forecaster())
    taps: list = [AttackTap(attacks, sample_time, masks), recorder]
    duration = DAY_MIN
    if progress is not None:
        taps.append(ProgressTap(duration, progress))
    chain = TapChain(taps)
    controller = controller_for(setup.controller, chain)
    if switch_at_min is not None and responses is not None:
        controller = RespondingController(controller, switch_at_min, responses)
    result = simulate(
        batch,
        _scenarios(setup, names, purpose, days) * blocks,
        controller,
        duration_min=duration,
        sensor=setup.sensor,
        pump=setup.pump,
        noise=True,
        seed=_noise_seeds(setup, names, purpose, days) * blocks,
        tap=chain,
        record=(),
        fingerstick=setup.fingerstick,
    )
    return DayRuns(patients=names, days=days, metrics=result.metrics, series=recorder.series())


def attack_onset_min(plan: AttackPlan) -> float:
    """The first minute of the day any attack of ``plan`` acts (0 for all day or a window
    over midnight)."""
    onsets = []
    for attack in plan.attacks:
        start, end = attack.start_min, attack.end_min
        wraps = start is not None and end is not None and end % DAY_MIN <= start
        onsets.append(0 if start is None or wraps else start)
    return float(min(onsets)) if onsets else 0.0


def attack_end_min(plan: AttackPlan) -> float:
    """The minute of the day the last attack of ``plan`` stops acting (the day's end for all
    day or a window over midnight)."""
    ends = []
    for attack in plan.attacks:
        start, end = attack.start_min, attack.end_min
        if start is None:
            ends.append(DAY_MIN)
        elif end is None:
            ends.append(start + EVENT_WINDOW_MIN)
        else:
            ends.append(DAY_MIN if end % DAY_MIN <= start else end)
    return float(max(ends)) if ends else float(DAY_MIN)


def detector_alarms(
    spec: DetectorSpec,
    series: DetectorSeries,
    forests: Mapping[str, WindowForest] | None = None,
    row_patients: Sequence[str] | None = None,
) -> np.ndarray:
    """Where ``spec`` raises alarms over ``series`` (rows x periods). The learned detector
    needs ``forests`` (patient -> forest) and each row's patient."""
    s = spec.settings
    times = series.times_min
    if spec.kind == "range":
        return range_alarms(series.values[spec.signal], s["low"], s["high"])
    if spec.kind == "rate":
        return rate_alarms(series.values[spec.signal], times, s["max_per_min"])
    if spec.kind == "cusum":
        residual = series.values["physiology_residual"]
        return cusum_alarms(residual, s["allowance"], s["threshold"])
    if spec.kind == "forecast_residual":
        residual = series.values["forecast_residual"]
        return cusum_alarms(residual, s["allowance"], s["threshold"])
    if spec.kind == "agreement":
        return disagreeing(
            series.values["fingerstick"],
            series.values["cgm"],
            s["max_difference"],
            s["max_difference_pct"],
        )
    if forests is None or row_patients is None:
        raise ValueError("an isolation_forest detector needs its trained forests")
    values = series.values[spec.signal]
    flagged = np.zeros(values.shape, dtype=bool)
    names = np.asarray(row_patients)
    for name, forest in forests.items():
        rows = np.flatnonzero(names == name)
        if len(rows):
            flagged[rows] = forest.flagged(values[rows])
    return persistent_alarms(flagged, int(s["persistence"]))


@dataclass(frozen=True)
class PatientOutcome:
    """One patient's days under one plan: worst severity and mean minutes per day."""

    patient: str
    days: int
    days_detected: int
    severity: dict[str, str]  # "clean", "attacked", "responded" -> worst class over the days
    minutes_below_54: dict[str, float]  # same keys, mean per day
    minutes_above_250: dict[str, float]


@dataclass(frozen=True)
class DetectorOutcome:
    """One detector against one plan (see the module docstring for the definitions)."""

    detector: DetectorSpec
    plan: AttackPlan
    onset_min: float
    end_min: float
    patient_days: int
    detected_days: int
    detected_during_attack: int  # detected days whose detection came before the attack ended
    detection_min: tuple[float, ...]  # minutes from onset, one per detected day
    false_alarms: int  # on the clean days
    clean_days_with_alarm: int
    clean_days_harmed_by_response: int  # class worse after the response to a false alarm
    patients: tuple[PatientOutcome, ...]
    training: dict[str, tuple[str, ...]]  # learned detector: patient -> training patients

    @property
    def detection_rate(self) -> float:
        return self.detected_days / self.patient_days if self.patient_days else 0.0

    @property
    def false_alarms_per_patient_day(self) -> float:
        return self.false_alarms / self.patient_days if self.patient_days else 0.0


def _train_forests(
    setup: MonteCarloSetup,
    specs: Sequence[DetectorSpec],
    progress: Progress | None,
) -> tuple[dict[str, dict[str, WindowForest]], dict[str, tuple[str, ...]]]:
    learned = [s for s in specs if s.kind == "isolation_forest"]
    if not learned:
        return {}, {}
    pool = setup.pool()
    split = training_split(setup.patients, pool)
    runs = run_days(
        setup,
        [],
        patients=pool,
        days=setup.training_days,
        purpose="train",
        progress=_stage(progress, "training"),
    )
    period = float(load_sensor(setup.sensor).sample_time)
    forests: dict[str, dict[str, WindowForest]] = {}
    for spec in learned:
        values = runs.series.values[spec.signal]
        per_patient = {}
        for name, training in split.items():
            rows = np.concatenate(
                [
                    np.arange(i * setup.training_days, (i + 1) * setup.training_days)
                    for i, p in enumerate(pool)
                    if p in training
                ]
            )
            per_patient[name] = fit_forest(
                values[rows],
                int(round(spec.settings["window_min"] / period)),
                period,
                contamination=spec.settings["contamination"],
                trees=int(spec.settings["trees"]),
            )
        forests[spec.id] = per_patient
    return forests, split


def _worst(metrics: HarmMetrics, rows: np.ndarray) -> str:
    return max(assess_severity(take_rows(metrics, rows)), key=lambda a: a.severity).severity.label


def _patient_outcomes(
    runs: DayRuns,
    attacked_rows: np.ndarray,
    detected: np.ndarray,
    responded: HarmMetrics | None,
) -> tuple[PatientOutcome, ...]:
    outcomes = []
    days = runs.days
    for i, name in enumerate(runs.patients):
        clean_rows = runs.rows(0)[i * days : (i + 1) * days]
        rows = attacked_rows[i * days : (i + 1) * days]
        sources = {
            "clean": (runs.metrics, clean_rows),
            "attacked": (runs.metrics, rows),
            "responded": (runs.metrics if responded is None else responded, rows),
        }
        outcomes.append(
            PatientOutcome(
                patient=name,
                days=days,
                days_detected=int(detected[i * days : (i + 1) * days].sum()),
                severity={k: _worst(m, r) for k, (m, r) in sources.items()},
                minutes_below_54={
                    k: float(m.minutes_below_54[r].mean()) for k, (m, r) in sources.items()
                },
                minutes_above_250={
                    k: float(m.minutes_above_250[r].mean()) for k, (m, r) in sources.items()
                },
            )
        )
    return tuple(outcomes)


def evaluate_detectors(
    setup: MonteCarloSetup,
    specs: Sequence[DetectorSpec],
    plans: Sequence[AttackPlan],
    *,
    progress: Progress | None = None,
) -> list[DetectorOutcome]:
    """Every detector against every plan, detector-major; see the module docstring."""
    forests, split = _train_forests(setup, specs, progress)
    runs = run_days(
        setup,
        plans,
        progress=_stage(progress, "simulating"),
    )
    block = runs.block_size
    row_patients = [p for p in runs.patients for _ in range(runs.days)] * (len(plans) + 1)
    times = runs.series.times_min
    outcomes: list[DetectorOutcome] = []
    for spec in specs:
        alarms = detector_alarms(spec, runs.series, forests.get(spec.id), row_patients)
        clean = runs.rows(0)
        first_false = first_alarm_min(alarms[clean], times, 0.0)
        detections = []
        switch = np.full(len(row_patients), np.nan)
        switch[clean] = first_false
        for index, plan in enumerate(plans):
            onset = attack_onset_min(plan)
            rows = runs.rows(index + 1)
            attacked_first = first_alarm_min(alarms[rows], times, onset)
            twin_first = first_alarm_min(alarms[clean], times, onset)
            with np.errstate(invalid="ignore"):
                chance = twin_first <= attacked_first
            detected = ~np.isnan(attacked_first) & ~chance
            switch[rows] = np.where(detected, attacked_first, np.nan)
            detections.append((plan, onset, rows, attacked_first, detected))
        responded: DayRuns | None = None
        if spec.response == "reject_reading" and setup.fingerstick is not None:
            # The app refuses every disagreeing reading, from the first: the same days with
            # the check in the calibration.
            limits = (spec.settings["max_difference"], spec.settings["max_difference_pct"])
            checked = replace(setup, fingerstick=replace(setup.fingerstick, reject_beyond=limits))
            responded = run_days(checked, plans, progress=_stage(progress, f"{spec.id}: response"))
        elif spec.response in CHANGES_THE_LOOP:
            responded = run_days(
                setup,
                plans,
                switch_at_min=switch,
                responses=np.full(len(row_patients), spec.response),
                progress=_stage(progress, f"{spec.id}: response"),
            )
        harmed_by_response = 0
        if responded is not None:
            before = assess_severity(take_rows(runs.metrics, clean))
            after = assess_severity(take_rows(responded.metrics, clean))
            harmed_by_response = sum(
                a.severity > b.severity for a, b in zip(before, after, strict=True)
            )
        for plan, onset, rows, attacked_first, detected in detections:
            outcomes.append(
                DetectorOutcome(
                    detector=spec,
                    plan=plan,
                    onset_min=onset,
                    end_min=attack_end_min(plan),
                    patient_days=block,
                    detected_days=int(detected.sum()),
                    detected_during_attack=int(
                        (attacked_first[detected] < attack_end_min(plan)).sum()
                    ),
                    detection_min=tuple(float(t - onset) for t in attacked_first[detected]),
                    false_alarms=int(alarms[clean].sum()),
                    clean_days_with_alarm=int(alarms[clean].any(axis=1).sum()),
                    clean_days_harmed_by_response=harmed_by_response,
                    patients=_patient_outcomes(
                        runs,
                        rows,
                        detected,
                        None if responded is None else responded.metrics,
                    ),
                    training=split if spec.kind == "isolation_forest" else {},
                )
            )
    return outcomes
