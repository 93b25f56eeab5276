"""The closed loop: patients, CGM, controller and pump, stepped together over a batch.

:func:`simulate` runs every row of a batch (a virtual patient with a meal scenario) at once
and reproduces simglucose's ``T1DSimEnv`` + ``SimObj`` step logic:

* the control period is the CGM sample time ``S`` (3 min for the Dexcom sensor);
* at ``t = 0`` the sensor is read and the controller decides; then for each period
  ``[t, t + S)`` the pump delivers ``pump.basal(basal) + pump.bolus(bolus)`` every minute,
  meals listed for a minute are announced to the patient at that minute, and the patient
  advances one minute at a time;
* at the end of the period the sensor is read (a new reading every ``S`` minutes, held in
  between) and the controller sees, as in simglucose, the *mean over the period* of the held
  reading (``((S - 1) * previous + new) / S``; ``cgm_observation="latest"`` gives the new
  reading alone) and the carbohydrate entered during the period.

With a fingerstick schedule (:mod:`mdrisk.impact.fingerstick`) the user also measures with a
meter at the start of some periods; the app calibrates the CGM with each reading, so every
later reading the controller sees carries the offset (the ``controller_cgm`` trace). Without
one, nothing of this runs and the loop is exactly the one above.

Each signal that crosses a link passes through the signal tap (:mod:`mdrisk.impact.taps`).
Harm metrics are accumulated at every period end from the true glucose, so a run that
records nothing keeps memory at a few arrays of the batch size. Traces are kept only for the
signals named in ``record``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact import taps as tap_signals
from mdrisk.impact.cgm import CGMSensor, row_seeds
from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    make_controller,
)
from mdrisk.impact.fingerstick import (
    Fingerstick,
    FingerstickMeter,
    OnePointCalibration,
    disagreeing,
)
from mdrisk.impact.metrics import HarmAccumulator, HarmAssessment, HarmMetrics, assess_severity
from mdrisk.impact.params import (
    PatientTable,
    PumpSpec,
    SensorSpec,
    load_pump,
    load_sensor,
)
from mdrisk.impact.pump import InsulinPump
from mdrisk.impact.scenario import MealScenario, MealSchedule
from mdrisk.impact.taps import SignalTap
from mdrisk.impact.uva_padova import DEFAULT_SUBSTEPS, UvaPadovaBatch

GLUCOSE_TRACES = ("bg", "plasma_glucose")  # recorded every ``record_every_min`` minutes
CONTROLLER_CGM = "controller_cgm"  # the glucose the controller is given (after calibration)
# Recorded once per control period, after the tap.
PERIOD_TRACES = tap_signals.SIGNALS + tap_signals.SCHEDULED_SIGNALS + (CONTROLLER_CGM,)
RECORDABLE = GLUCOSE_TRACES + PERIOD_TRACES
PERIOD_UNITS = {**tap_signals.SIGNAL_UNITS, CONTROLLER_CGM: "mg/dL"}
CGM_OBSERVATIONS = ("period_mean", "latest")


@dataclass(frozen=True, eq=False)
class Trace:
    """A recorded signal: ``values[row, i]`` at ``times_min[i]`` minutes after the start."""

    times_min: np.ndarray
    values: np.ndarray
    unit: str


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """What a run returns: metrics for every row, and the traces that were asked for.

    ``patient_names[row]`` and ``scenario_names[row]`` say what each row was.
    ``final_state`` has shape ``(batch, 13)``.
    """

    patient_names: tuple[str, ...]
    scenario_names: tuple[str, ...]
    sample_time_min: int
    duration_min: int
    metrics: HarmMetrics
    traces: dict[str, Trace]
    final_state: np.ndarray

    def trace(self, name: str) -> Trace:
        """A recorded trace by name; asking for one not recorded is an error that says how."""
        try:
            return self.traces[name]
        except KeyError:
            raise KeyError(
                f"{name!r} was not recorded (recorded: {sorted(self.traces) or 'nothing'}); "
                f"pass record=(..., {name!r}) to simulate()"
            ) from None

    def severity(self) -> list[HarmAssessment]:
        """ISO 14971 severity of every row with the default criteria."""
        return assess_severity(self.metrics)

    def __len__(self) -> int:
        return len(self.patient_names)


def cross(
    patients: PatientTable, scenarios: Sequence[MealScenario]
) -> tuple[PatientTable, list[MealScenario]]:
    """Every patient with every scenario: rows patient-major (patient 0 with each scenario,
    then patient 1, ...). Returns the batch's patients and its per-row scenarios."""
    rows = patients.repeat_each(len(scenarios))
    return rows, list(scenarios) * len(patients)


