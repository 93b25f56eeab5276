"""How well the forecaster predicts clean data: RMSE and error-grid zones on held-out patients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.forecasting.error_grid import clarke_zones, parkes_zones, zone_shares
from mdrisk.impact.forecasting.training import (
    HELD_OUT_PATIENTS,
    TrainingConfig,
    collect,
    training_days,
)


@dataclass(frozen=True)
class ForecastAccuracy:
    """Accuracy of 30-minute forecasts against the CGM value seen 30 minutes later.

    ``rmse``/``mae`` in mg/dL; ``naive_rmse`` is the "no change" forecast's, for scale;
    ``clarke``/``parkes``: share of points per zone (0-1).
    """

    patients: tuple[str, ...]
    n_points: int
    rmse: float
    mae: float
    naive_rmse: float
    clarke: dict[str, float]
    parkes: dict[str, float]

    @property
    def clarke_ab(self) -> float:
        return self.clarke["A"] + self.clarke["B"]

    @property
    def parkes_ab(self) -> float:
        return self.parkes["A"] + self.parkes["B"]

    def summary(self) -> str:
        return (
            f"RMSE {self.rmse:.1f} mg/dL (no-change forecast {self.naive_rmse:.1f}), "
            f"MAE {self.mae:.1f}; Clarke A+B {100 * self.clarke_ab:.1f} % "
            f"(A {100 * self.clarke['A']:.1f} %), Parkes A+B {100 * self.parkes_ab:.1f} % "
            f"on {self.n_points} points of {len(self.patients)} held-out patients"
        )


def forecast_accuracy(
    forecaster: Forecaster,
    config: TrainingConfig | None = None,
    patients: Sequence[str] = HELD_OUT_PATIENTS,
    *,
    noise: bool = True,
) -> ForecastAccuracy:
    """Accuracy on days the model never saw: other patients, other meals, other noise."""
    config = config or TrainingConfig()
    table, scenarios = training_days(config, patients, seed_offset=1)
    data = collect(table, scenarios, seed=config.seed + 1, noise=noise)
    predicted = forecaster.predict(data.features)
    error = predicted - data.target
    return ForecastAccuracy(
        patients=tuple(patients),
        n_points=len(data),
        rmse=float(np.sqrt(np.mean(error**2))),
        mae=float(np.mean(np.abs(error))),
        naive_rmse=float(np.sqrt(np.mean((data.features[:, 0] - data.target) ** 2))),
        clarke=zone_shares(clarke_zones(data.target, predicted)),
        parkes=zone_shares(parkes_zones(data.target, predicted)),
    )
