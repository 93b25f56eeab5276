"""What a bolus calculator knows about insulin and carbohydrate still to act.

* Insulin on board: the exponential insulin activity model used by Loop and oref0
  (rapid-acting insulin, adult: peak 75 min, duration 360 min). ``iob_fraction(t)`` is the
  share of a dose given ``t`` minutes ago that has not yet acted.
* Carbohydrate on board: a linear absorption over 180 minutes, the common default of bolus
  calculators. ``cob_fraction(t)`` is the share of an entry ``t`` minutes ago still to absorb.

Both are weights over a fixed history of control periods, so a batch's insulin or carbs on
board is one matrix-vector product per period.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INSULIN_PEAK_MIN = 75.0
INSULIN_DURATION_MIN = 360.0
CARB_ABSORPTION_MIN = 180.0


def iob_fraction(
    minutes: np.ndarray, peak: float = INSULIN_PEAK_MIN, duration: float = INSULIN_DURATION_MIN
) -> np.ndarray:
    """Share of a dose still on board ``minutes`` after it was given (1 at 0, 0 at the end)."""
    t = np.clip(np.asarray(minutes, dtype=float), 0.0, duration)
    tau = peak * (1.0 - peak / duration) / (1.0 - 2.0 * peak / duration)
    a = 2.0 * tau / duration
    s = 1.0 / (1.0 - a + (1.0 + a) * np.exp(-duration / tau))
    remaining = 1.0 - s * (1.0 - a) * (
        (t * t / (tau * duration * (1.0 - a)) - t / tau - 1.0) * np.exp(-t / tau) + 1.0
    )
    return np.clip(remaining, 0.0, 1.0)


def cob_fraction(minutes: np.ndarray, absorption: float = CARB_ABSORPTION_MIN) -> np.ndarray:
    """Share of a carb entry still to absorb ``minutes`` after it was entered."""
    return np.clip(1.0 - np.asarray(minutes, dtype=float) / absorption, 0.0, 1.0)


def history_weights(
    fraction: Callable[[np.ndarray], np.ndarray],
    sample_time_min: int,
    horizon_min: float,
    offset_periods: float = 0.5,
) -> np.ndarray:
    """Weights of the last ``horizon / sample_time`` periods, newest first, for a curve
    ``fraction(minutes)``: period ``j`` is ``(j + offset_periods) * sample_time`` minutes old
    (a dose spread over a period counts from the period's middle)."""
    periods = int(np.ceil(horizon_min / sample_time_min))
    ages = (np.arange(periods) + offset_periods) * float(sample_time_min)
    return np.asarray(fraction(ages), dtype=float)
