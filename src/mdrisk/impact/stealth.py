"""Stealth limits: what a receiving app could check, and whether an attacked run trips it.

:class:`StealthMonitor` is a signal tap placed after the attacks, so it sees the signals as the
device receives them. Per row it raises four alarms:

* ``range``: a CGM reading outside the sensor's reportable range (40-400 mg/dL for current
  CGMs; below or above it a receiver shows LOW/HIGH, not a number);
* ``rate``: a CGM change between consecutive readings faster than ``max_rate`` (4 mg/dL/min:
  physiological glucose rarely moves faster than 3, and CGM algorithms treat faster changes as
  sensor artefacts);
* ``residual``: physiological plausibility. An independent copy of the clean forecaster runs on
  the received CGM, carb entries and insulin commands; when the CGM value disagrees with what
  it forecast 30 minutes earlier persistently (a two-sided CUSUM of the residual with allowance
  ``residual_allowance`` exceeding ``residual_threshold``), the data are inconsistent with
  insulin and carbohydrate physiology: a glucose rise without carbs, carbs without a rise,
  insulin without a fall;
* ``forecast_residual``: the same CUSUM on the residual of the device's own forecasts (the
  ``forecast`` signal of the ML-advised controller), which a tampered or poisoned model trips.

An attack is **stealthy** on a row when none of the alarms is raised there.

With a fingerstick meter (:mod:`mdrisk.impact.fingerstick`) the range and rate checks still
watch the sensor's readings, while both residual checks watch the glucose the app holds, the
readings calibrated with the meter readings the monitor receives, as the device's forecaster
does (otherwise the meter's own error would read as a forecast residual).

Calibration, for the device's intended population (adults; examples/bgms.yaml), without CGM
sensor noise (the default of the impact analyses): on the reference day (45, 70, 80 and 15 g
at 07:00, 12:00, 18:00 and 21:00) with the basal-bolus or the ML-advised controller, the 10
adult virtual patients change at most 3.0 mg/dL/min between readings and reach a residual
CUSUM of at most 73 (allowance 20 mg/dL); on 100 random days of announced meals (the forecaster's
training distribution) at most 3.5 mg/dL/min and 127. The defaults (4 mg/dL/min; allowance 20,
threshold 300) leave a margin of more than two. Adolescents (4.4 mg/dL/min, CUSUM 505) and
children (11 mg/dL/min, CUSUM 1,600) exceed them on clean days: for them the alarms of the
clean run show the limits do not fit, and reports list those false alarms. simglucose's CGM
noise is heavy-tailed (single 3-minute steps of 9 mg/dL/min on adults), so with noise on,
clean runs raise rate alarms too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mdrisk.impact.fdi_signals import FORECAST
from mdrisk.impact.fingerstick import OnePointCalibration
from mdrisk.impact.forecast_model.features import FeatureBuilder
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.params import PatientTable
from mdrisk.impact.taps import FINGERSTICK

DETECTORS = ("range", "rate", "residual", "forecast_residual")


@dataclass(frozen=True)
class StealthLimits:
    """The plausibility limits an attack must stay within to go unnoticed."""

    range_low: float = 40.0  # mg/dL
    range_high: float = 400.0
    max_rate: float = 4.0  # mg/dL/min between consecutive readings
    residual_allowance: float = 20.0  # mg/dL of residual tolerated every period
    residual_threshold: float = 300.0  # mg/dL accumulated beyond the allowance

    def describe(self) -> str:
        return (
            f"CGM within {self.range_low:g}-{self.range_high:g} mg/dL, changing at most "
            f"{self.max_rate:g} mg/dL/min, and consistent with insulin and carbs (CUSUM of "
            f"the 30-min forecast residual, allowance {self.residual_allowance:g} mg/dL, "
            f"threshold {self.residual_threshold:g})"
        )


@dataclass(frozen=True, eq=False)
class StealthReport:
    """Per row: whether each detector alarmed and the first time it did (minutes, NaN: never)."""

    alarms: dict[str, np.ndarray]
    first_alarm_min: dict[str, np.ndarray]
    peak_rate: np.ndarray = field(repr=False)  # highest |dCGM/dt| seen, mg/dL/min
    peak_cusum: np.ndarray = field(repr=False)  # highest residual CUSUM statistic

    @property
    def stealthy(self) -> np.ndarray:
        tripped = np.zeros_like(next(iter(self.alarms.values())))
        for mask in self.alarms.values():
            tripped = tripped | mask
        return ~tripped

    def tripped(self, row: int) -> list[str]:
        return [name for name in DETECTORS if self.alarms[name][row]]

    def take(self, rows: np.ndarray) -> StealthReport:
        return StealthReport(
            alarms={k: v[rows] for k, v in self.alarms.items()},
            first_alarm_min={k: v[rows] for k, v in self.first_alarm_min.items()},
            peak_rate=self.peak_rate[rows],
            peak_cusum=self.peak_cusum[rows],
        )


class _Cusum:
    """Two-sided CUSUM of a residual, per row."""

    def __init__(self, size: int, allowance: float) -> None:
        self.allowance = allowance
        self.high = np.zeros(size)
        self.low = np.zeros(size)

    def add(self, residual: np.ndarray, valid: np.ndarray) -> np.ndarray:
        residual = np.where(valid, residual, 0.0)
        self.high = np.where(
            valid, np.maximum(0.0, self.high + residual - self.allowance), self.high
        )
        self.low = np.where(valid, np.maximum(0.0, self.low - residual - self.allowance), self.low)
        return np.maximum(self.high, self.low)


class StealthMonitor:
    """A signal tap that watches the received signals and raises the stealth alarms.

    ``patients`` and ``sample_time_min`` must be the run's; ``forecaster`` is the clean model
    (the same one the device uses). Place it after the attack tap in a
    :class:`~mdrisk.impact.taps.TapChain`.
    """

    def __init__(
        self,
        patients: PatientTable,
        sample_time_min: int,
        forecaster: Forecaster,
        limits: StealthLimits = StealthLimits(),
    ) -> None:
        self.patients = patients
        self.period = int(sample_time_min)
        self.forecaster = forecaster
        self.limits = limits
        self.reset(len(patients))

    def reset(self, batch_size: int) -> None:
        if batch_size != len(self.patients):
            raise ValueError(f"monitor built for {len(self.patients)} rows, run has {batch_size}")
        size = batch_size
        self._builder = FeatureBuilder(self.patients, self.period)
        self._ahead = self.forecaster.horizon_min // self.period
        # Forecasts of the last ``ahead`` periods, newest first: before the shift at a period
        # start, the oldest is the one made 30 minutes ago, for now.
        self._own = np.full((size, self._ahead), np.nan)
        self._device = np.full((size, self._ahead), np.nan)
        self._last_raw: np.ndarray | None = None
        self._last_seen = np.zeros(size)
        self._calibration = OnePointCalibration(size)
        self._last_t = 0.0
        self._observed = np.zeros(size)
        self._basal = np.zeros(size)
        self._alarms = {name: np.zeros(size, dtype=bool) for name in DETECTORS}
        self._first = {name: np.full(size, np.nan) for name in DETECTORS}
        self._peak_rate = np.zeros(size)
        self._cusum = _Cusum(size, self.limits.residual_allowance)
        self._device_cusum = _Cusum(size, self.limits.residual_allowance)
        self._peak_cusum = np.zeros(size)

    def _raise(self, name: str, mask: np.ndarray, t: float) -> None:
        new = mask & ~self._alarms[name]
        self._first[name] = np.where(new, t, self._first[name])
        self._alarms[name] |= mask

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        t = float(t_minutes)
        if signal == "cgm":
            self._reading(t, values)
        elif signal == "carbs":
            self._period_start(t, values)
        elif signal == "basal":
            self._basal = np.asarray(values, dtype=float)
        elif signal == "bolus":
            self._builder.record_insulin(self._basal, values)
        elif signal == FORECAST:
            self._device[:, 0] = values  # the device's forecast made at this period's start
        elif signal == FINGERSTICK and self._last_raw is not None:
            self._calibration.calibrate(t, np.asarray(values, dtype=float), self._last_raw)
        return values

    def _reading(self, t: float, raw: np.ndarray) -> None:
        limits = self.limits
        raw = np.asarray(raw, dtype=float)
        self._raise("range", (raw < limits.range_low) | (raw > limits.range_high), t)
        seen = self._calibration.apply(t, raw)
        if self._last_raw is None:
            self._observed = seen
        else:
            rate = np.abs(raw - self._last_raw) / max(t - self._last_t, 1e-9)
            self._peak_rate = np.maximum(self._peak_rate, rate)
            self._raise("rate", rate > limits.max_rate, t)
            # What the controller sees: simglucose's mean of the held reading over the period.
            self._observed = ((self.period - 1) * self._last_seen + seen) / self.period
        self._last_raw, self._last_t, self._last_seen = raw, t, seen

    def _period_start(self, t: float, carbs: np.ndarray) -> None:
        observed = self._observed
        old_own, old_device = self._own[:, -1], self._device[:, -1]
        statistic = self._cusum.add(observed - old_own, ~np.isnan(old_own))
        self._peak_cusum = np.maximum(self._peak_cusum, statistic)
        self._raise("residual", statistic > self.limits.residual_threshold, t)
        device = self._device_cusum.add(observed - old_device, ~np.isnan(old_device))
        self._raise("forecast_residual", device > self.limits.residual_threshold, t)
        self._own[:, 1:] = self._own[:, :-1]
        self._device[:, 1:] = self._device[:, :-1]
        self._device[:, 0] = np.nan
        builder = self._builder
        builder.observe(observed, carbs)
        features = builder.features(builder.insulin_on_board())
        self._own[:, 0] = self.forecaster.predict(features)

    def cusum_statistics(self) -> np.ndarray:
        """Per row, the larger of the two residual CUSUMs now (physiology and the device's
        forecast), on the scale of ``limits.residual_threshold``."""
        own = np.maximum(self._cusum.high, self._cusum.low)
        device = np.maximum(self._device_cusum.high, self._device_cusum.low)
        return np.maximum(own, device)

    def report(self) -> StealthReport:
        return StealthReport(
            alarms={k: v.copy() for k, v in self._alarms.items()},
            first_alarm_min={k: v.copy() for k, v in self._first.items()},
            peak_rate=self._peak_rate.copy(),
            peak_cusum=self._peak_cusum.copy(),
        )