def _tap_reset(tap: SignalTap | None, size: int) -> None:
    reset = getattr(tap, "reset", None)
    if callable(reset):
        reset(size)


def _checked_tap(tap: SignalTap, signal: str, t: float, values: np.ndarray) -> np.ndarray:
    out = np.asarray(tap.apply(signal, t, values), dtype=float)
    if out.shape != values.shape:
        raise ValueError(
            f"signal tap returned shape {out.shape} for {signal!r} at t={t}; "
            f"expected {values.shape}"
        )
    return out


def simulate(
    patients: PatientTable,
    scenario: MealScenario | Sequence[MealScenario],
    controller: Controller | str = "basal_bolus",
    *,
    duration_min: int = 1440,
    sensor: SensorSpec | str = "Dexcom",
    pump: PumpSpec | str = "Insulet",
    noise: bool = False,
    seed: int | Sequence[int] | None = None,
    tap: SignalTap | None = None,
    record: Collection[str] = ("bg",),
    record_every_min: int | None = None,
    cgm_observation: str = "period_mean",
    substeps: int = DEFAULT_SUBSTEPS,
    init_state: np.ndarray | None = None,
    fingerstick: Fingerstick | None = None,
) -> SimulationResult:
    """Run the closed loop for every row of ``patients`` for ``duration_min`` minutes.

    ``scenario``: one :class:`MealScenario` for every row, or one per row.
    ``controller``: a :class:`Controller`, or a registered name (``"basal_bolus"``, ``"pid"``).
    ``sensor``, ``pump``: specs or names from simglucose's tables.
    ``noise``/``seed``: CGM noise on or off; the seed is per row (``seed + row`` for an int,
    or a sequence of one per row), simglucose's ``CGMSensor(seed=...)`` sequence.
    ``tap``: the false-data injection hook (see :mod:`mdrisk.impact.taps`).
    ``record``: names from :data:`RECORDABLE` to keep as traces; ``bg`` and
    ``plasma_glucose`` every ``record_every_min`` minutes (default: the CGM sample time,
    including ``t = 0``), the tapped signals once per control period (at its start ``t``).
    ``substeps``: RK4 steps per minute. ``init_state``: ``(batch, 13)``, default the table's.
    ``fingerstick``: when the user measures with a meter, for the app's CGM calibration
    (meter errors seeded per row like the CGM noise); ``None``: no meter.

    ``duration_min`` must be a whole number of CGM sample times.
    """
    size = len(patients)
    sensor_spec = sensor if isinstance(sensor, SensorSpec) else load_sensor(sensor)
    pump_spec = pump if isinstance(pump, PumpSpec) else load_pump(pump)
    period = sensor_spec.sample_time
    if duration_min <= 0 or duration_min % period:
        raise ValueError(
            f"duration_min={duration_min} must be a positive multiple of the "
            f"{sensor_spec.name} sample time ({period} min)"
        )
    unknown = sorted(set(record) - set(RECORDABLE))
    if unknown:
        raise ValueError(f"cannot record {unknown}; recordable: {', '.join(RECORDABLE)}")
    if cgm_observation not in CGM_OBSERVATIONS:
        raise ValueError(f"cgm_observation must be one of {CGM_OBSERVATIONS}")
    every = period if record_every_min is None else int(record_every_min)
    if every < 1:
        raise ValueError("record_every_min must be at least 1")
    scenarios = [scenario] if isinstance(scenario, MealScenario) else list(scenario)
    schedule = MealSchedule.for_batch(scenarios, size)
    if len(scenarios) == 1:
        scenarios = scenarios * size
    if isinstance(controller, str):
        controller = make_controller(controller)

    model = UvaPadovaBatch(patients, substeps=substeps, init_state=init_state)
    cgm = CGMSensor(sensor_spec, size, noise=noise, seed=seed)
    insulin_pump = InsulinPump(pump_spec)
    controller.reset(ControllerContext(patients=patients, sample_time_min=period))
    _tap_reset(tap, size)
    harm = HarmAccumulator(size, period)
    n_periods = duration_min // period

    glucose_names = [n for n in GLUCOSE_TRACES if n in record]
    glucose_times = np.arange(0, duration_min + 1, every)
    glucose_rows = {n: np.empty((size, len(glucose_times))) for n in glucose_names}
    period_names = [n for n in PERIOD_TRACES if n in record]
    period_rows = {n: np.empty((size, n_periods)) for n in period_names}

    def keep_glucose(column: int) -> None:
        if "bg" in glucose_rows:
            glucose_rows["bg"][:, column] = model.bg
        if "plasma_glucose" in glucose_rows:
            glucose_rows["plasma_glucose"][:, column] = model.plasma_glucose

    meter = calibration = None
    if fingerstick is not None:
        meter = FingerstickMeter(
            fingerstick, scenarios, period, duration_min, row_seeds(seed, size)
        )
        calibration = OnePointCalibration(size, fingerstick.half_life_min)
    no_reading = np.full(size, np.nan)

    keep_glucose(0)
    next_glucose_column = 1
    reading = cgm.read(model.bg)
    if tap is not None:
        reading = _checked_tap(tap, tap_signals.CGM, 0.0, reading)
    seen = reading  # what the app holds: the reading, calibrated once there is a meter
    observed = seen
    carbs = np.zeros(size)
    latest = cgm_observation == "latest"
    eaten, entered = schedule.eaten, schedule.entered
    step_minute = model.step_minute

    for k in range(n_periods):
        t = k * period
        finger = no_reading
        if meter is not None and calibration is not None:
            finger = meter.read(t, model.plasma_glucose)
            if tap is not None:
                finger = _checked_tap(tap, tap_signals.FINGERSTICK, float(t), finger)
            if fingerstick is not None and fingerstick.reject_beyond is not None:
                refused = disagreeing(finger, reading, *fingerstick.reject_beyond)
                finger = np.where(refused, np.nan, finger)
            calibration.calibrate(float(t), finger, reading)
        if tap is not None:
            carbs = _checked_tap(tap, tap_signals.CARBS, float(t), carbs)
        command = controller.act(ControllerInput(t_min=t, cgm=observed, carbs_g=carbs))
        basal = np.asarray(command.basal, dtype=float)
        bolus = np.asarray(command.bolus, dtype=float)
        signals = {"cgm": reading, "carbs": carbs, "fingerstick": finger}
        signals[CONTROLLER_CGM] = observed
        if tap is not None:
            basal = _checked_tap(tap, tap_signals.BASAL, float(t), basal)
            bolus = _checked_tap(tap, tap_signals.BOLUS, float(t), bolus)
            signals.update(basal=basal, bolus=bolus)
            basal = _checked_tap(tap, tap_signals.PUMP_BASAL, float(t), basal)
            bolus = _checked_tap(tap, tap_signals.PUMP_BOLUS, float(t), bolus)
        else:
            signals.update(basal=basal, bolus=bolus)
        signals.update(pump_basal=basal, pump_bolus=bolus)
        delivered = insulin_pump.basal(basal) + insulin_pump.bolus(bolus)
        if tap is not None:
            delivered = _checked_tap(tap, tap_signals.DELIVERED_INSULIN, float(t), delivered)
            delivered = np.maximum(delivered, 0.0)  # a pump cannot withdraw insulin
        signals["delivered_insulin"] = delivered
        for name in period_names:
            period_rows[name][:, k] = signals[name]

        carbs = np.zeros(size)
        for minute in range(t, t + period):
            entry = entered.get(minute)
            if entry is not None:
                carbs = carbs + entry
            step_minute(delivered, eaten.get(minute))
            if glucose_rows and (minute + 1) % every == 0:
                keep_glucose(next_glucose_column)
                next_glucose_column += 1

        previous = seen
        reading = cgm.read(model.bg)
        if tap is not None:
            reading = _checked_tap(tap, tap_signals.CGM, float(t + period), reading)
        if calibration is not None:  # the app's trace keeps to the sensor's reportable range
            reading_seen = calibration.apply(float(t + period), reading)
            seen = np.clip(reading_seen, sensor_spec.min_mg_dl, sensor_spec.max_mg_dl)
        else:
            seen = reading
        observed = seen if latest else ((period - 1) * previous + seen) / period
        harm.add(model.bg)

    traces = {name: Trace(glucose_times, glucose_rows[name], "mg/dL") for name in glucose_names}
    period_times = np.arange(n_periods) * period
    for name in period_names:
        traces[name] = Trace(period_times, period_rows[name], PERIOD_UNITS[name])
    return SimulationResult(
        patient_names=patients.names,
        scenario_names=tuple(s.name for s in scenarios),
        sample_time_min=period,
        duration_min=duration_min,
        metrics=harm.result(),
        traces=traces,
        final_state=np.array(model.state),
    )
