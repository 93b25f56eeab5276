"""Accuracy of the held-out forecasters on the 30 evaluation patients.

The data are :func:`~mdrisk.impact.forecasting.accuracy.forecast_accuracy`'s: each patient
lives six random days under imperfect basal-bolus therapy (other meals and noise than any
training day: seed offset 1), and every point is forecast by the model of the patient's fold,
which never saw that patient.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mdrisk.impact.evasion.models import EVALUATION_PATIENTS, HeldOutModels, row_folds
from mdrisk.impact.forecasting.accuracy import ForecastAccuracy
from mdrisk.impact.forecasting.error_grid import clarke_zones, parkes_zones, zone_shares
from mdrisk.impact.forecasting.training import TrainingConfig, TrainingData, collect, training_days


def evaluation_data(
    patients: Sequence[str] = EVALUATION_PATIENTS, config: TrainingConfig | None = None
) -> TrainingData:
    """Clean feature rows and 30-minute targets of the evaluation patients' days."""
    config = config or TrainingConfig()
    table, scenarios = training_days(config, patients, seed_offset=1)
    return collect(table, scenarios, seed=config.seed + 1, noise=config.noise)


def held_out_accuracy(models: HeldOutModels, data: TrainingData) -> ForecastAccuracy:
    """RMSE, MAE and error-grid zones of ``models`` on ``data`` (each row by its fold)."""
    predicted = models.predict(data.features, row_folds(data.patient))
    error = predicted - data.target
    return ForecastAccuracy(
        patients=tuple(dict.fromkeys(str(p) for p in data.patient)),
        n_points=len(data),
        rmse=float(np.sqrt(np.mean(error**2))),
        mae=float(np.mean(np.abs(error))),
        naive_rmse=float(np.sqrt(np.mean((data.features[:, 0] - data.target) ** 2))),
        clarke=zone_shares(clarke_zones(data.target, predicted)),
        parkes=zone_shares(parkes_zones(data.target, predicted)),
    )
