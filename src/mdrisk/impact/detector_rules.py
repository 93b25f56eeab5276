"""The detectors' decision rules over recorded series: when each one raises an alarm.

Every rule takes series of shape ``(rows, periods)`` and returns a boolean array of the same
shape, True where an alarm is raised at that period. A detector re-arms after an alarm, so a
clean day may raise several (each one a false alarm):

* ``range``: the value leaves ``[low, high]`` (one alarm per excursion);
* ``rate``: ``|x[k] - x[k-1]| / (t[k] - t[k-1])`` exceeds ``max_per_min`` (one alarm per run
  of fast changes);
* ``cusum``: two-sided CUSUM of a residual, ``S+ = max(0, S+ + r - allowance)`` and
  ``S- = max(0, S- - r - allowance)``; an alarm when either exceeds ``threshold``, after which
  both restart from 0 (NaN residuals leave the sums as they were);
* ``persistent``: an alarm when ``persistence`` consecutive periods are flagged (the learned
  detector's anomalous windows), after which the count restarts.
"""

from __future__ import annotations

import numpy as np


def rising_edges(condition: np.ndarray) -> np.ndarray:
    """True where ``condition`` becomes True (the first column counts as a rise)."""
    before = np.zeros_like(condition)
    before[:, 1:] = condition[:, :-1]
    return condition & ~before


def range_alarms(values: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        outside = (values < low) | (values > high)
    return rising_edges(outside)


def rate_alarms(values: np.ndarray, times_min: np.ndarray, max_per_min: float) -> np.ndarray:
    fast = np.zeros(values.shape, dtype=bool)
    if values.shape[1] > 1:
        step = np.diff(np.asarray(times_min, dtype=float))
        with np.errstate(invalid="ignore"):
            rate = np.abs(np.diff(values, axis=1)) / step
            fast[:, 1:] = rate > max_per_min
    return rising_edges(fast)


def cusum_alarms(residual: np.ndarray, allowance: float, threshold: float) -> np.ndarray:
    rows, periods = residual.shape
    high = np.zeros(rows)
    low = np.zeros(rows)
    alarms = np.zeros((rows, periods), dtype=bool)
    for k in range(periods):
        r = residual[:, k]
        valid = ~np.isnan(r)
        r = np.where(valid, r, 0.0)
        high = np.where(valid, np.maximum(0.0, high + r - allowance), high)
        low = np.where(valid, np.maximum(0.0, low - r - allowance), low)
        raised = np.maximum(high, low) > threshold
        alarms[:, k] = raised
        high = np.where(raised, 0.0, high)
        low = np.where(raised, 0.0, low)
    return alarms


def persistent_alarms(flagged: np.ndarray, persistence: int) -> np.ndarray:
    rows, periods = flagged.shape
    count = np.zeros(rows, dtype=int)
    alarms = np.zeros((rows, periods), dtype=bool)
    for k in range(periods):
        count = np.where(flagged[:, k], count + 1, 0)
        raised = count >= persistence
        alarms[:, k] = raised
        count = np.where(raised, 0, count)
    return alarms


def first_alarm_min(alarms: np.ndarray, times_min: np.ndarray, since_min: float) -> np.ndarray:
    """Per row, the time of the first alarm at or after ``since_min`` (NaN: none)."""
    times = np.asarray(times_min, dtype=float)
    eligible = alarms & (times >= since_min)[None, :]
    any_alarm = eligible.any(axis=1)
    first = np.argmax(eligible, axis=1)
    return np.where(any_alarm, times[first] if len(times) else np.nan, np.nan)
