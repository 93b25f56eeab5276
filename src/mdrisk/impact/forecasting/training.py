"""Training data from clean simulated days, and the forecaster trained on it.

Data: each training patient lives ``scenarios_per_patient`` simulated days with varied meals
(breakfast, lunch and dinner at jittered times and sizes, an occasional snack; carb entries
misjudged by up to 30 %, a meal now and then not entered) under a basal-bolus therapy that is
deliberately imperfect (a per-patient bolus factor, basal rates varied every two hours, short
suspensions, correction boluses between meals), so that the forecaster sees glucose rise and
fall under every insulin and carbohydrate situation the ML-advised controller can create.
Nothing is attacked. The CGM has simglucose's noise (seeded).

The controller that runs those days (:class:`CollectingController`) feeds the same
:class:`~mdrisk.impact.forecast_model.features.FeatureBuilder` the ML-advised controller uses,
so the model is trained on exactly what it will see. The target is the CGM value the
controller sees 30 minutes later.

Everything is seeded: the same :class:`TrainingConfig` gives the same data and, with
scikit-learn's fixed ``random_state``, the same model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdrisk.impact.controllers.basal_bolus import BasalBolusController
from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
)
from mdrisk.impact.forecast_model.features import FEATURE_NAMES, FeatureBuilder
from mdrisk.impact.forecast_model.model import Forecaster, LinearModel
from mdrisk.impact.forecast_model.trees import TreeEnsemble, from_histogram_boosting
from mdrisk.impact.forecasting.threads import SingleThreaded, one_openmp_thread
from mdrisk.impact.params import PatientTable, load_patients, patient_names
from mdrisk.impact.scenario import MealScenario
from mdrisk.impact.simulate import simulate

HORIZON_MIN = 30
GROUPS = ("adolescent", "adult", "child")


def split_patients(numbers: Sequence[int]) -> tuple[str, ...]:
    """The patients with these numbers in every group: ``(1, 2)`` -> adolescent#001, ..."""
    return tuple(f"{group}#{n:03d}" for group in GROUPS for n in numbers)


TRAIN_PATIENTS = split_patients(range(1, 8))  # 21 patients
HELD_OUT_PATIENTS = split_patients(range(8, 11))  # 9 patients never seen in training


@dataclass(frozen=True)
class TrainingConfig:
    """How the forecaster is trained. Part of the cache key: change a field, get a new model."""

    patients: tuple[str, ...] = TRAIN_PATIENTS
    scenarios_per_patient: int = 6
    seed: int = 20240601
    noise: bool = True
    # "ridge" (the default: as accurate here as trees, trains in about a second, predicts a
    # whole batch with one matrix product) or "gbt" (histogram gradient-boosted trees, the
    # model type the reference device names; about 10x slower to train, 50x to predict).
    estimator: str = "ridge"
    max_iter: int = 200  # gbt only

    def key(self) -> str:
        return (
            f"patients={','.join(self.patients)};scenarios={self.scenarios_per_patient};"
            f"seed={self.seed};noise={self.noise};estimator={self.estimator};"
            f"max_iter={self.max_iter};features={','.join(FEATURE_NAMES)};"
            f"horizon={HORIZON_MIN}"
        )


def random_day(rng: np.random.Generator, name: str = "") -> MealScenario:
    """A day of meals: breakfast, lunch, dinner with jittered times and sizes, maybe a snack,
    carb entries misjudged by up to 30 % and, one meal in ten, not entered at all."""
    meals = [
        (rng.uniform(6.0, 9.0), rng.uniform(25.0, 80.0)),
        (rng.uniform(11.0, 14.0), rng.uniform(35.0, 100.0)),
        (rng.uniform(17.0, 20.5), rng.uniform(40.0, 110.0)),
    ]
    if rng.random() < 0.5:
        meals.append(
            (
                rng.choice([rng.uniform(15.0, 16.5), rng.uniform(21.0, 22.5)]),
                rng.uniform(10.0, 30.0),
            )
        )
    announced = [
        (hours, grams * rng.uniform(0.7, 1.3)) for hours, grams in meals if rng.random() >= 0.1
    ]
    return MealScenario.from_hours(meals, announced=announced, name=name)


