"""What the device's runtime detectors watch, recorded during a run for every row.

:class:`DetectorSignals` is a signal tap placed after the attacks, so it keeps the signals as
the device receives them. Once per control period ``[t, t + S)`` it keeps:

* ``cgm``: the new CGM reading at ``t`` (a range, rate or learned detector on the CGM);
* ``forecast``: the device's own forecast made at ``t`` (NaN where the controller has none);
* ``physiology_residual``: the CGM value the controller sees at ``t`` minus what an
  independent copy of the clean forecaster, run on the received CGM, carb entries and insulin
  commands, forecast for ``t`` one horizon earlier (:mod:`mdrisk.impact.stealth`'s
  ``residual``): glucose inconsistent with insulin and carbohydrate physiology;
* ``forecast_residual``: the same CGM value minus the device's own forecast for ``t``.

Residuals are NaN until a forecast for ``t`` exists. The detectors themselves
(:mod:`mdrisk.impact.detector_rules`) run over these series after the run: what they decide
at ``t`` depends on values up to ``t`` only, so the verdict is the one an online detector
would reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.impact.fdi_signals import FORECAST
from mdrisk.impact.fingerstick import OnePointCalibration
from mdrisk.impact.forecast_model.features import FeatureBuilder
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.params import PatientTable
from mdrisk.impact.taps import FINGERSTICK

SERIES = ("cgm", FORECAST, "physiology_residual", "forecast_residual", "fingerstick")


@dataclass(frozen=True, eq=False)
class DetectorSeries:
    """``values[name][row, k]`` at ``times_min[k]`` (the start of control period ``k``)."""

    times_min: np.ndarray
    values: dict[str, np.ndarray]

    def take(self, rows: np.ndarray) -> DetectorSeries:
        return DetectorSeries(self.times_min, {k: v[rows] for k, v in self.values.items()})


class DetectorSignals:
    """A signal tap that records :data:`SERIES` for every row; see the module docstring."""

    def __init__(self, patients: PatientTable, sample_time_min: int, forecaster: Forecaster):
        self.patients = patients
        self.period = int(sample_time_min)
        self.forecaster = forecaster
        self.reset(len(patients))

    def reset(self, batch_size: int) -> None:
        if batch_size != len(self.patients):
            raise ValueError(f"recorder built for {len(self.patients)} rows, run has {batch_size}")
        size = batch_size
        self._builder = FeatureBuilder(self.patients, self.period)
        ahead = self.forecaster.horizon_min // self.period
        # Forecasts of the last ``ahead`` periods, newest first (see StealthMonitor).
        self._own = np.full((size, ahead), np.nan)
        self._device = np.full((size, ahead), np.nan)
        self._last_raw: np.ndarray | None = None
        self._last_seen = np.zeros(size)
        # The app calibrates the CGM with the meter's readings (as the stealth monitor does):
        # the residual checks compare physiology with what the app holds.
        self._calibration = OnePointCalibration(size)
        self._observed = np.zeros(size)
        self._basal = np.zeros(size)
        self._times: list[float] = []
        self._columns: dict[str, list[np.ndarray]] = {name: [] for name in SERIES}
        self._reading_at: dict[float, np.ndarray] = {}
        self._finger_at: dict[float, np.ndarray] = {}

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        t = float(t_minutes)
        if signal == "cgm":
            self._reading(t, np.asarray(values, dtype=float))
        elif signal == "carbs":
            self._period_start(t, np.asarray(values, dtype=float))
        elif signal == "basal":
            self._basal = np.asarray(values, dtype=float)
        elif signal == "bolus":
            self._builder.record_insulin(self._basal, values)
        elif signal == FORECAST:
            self._device[:, 0] = values
            self._columns[FORECAST][-1] = np.array(values, dtype=float)
        elif signal == FINGERSTICK:
            reading = np.asarray(values, dtype=float)
            self._finger_at[t] = reading
            if self._last_raw is not None:
                self._calibration.calibrate(t, reading, self._last_raw)
        return values

    def _reading(self, t: float, raw: np.ndarray) -> None:
        seen = self._calibration.apply(t, raw)
        if self._last_raw is None:
            self._observed = seen
        else:
            # What the controller sees: simglucose's mean of the held reading over the period.
            self._observed = ((self.period - 1) * self._last_seen + seen) / self.period
        self._last_raw, self._last_seen = raw, seen
        self._reading_at[t] = raw

    def _period_start(self, t: float, carbs: np.ndarray) -> None:
        observed = self._observed
        self._times.append(t)
        self._columns["cgm"].append(self._reading_at.pop(t))
        self._columns["fingerstick"].append(self._finger_at.pop(t, np.full(len(observed), np.nan)))
        self._columns[FORECAST].append(np.full(len(observed), np.nan))
        self._columns["physiology_residual"].append(observed - self._own[:, -1])
        self._columns["forecast_residual"].append(observed - self._device[:, -1])
        self._own[:, 1:] = self._own[:, :-1]
        self._device[:, 1:] = self._device[:, :-1]
        self._device[:, 0] = np.nan
        builder = self._builder
        builder.observe(observed, carbs)
        self._own[:, 0] = self.forecaster.predict(builder.features(builder.insulin_on_board()))

    def series(self) -> DetectorSeries:
        size = len(self.patients)
        return DetectorSeries(
            times_min=np.asarray(self._times),
            values={
                name: np.stack(columns, axis=1) if columns else np.zeros((size, 0))
                for name, columns in self._columns.items()
            },
        )
