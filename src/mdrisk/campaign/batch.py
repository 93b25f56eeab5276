"""One campaign task: a block of patient-days, clean and under one attack, in one batch.

Every patient-day has its own meals and CGM noise, drawn from streams keyed by the campaign
seed, the patient and the day's number (:func:`mdrisk.impact.monte_carlo.day_seed`, the same
streams as the detector evaluation's), so a patient-day is the same whichever task, worker or
batch simulates it, and the same in every class (common random numbers). The batch holds the
clean twin of every patient-day and the attacked run; each candidate control (a detector and
its response) adds a second run of both in which the response acts from the detection time
(on clean days, from the first false alarm).

:func:`run_task` never raises: a task that fails returns its error, which the campaign
records and goes on.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN
from mdrisk.impact.attacks.spec import parse_plan
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.detector_rules import first_alarm_min
from mdrisk.impact.detector_signals import DetectorSeries, DetectorSignals
from mdrisk.impact.detectors import DetectorSpec, attack_onset_min, detector_alarms
from mdrisk.impact.experiment import controller_for, stack_attacks
from mdrisk.impact.fingerstick import Fingerstick
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.harm import take_rows
from mdrisk.impact.metrics import HarmMetrics, assess_severity
from mdrisk.impact.monte_carlo import MealVariability, day_seed, random_day
from mdrisk.impact.params import load_patients, load_sensor
from mdrisk.impact.responses import CHANGES_THE_LOOP, RespondingController
from mdrisk.impact.scenario import Meal, MealScenario
from mdrisk.impact.simulate import simulate
from mdrisk.impact.taps import TapChain

# The streams of the detector evaluation (mdrisk.impact.detectors.run_days): a campaign's
# days 0..n-1 are the days `mdrisk simulate detectors` judges on, with the same seed.
PURPOSE = "evaluate"
# Harm metrics kept per patient-day (the severity classes are kept too).
METRICS = (
    "min_bg",
    "max_bg",
    "minutes_below_54",
    "minutes_above_250",
    "longest_below_54_min",
    "lbgi",
    "hbgi",
    "gri",
)


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs for one task: plain values, so it pickles small."""

    key: str
    ordinal: int
    class_key: str
    attack: str
    patients: tuple[str, ...]
    first_day: int
    days: int
    seed: int
    controller: str
    meals: tuple[tuple[int, float], ...]
    variability: tuple[float, float]  # time_sd_min, size_spread
    fingerstick: Fingerstick | None
    detectors: tuple[DetectorSpec, ...] = ()
    controls: tuple[str, ...] = ()  # ids among ``detectors`` whose response is applied
    sensor: str = "Dexcom"
    pump: str = "Insulet"

    @property
    def patient_days(self) -> int:
        return len(self.patients) * self.days

    def reference(self) -> MealScenario:
        return MealScenario(
            meals=tuple(Meal(minute, grams) for minute, grams in self.meals), name="reference"
        )

    def row_keys(self) -> list[tuple[str, int]]:
        """(patient, day) of each row of a block, patient-major."""
        days = range(self.first_day, self.first_day + self.days)
        return [(patient, day) for patient in self.patients for day in days]


def _scenarios(task: TaskSpec) -> list[MealScenario]:
    reference = task.reference()
    variability = MealVariability(*task.variability)
    return [
        random_day(
            reference, np.random.default_rng(day_seed(task.seed, PURPOSE, p, d)), variability
        )
        for p, d in task.row_keys()
    ]


def _noise_seeds(task: TaskSpec) -> list[int]:
    return [day_seed(task.seed, PURPOSE + "-cgm", p, d) for p, d in task.row_keys()]


@dataclass(frozen=True, eq=False)
class _Runs:
    metrics: HarmMetrics
    series: DetectorSeries | None


def _run(
    task: TaskSpec,
    *,
    switch_at_min: np.ndarray | None = None,
    response: str | None = None,
    fingerstick: Fingerstick | None = None,
    watch: bool = False,
) -> _Runs:
    """Block 0 clean, block 1 attacked; the response, when given, from ``switch_at_min``.
    ``watch``: record what the detectors watch."""
    rows = task.patient_days
    days_of = np.repeat(np.arange(len(task.patients)), task.days)
    batch = load_patients(task.patients).take(np.tile(days_of, 2))
    sample_time = load_sensor(task.sensor).sample_time
    plan = parse_plan(task.attack, name=task.class_key)
    attacks, masks = stack_attacks([plan], [np.arange(rows, 2 * rows)], 2 * rows)
    taps: list[Any] = [AttackTap(attacks, sample_time, masks)]
    recorder = None
    if watch:
        recorder = DetectorSignals(batch, sample_time, default_forecaster())
        taps.append(recorder)
    chain = TapChain(taps)
    controller = controller_for(task.controller, chain)
    if switch_at_min is not None and response is not None:
        controller = RespondingController(controller, switch_at_min, np.full(2 * rows, response))
    result = simulate(
        batch,
        _scenarios(task) * 2,
        controller,
        duration_min=DAY_MIN,
        sensor=task.sensor,
        pump=task.pump,
        noise=True,
        seed=_noise_seeds(task) * 2,
        tap=chain,
        record=(),
        fingerstick=fingerstick if fingerstick is not None else task.fingerstick,
    )
    return _Runs(result.metrics, None if recorder is None else recorder.series())


