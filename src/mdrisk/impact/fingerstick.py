"""Fingerstick readings and the one-point CGM calibration the app does with them.

The user measures capillary glucose with a meter at set times: a few minutes before each meal
(``before_meals``) and at fixed times of the day (``times_min``). A reading is the true
(plasma) glucose plus the meter's error. ISO 15197:2013 asks 95 % of readings to fall within
+-15 mg/dL below 100 mg/dL and +-15 % from 100 mg/dL; the error here is Gaussian with that
95 % bound at 1.96 standard deviations, drawn from a per-row seeded stream (``meter_error``;
off by default: the reading is the true glucose). Readings are clipped to the meter's range.

The app calibrates the CGM with each reading it receives (one-point offset calibration, the
common mechanism): ``offset = fingerstick - CGM reading at that time``, added to every later
CGM reading as the app receives it, until the next calibration; with ``half_life_min`` the
offset fades with that half-life. A falsified reading therefore biases every CGM value the
forecaster sees until the user next measures. The calibrated trace keeps to the sensor's
reportable range (the app shows LOW or HIGH beyond it), as the uncalibrated readings do.

A reading is taken at the start of the control period that holds its minute (the period the
meal starts in, for ``lead_min = 0``), so it sees glucose before the meal is eaten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.scenario import MealScenario

DAY_MIN = 1440
ISO_15197_BOUND = 15.0  # mg/dL below 100 mg/dL, percent from 100 mg/dL (95 % of readings)
ISO_15197_KNEE = 100.0
NINETY_FIVE_PERCENT_Z = 1.96
METER_RANGE = (20.0, 600.0)  # mg/dL, the reference meter's reportable range
METER_STREAM = 0x5F1A6E  # keeps meter errors independent of the CGM noise of the same seed


@dataclass(frozen=True)
class Fingerstick:
    """When the user measures, whether the meter errs, and how long a calibration holds."""

    before_meals: bool = True
    lead_min: int = 0  # minutes before each meal
    times_min: tuple[int, ...] = ()  # extra readings, minutes of every day
    meter_error: bool = False
    half_life_min: float | None = None  # None: a calibration holds until the next one
    # The app's agreement check: a reading differing from the CGM by more than both
    # (mg/dL, percent of the CGM reading) is not used to calibrate. None: every reading is.
    reject_beyond: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.lead_min < 0:
            raise ValueError(f"lead_min must not be negative: {self.lead_min}")
        if any(not 0 <= t < DAY_MIN for t in self.times_min):
            raise ValueError(f"times_min must be minutes of the day (0-1439): {self.times_min}")
        if self.half_life_min is not None and not self.half_life_min > 0:
            raise ValueError(f"half_life_min must be positive: {self.half_life_min}")

    def reading_minutes(self, scenario: MealScenario, duration_min: int) -> list[int]:
        """Minutes after the start at which the user measures, within the run."""
        minutes = (
            {max(m.time_min - self.lead_min, 0) for m in scenario.meals}
            if (self.before_meals)
            else set()
        )
        for day in range(-(-duration_min // DAY_MIN)):
            minutes |= {day * DAY_MIN + t for t in self.times_min}
        return sorted(m for m in minutes if m < duration_min)


def meter_error_sd(glucose: np.ndarray) -> np.ndarray:
    """The standard deviation of the meter error at ``glucose`` (mg/dL)."""
    bound = np.where(glucose < ISO_15197_KNEE, ISO_15197_BOUND, glucose * ISO_15197_BOUND / 100.0)
    return bound / NINETY_FIVE_PERCENT_Z


class FingerstickMeter:
    """The readings of a batch: which rows measure at which period start, and their errors."""

    def __init__(
        self,
        fingerstick: Fingerstick,
        scenarios: Sequence[MealScenario],
        period_min: int,
        duration_min: int,
        seeds: Sequence[int],
    ) -> None:
        size = len(scenarios)
        self.fingerstick = fingerstick
        # {period start: standard-normal error per row, NaN on rows that do not measure}
        self._due: dict[int, np.ndarray] = {}
        for row, scenario in enumerate(scenarios):
            minutes = fingerstick.reading_minutes(scenario, duration_min)
            errors = np.random.default_rng([int(seeds[row]), METER_STREAM]).standard_normal(
                len(minutes)
            )
            for minute, error in zip(minutes, errors, strict=True):
                start = minute - minute % period_min
                z = self._due.setdefault(start, np.full(size, np.nan))
                z[row] = error if fingerstick.meter_error else 0.0
        self._none = np.full(size, np.nan)

    def read(self, t: int, glucose: np.ndarray) -> np.ndarray:
        """Readings at period start ``t`` for true glucose ``glucose``; NaN: no reading."""
        z = self._due.get(t)
        if z is None:
            return self._none.copy()
        reading = np.clip(glucose + z * meter_error_sd(glucose), *METER_RANGE)
        return np.where(np.isnan(z), np.nan, reading)


def disagreeing(
    fingerstick: np.ndarray, cgm: np.ndarray, max_difference: float, max_difference_pct: float
) -> np.ndarray:
    """Rows whose reading differs from the CGM by more than both limits (NaN: no reading)."""
    with np.errstate(invalid="ignore"):
        difference = np.abs(fingerstick - cgm)
        return (difference > max_difference) & (difference > cgm * max_difference_pct / 100.0)


class OnePointCalibration:
    """The app's CGM calibration: an offset per row, set by each fingerstick reading."""

    def __init__(self, size: int, half_life_min: float | None = None) -> None:
        self.half_life_min = half_life_min
        self.offset = np.zeros(size)
        self._since = np.zeros(size)

    def calibrate(self, t: float, fingerstick: np.ndarray, cgm: np.ndarray) -> None:
        """Rows with a reading (not NaN) take ``fingerstick - cgm`` as their new offset."""
        fresh = ~np.isnan(fingerstick)
        if fresh.any():
            self.offset = np.where(fresh, fingerstick - cgm, self.offset)
            self._since = np.where(fresh, t, self._since)

    def apply(self, t: float, cgm: np.ndarray) -> np.ndarray:
        """A CGM reading received at ``t``, calibrated."""
        if self.half_life_min is None:
            return cgm + self.offset
        fading = 0.5 ** ((t - self._since) / self.half_life_min)
        return cgm + self.offset * fading
