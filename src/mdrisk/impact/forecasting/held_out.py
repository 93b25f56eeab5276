"""Forecasters that never saw the patient they dose for: two-fold cross-fitting by number.

The default forecaster (:func:`~mdrisk.impact.forecasting.cache.default_forecaster`) is
trained on patients #001-007 of every group, so a search over adults #001-010 attacks seven
patients whose own days trained the model the device doses from: it knows them better than
it would know a real user. Here the patients are split by number into two folds, #001-005 and
#006-010 (every group in each); the model of fold A is trained on fold B's patients only and
doses for fold A, and the other way round. Each model is trained and cached like the default
one (its :class:`TrainingConfig` differs only in ``patients``).

:func:`held_out_forecaster` returns one :class:`Forecaster` for a whole batch whose rows may
belong to either fold: it asks each fold's model about that fold's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.forecasting.cache import default_forecaster
from mdrisk.impact.forecasting.training import TrainingConfig, split_patients

FOLDS: tuple[tuple[int, ...], tuple[int, ...]] = ((1, 2, 3, 4, 5), (6, 7, 8, 9, 10))
SPLIT_NAME = "two-fold by patient number: #001-005 dosed by a model trained on #006-010 of every group, and the other way round"


def patient_number(name: str) -> int:
    """``adult#003`` -> 3."""
    _, hash_sign, number = name.partition("#")
    if not hash_sign or not number.isdigit():
        raise ValueError(f"{name!r} is not a virtual patient name like adult#003")
    return int(number)


def fold_of(name: str) -> int:
    """0 for patients #001-005, 1 for #006-010."""
    number = patient_number(name)
    for index, numbers in enumerate(FOLDS):
        if number in numbers:
            return index
    raise ValueError(f"{name}: no fold holds patient number {number}")


def training_config(fold: int, base: TrainingConfig | None = None) -> TrainingConfig:
    """How the model that doses for ``fold`` is trained: on the other fold's patients."""
    return replace(base or TrainingConfig(), patients=split_patients(FOLDS[1 - fold]))


def fold_forecaster(fold: int, base: TrainingConfig | None = None) -> Forecaster:
    """The model for ``fold`` (trained on first use, then cached in memory and on disk)."""
    return default_forecaster(training_config(fold, base))


@dataclass(frozen=True, eq=False)
class _RowsByFold:
    """An estimator that answers each batch row with the model of its patient's fold."""

    estimators: tuple[object, ...]
    row_fold: np.ndarray

    def predict(self, features: np.ndarray) -> np.ndarray:
        if len(features) != len(self.row_fold):
            raise ValueError(
                f"a held-out forecaster built for {len(self.row_fold)} rows got {len(features)}"
            )
        change = np.empty(len(features))
        for fold, estimator in enumerate(self.estimators):
            rows = self.row_fold == fold
            if rows.any():
                change[rows] = estimator.predict(features[rows])  # type: ignore[attr-defined]
        return change


def held_out_forecaster(
    row_patients: Sequence[str], base: TrainingConfig | None = None
) -> Forecaster:
    """One forecaster for a batch whose row ``i`` is patient ``row_patients[i]``: every row
    forecast by a model trained without that patient."""
    row_fold = np.array([fold_of(name) for name in row_patients])
    models = [fold_forecaster(fold, base) for fold in range(len(FOLDS))]
    first = models[0]
    return Forecaster(
        estimator=_RowsByFold(tuple(m.estimator for m in models), row_fold),
        horizon_min=first.horizon_min,
        sample_time_min=first.sample_time_min,
        description=f"held out ({SPLIT_NAME}): " + "; ".join(m.description for m in models),
    )


def trained_on(patient: str, base: TrainingConfig | None = None) -> tuple[str, ...]:
    """The patients whose days trained the model that doses for ``patient``."""
    return training_config(fold_of(patient), base).patients
