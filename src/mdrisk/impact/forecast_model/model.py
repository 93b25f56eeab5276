"""The trained forecaster: features in, glucose 30 minutes ahead out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mdrisk.impact.forecast_model.features import FEATURE_NAMES

FORECAST_FLOOR = 10.0  # mg/dL: a regression can extrapolate below anything physical
FORECAST_CEILING = 600.0


@dataclass(frozen=True)
class LinearModel:
    """A fitted linear regression (scikit-learn's Ridge) as plain numbers: it predicts with one
    matrix product and is stored as JSON, so loading a cached model runs no code."""

    coef: tuple[float, ...]
    intercept: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=float) @ np.asarray(self.coef) + self.intercept


@dataclass(frozen=True, eq=False)
class Forecaster:
    """A scikit-learn regressor of the glucose change over ``horizon_min`` minutes.

    ``estimator.predict(features)`` is the change; :meth:`predict` adds the current value
    (feature 0) and keeps the result within what a sensor could show.
    ``description`` says how it was trained (for reports and the cache key).
    """

    estimator: Any
    horizon_min: int
    sample_time_min: int
    description: str
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Forecast glucose (mg/dL) for feature rows ``(batch, n_features)``."""
        features = np.asarray(features, dtype=float)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise ValueError(
                f"features must have shape (batch, {len(self.feature_names)}); got {features.shape}"
            )
        if len(features) == 0:
            return np.zeros(0)
        change = np.asarray(self.estimator.predict(features), dtype=float)
        return np.clip(features[:, 0] + change, FORECAST_FLOOR, FORECAST_CEILING)

    @property
    def horizon_periods(self) -> int:
        return self.horizon_min // self.sample_time_min
