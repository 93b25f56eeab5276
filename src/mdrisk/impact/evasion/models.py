"""The forecasters the evasion experiments attack: trained on patients held out from evaluation.

The simulator has 30 virtual patients (adolescent, adult, child #001-010), and the impact
analysis (data/glucose-impact.yaml) evaluates harm on all 30, so no single model can be
trained on patients outside the evaluation cohort. The split is two-fold cross-fitting by
patient number (:mod:`mdrisk.impact.forecasting.held_out`): patients #001-005 of every group
are forecast by a model trained on #006-010 of every group (15 patients, 90 simulated days),
and #006-010 by a model trained on #001-005. Every evaluation patient is thus forecast by a
model that never saw it, and both folds cover all three cohorts.

Two model types, each trained this way with the same days and seed:

* ``"gbt"``: histogram gradient-boosted regression trees, what bgms.yaml declares
  (``model_type: gradient boosted regression trees``), fixed ``random_state``;
* ``"ridge"``: the ridge regression the simulator has used so far, kept as the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.forecasting.held_out import (
    FOLDS,
    SPLIT_NAME,
    fold_forecaster,
    fold_of,
    held_out_forecaster,
    training_config,
)
from mdrisk.impact.forecasting.training import TrainingConfig, split_patients

ESTIMATORS = ("gbt", "ridge")
# The 30 patients of data/glucose-impact.yaml's run, on whom harm is measured.
EVALUATION_PATIENTS = split_patients(range(1, 11))
SPLIT = SPLIT_NAME


def base_config(estimator: str) -> TrainingConfig:
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")
    return TrainingConfig(estimator=estimator)


def training_patients(fold: int, estimator: str = "gbt") -> tuple[str, ...]:
    """The patients whose days trained the model that forecasts ``fold``."""
    return training_config(fold, base_config(estimator)).patients


def evaluated_patients(fold: int, patients: Sequence[str] = EVALUATION_PATIENTS) -> tuple[str, ...]:
    """The evaluation patients that ``fold``'s model forecasts."""
    return tuple(p for p in patients if fold_of(p) == fold)


@dataclass(frozen=True, eq=False)
class HeldOutModels:
    """One model per fold; :meth:`predict` answers each row with its fold's model."""

    estimator: str
    models: tuple[Forecaster, ...]

    def predict(self, features: np.ndarray, folds: np.ndarray) -> np.ndarray:
        """Forecast (mg/dL) of feature rows whose patients are in ``folds`` (0 or 1 each)."""
        features = np.asarray(features, dtype=float)
        out = np.empty(len(features))
        for fold, model in enumerate(self.models):
            rows = folds == fold
            if rows.any():
                out[rows] = model.predict(features[rows])
        return out

    def for_rows(self, row_patients: Sequence[str]) -> Forecaster:
        """A forecaster for a batch whose row ``i`` is ``row_patients[i]`` (for the
        ML-advised controller)."""
        return held_out_forecaster(row_patients, base_config(self.estimator))


def held_out_models(estimator: str = "gbt") -> HeldOutModels:
    """Both folds' models of ``estimator`` (trained on first use, then kept in memory)."""
    config = base_config(estimator)
    return HeldOutModels(
        estimator=estimator,
        models=tuple(fold_forecaster(fold, config) for fold in range(len(FOLDS))),
    )


def row_folds(row_patients: Sequence[str] | np.ndarray) -> np.ndarray:
    return np.array([fold_of(name) for name in row_patients], dtype=int)
