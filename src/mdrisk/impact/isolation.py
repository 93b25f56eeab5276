"""The learned detector: an isolation forest of normal signal windows, trained on patients
other than the one it watches.

A window is the last ``window`` values of a series (one per control period), summarised by
four features of its shape, not its level: overall slope (mg/dL/min), and the logarithms of
the standard deviation and of the standard deviation and largest absolute value of the
period-to-period changes. The level is left out on purpose: it differs from patient to
patient, so a forest trained on other patients took a new patient's ordinary level for an
anomaly (the range check watches the level). The logarithms are what let it see a frozen or
dropped stream: sensor noise never lets consecutive readings be exactly equal for long, but
a quiet clean hour comes close, and a forest splits a feature uniformly between its extremes,
so an exact 0 is isolated only on a log scale (10 adults x 5 noisy days, 5 anomalous windows
in a row: a 4-hour freeze caught within its window on 1 day of 50 without the logarithms, on
45 with them; 0.12 and 0.14 false alarms per patient-day).

For each evaluated patient the forest is trained on clean Monte Carlo days of the other
patients of the pool (:func:`training_split`), never on the patient's own days, as a device
trained on a study population meets a new user. Its threshold is scikit-learn's: the share
``contamination`` of the training windows scores as anomalous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURES = ("slope", "log_std", "log_step_std", "log_max_step")
LOG_FLOOR = 0.01  # mg/dL added before the logarithm, so a flat window has a finite value
RANDOM_STATE = 0


def window_features(values: np.ndarray, window: int, period_min: float) -> np.ndarray:
    """Features of every window: shape ``(rows, periods, len(FEATURES))``; windows that do
    not fit yet (the first ``window - 1`` periods) or hold NaN are NaN."""
    rows, periods = values.shape
    out = np.full((rows, periods, len(FEATURES)), np.nan)
    if window < 2 or periods < window:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(values, window, axis=1)
    steps = np.diff(windows, axis=2)
    features = np.stack(
        [
            (windows[..., -1] - windows[..., 0]) / ((window - 1) * period_min),
            np.log(windows.std(axis=2) + LOG_FLOOR),
            np.log(steps.std(axis=2) + LOG_FLOOR),
            np.log(np.abs(steps).max(axis=2) + LOG_FLOOR),
        ],
        axis=2,
    )
    out[:, window - 1 :, :] = features
    return out


def training_split(evaluated: Sequence[str], pool: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """For each evaluated patient, the patients of ``pool`` its forest is trained on: all
    but itself."""
    split = {name: tuple(p for p in pool if p != name) for name in evaluated}
    empty = [name for name, training in split.items() if not training]
    if empty:
        raise ValueError(
            f"no other patient to train the isolation forest for {', '.join(empty)}; "
            "the training pool needs at least two patients"
        )
    return split


@dataclass(frozen=True, eq=False)
class WindowForest:
    """A fitted forest and the window it reads."""

    forest: object
    window: int
    period_min: float

    def flagged(self, values: np.ndarray) -> np.ndarray:
        """True for every period whose window the forest takes as anomalous."""
        features = window_features(values, self.window, self.period_min)
        rows, periods, width = features.shape
        flat = features.reshape(rows * periods, width)
        usable = ~np.isnan(flat).any(axis=1)
        flags = np.zeros(rows * periods, dtype=bool)
        if usable.any():
            flags[usable] = self.forest.decision_function(flat[usable]) < 0  # type: ignore[attr-defined]
        return flags.reshape(rows, periods)


def fit_forest(
    training_values: np.ndarray,
    window: int,
    period_min: float,
    *,
    contamination: float,
    trees: int,
) -> WindowForest:
    """A forest fitted on every complete window of ``training_values`` (rows x periods)."""
    from sklearn.ensemble import IsolationForest

    features = window_features(training_values, window, period_min)
    flat = features.reshape(-1, features.shape[2])
    flat = flat[~np.isnan(flat).any(axis=1)]
    if len(flat) == 0:
        raise ValueError(f"no complete {window}-period window to train the forest on")
    forest = IsolationForest(
        n_estimators=trees, contamination=contamination, random_state=RANDOM_STATE
    )
    forest.fit(flat)
    return WindowForest(forest=forest, window=window, period_min=period_min)