class CollectingController(Controller):
    """Imperfect basal-bolus therapy that records the forecaster's features as it goes.

    Not registered: it exists to produce training data. ``seed`` drives the per-row
    variations (bolus factor, basal multipliers, suspensions).
    """

    def __init__(self, seed: int, duration_min: int) -> None:
        self.seed = seed
        self.duration_min = duration_min
        self.inner = BasalBolusController()

    def reset(self, context: ControllerContext) -> None:
        rng = np.random.default_rng(self.seed)
        size, period = context.size, context.sample_time_min
        self.inner.reset(context)
        self.builder = FeatureBuilder(context.patients, period)
        self.period = period
        self.basal = context.patients.basal_u_per_min
        self.cf = context.patients.params["CF"]
        blocks = self.duration_min // 120 + 1
        self.bolus_factor = rng.uniform(0.75, 1.3, size)
        self.basal_factor = rng.uniform(0.5, 1.5, (size, blocks))
        suspend = rng.random((size, blocks)) < 0.15
        self.suspend_from = np.where(suspend, rng.uniform(0.0, 60.0, (size, blocks)), np.inf)
        self.last_bolus = np.full(size, -np.inf)
        self.features: list[np.ndarray] = []
        self.cgm: list[np.ndarray] = []

    def act(self, observation: ControllerInput) -> InsulinCommand:
        t = observation.t_min
        builder = self.builder
        builder.observe(observation.cgm, observation.carbs_g)
        self.features.append(builder.features(builder.insulin_on_board()))
        self.cgm.append(np.asarray(observation.cgm, dtype=float))
        command = self.inner.act(observation)
        block, minute = divmod(t, 120)
        suspended = (minute >= self.suspend_from[:, block]) & (
            minute < self.suspend_from[:, block] + 60.0
        )
        basal = np.where(suspended, 0.0, self.basal * self.basal_factor[:, block])
        bolus = np.asarray(command.bolus, dtype=float) * self.bolus_factor
        correct = (
            (observation.carbs_g <= 0) & (observation.cgm > 180.0) & (t - self.last_bolus >= 150.0)
        )
        correction = np.where(correct, (observation.cgm - 140.0) / self.cf / self.period, 0.0)
        bolus = bolus + correction * self.bolus_factor
        self.last_bolus = np.where(bolus > 0, float(t), self.last_bolus)
        builder.record_insulin(basal, bolus)
        return InsulinCommand(basal=basal, bolus=bolus)


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Feature rows, targets (glucose 30 min later, mg/dL) and each row's patient name."""

    features: np.ndarray
    target: np.ndarray
    patient: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.target)


def collect(
    patients: PatientTable,
    scenarios: Sequence[MealScenario],
    *,
    seed: int,
    noise: bool = True,
    duration_min: int = 1440,
) -> TrainingData:
    """Run every patient with its scenario (one per row) and gather features and targets."""
    controller = CollectingController(seed=seed, duration_min=duration_min)
    result = simulate(
        patients,
        list(scenarios),
        controller,
        duration_min=duration_min,
        noise=noise,
        seed=seed,
        record=(),
    )
    features = np.stack(controller.features, axis=1)  # (rows, periods, n_features)
    cgm = np.stack(controller.cgm, axis=1)  # (rows, periods)
    ahead = HORIZON_MIN // result.sample_time_min
    x = features[:, :-ahead, :].reshape(-1, features.shape[2])
    y = cgm[:, ahead:].reshape(-1)
    names = np.repeat(np.array(patients.names), features.shape[1] - ahead)
    return TrainingData(features=x, target=y, patient=names)


def training_days(
    config: TrainingConfig, patients: Sequence[str], seed_offset: int = 0
) -> tuple[PatientTable, list[MealScenario]]:
    """Each patient ``scenarios_per_patient`` times, each time with its own random day."""
    rng = np.random.default_rng(config.seed + seed_offset)
    table = load_patients(patients).repeat_each(config.scenarios_per_patient)
    scenarios = [random_day(rng, name=f"training day {i}") for i in range(len(table))]
    return table, scenarios


def _estimator(config: TrainingConfig) -> Any:  # sklearn has no type information
    if config.estimator == "gbt":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=config.max_iter,
            learning_rate=0.1,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=config.seed % 2**32,
        )
    if config.estimator == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0, solver="cholesky")
    raise ValueError(f"unknown estimator {config.estimator!r}; known: gbt, ridge")


def _as_arrays(estimator: Any, sample: np.ndarray) -> TreeEnsemble | None:
    """The fitted trees as arrays, if they give scikit-learn's predictions on ``sample``
    exactly."""
    try:
        trees = from_histogram_boosting(estimator)
    except (AttributeError, KeyError, ValueError):  # another scikit-learn layout
        return None
    with one_openmp_thread():
        expected = estimator.predict(sample)
    # Equal to the bit, or a batch's forecasts would depend on its size.
    return trees if np.array_equal(trees.predict(sample), expected) else None


def train_forecaster(config: TrainingConfig = TrainingConfig()) -> Forecaster:
    """Simulate the training days and fit the model (deterministic for a config)."""
    unknown = sorted(set(config.patients) - set(patient_names()))
    if unknown:
        raise ValueError(f"unknown training patient(s) {unknown}")
    table, scenarios = training_days(config, config.patients)
    data = collect(table, scenarios, seed=config.seed, noise=config.noise)
    estimator = _estimator(config)
    if config.estimator == "gbt":
        with one_openmp_thread():
            estimator.fit(data.features, data.target - data.features[:, 0])
        estimator = SingleThreaded(estimator, _as_arrays(estimator, data.features[::97]))
    else:
        estimator.fit(data.features, data.target - data.features[:, 0])
    if config.estimator == "ridge":
        estimator = LinearModel(
            coef=tuple(float(c) for c in estimator.coef_), intercept=float(estimator.intercept_)
        )
    return Forecaster(
        estimator=estimator,
        horizon_min=HORIZON_MIN,
        sample_time_min=3,
        description=f"{config.estimator} on {len(data)} samples from {len(table)} simulated "
        f"days of {len(config.patients)} patients (seed {config.seed})",
    )