def _side(metrics: HarmMetrics, rows: np.ndarray) -> dict[str, list[float]]:
    """The kept metrics and severity class (1-5) of ``rows``."""
    part = take_rows(metrics, rows)
    values: dict[str, list[float]] = {
        name: [round(float(v), 3) for v in np.asarray(getattr(part, name))] for name in METRICS
    }
    values["severity"] = [int(a.severity) for a in assess_severity(part)]
    return values


@dataclass(frozen=True)
class _Detection:
    detected: np.ndarray  # per attacked row
    first_alarm: np.ndarray  # minute of the day, NaN when none (attacked rows)
    false_alarm_first: np.ndarray  # clean rows: first alarm of the day, NaN when none


def _detect(task: TaskSpec, spec: DetectorSpec, series: DetectorSeries) -> _Detection:
    rows = task.patient_days
    clean, attacked = np.arange(rows), np.arange(rows, 2 * rows)
    alarms = detector_alarms(spec, series)
    onset = attack_onset_min(parse_plan(task.attack))
    first = first_alarm_min(alarms[attacked], series.times_min, onset)
    twin = first_alarm_min(alarms[clean], series.times_min, onset)
    with np.errstate(invalid="ignore"):
        chance = twin <= first
    return _Detection(
        detected=~np.isnan(first) & ~chance,
        first_alarm=first,
        false_alarm_first=first_alarm_min(alarms[clean], series.times_min, 0.0),
    )


def _control(
    task: TaskSpec, spec: DetectorSpec, detection: _Detection
) -> dict[str, dict[str, list[float]]]:
    """Both blocks again with the detector's response acting."""
    rows = task.patient_days
    if spec.response == "reject_reading":
        if task.fingerstick is None:
            raise ValueError(f"{spec.id}: reject_reading needs a fingerstick schedule")
        limits = (spec.settings["max_difference"], spec.settings["max_difference_pct"])
        runs = _run(task, fingerstick=replace(task.fingerstick, reject_beyond=limits))
    elif spec.response in CHANGES_THE_LOOP:
        switch = np.concatenate(
            [
                detection.false_alarm_first,
                np.where(detection.detected, detection.first_alarm, np.nan),
            ]
        )
        runs = _run(task, switch_at_min=switch, response=spec.response)
    else:
        raise ValueError(f"{spec.id}: an {spec.response} response changes nothing in the loop")
    return {
        "clean": _side(runs.metrics, np.arange(rows)),
        "attacked": _side(runs.metrics, np.arange(rows, 2 * rows)),
    }


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 1) for v in values]


def simulate_task(task: TaskSpec) -> dict[str, Any]:
    """The task's result payload: per patient-day (patient-major) the clean and attacked
    metrics and classes, each detector's verdict, each control's runs."""
    rows = task.patient_days
    runs = _run(task, watch=bool(task.detectors))
    payload: dict[str, Any] = {
        "patient": [p for p, _ in task.row_keys()],
        "day": [d for _, d in task.row_keys()],
        "clean": _side(runs.metrics, np.arange(rows)),
        "attacked": _side(runs.metrics, np.arange(rows, 2 * rows)),
        "detectors": {},
        "controls": {},
    }
    by_id = {spec.id: spec for spec in task.detectors}
    for spec in task.detectors:
        assert runs.series is not None
        detection = _detect(task, spec, runs.series)
        payload["detectors"][spec.id] = {
            "detected": [bool(v) for v in detection.detected],
            "first_alarm_min": _nan_to_none(detection.first_alarm),
            "clean_alarm": [bool(v) for v in ~np.isnan(detection.false_alarm_first)],
        }
        if spec.id in task.controls:
            payload["controls"][spec.id] = _control(task, by_id[spec.id], detection)
    return payload


@dataclass(frozen=True)
class TaskResult:
    """What a task sends back: its payload, or the error it raised."""

    key: str
    ordinal: int
    patient_days: int
    seconds: float
    payload: dict[str, Any] | None = None
    error: str | None = None


def run_task(task: TaskSpec) -> TaskResult:
    """Run ``task``; an exception is returned as the task's error, never raised."""
    start = time.perf_counter()
    try:
        payload = simulate_task(task)
    except Exception as error:  # a failed task is recorded and the campaign goes on
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        trace = traceback.format_exc(limit=-3)
        return TaskResult(
            task.key,
            task.ordinal,
            task.patient_days,
            time.perf_counter() - start,
            error=text + "\n" + trace,
        )
    return TaskResult(
        task.key, task.ordinal, task.patient_days, time.perf_counter() - start, payload=payload
    )
