"""The evasion attack at single decision points, with ART and with an exact search.

Offline, the attacker rewrites the whole window of CGM history the forecaster reads (what a
forged backfill after a forced reconnection gives a CGM link attacker; in the closed loop,
:mod:`.attacker`, only the newest reading is free). At each decision point, a state of an
evaluation patient between meals (no carbs in the last 30 min) whose forecast is below the
correction threshold but within ``band`` of it, the goal is the smallest perturbation of the
history that puts the forecast at or above the threshold.

Two solvers:

* ``hopskipjump``: the Adversarial Robustness Toolbox's HopSkipJump (decision-based, L2),
  on the forecaster wrapped as a binary classifier "forecast at or above the threshold"
  (:class:`art.estimators.classification.BlackBoxClassifier`). It works in the history's
  increment coordinates (:mod:`.history`), where the range of the newest value and the rate
  limit are ART clip values, with a mask that frees only the CGM-history features. Chosen
  because the model is a tree ensemble (no gradient; ART's tree attacks take single
  scikit-learn decision trees, not boosted regressors) and the attacker may only see the
  app's decision (bolus proposed or not);
* ``search``: an exhaustive one-parameter search over two perturbation shapes, a constant
  offset of the whole window and a ramp rising at the rate limit to the newest value, every
  amplitude 1 mg/dL apart up to 400; the smallest amplitude (L-infinity) that succeeds and
  respects the limits. Exact within its family and resolution, a reference for HopSkipJump's
  sizes and query counts.

An attacked row counts as a success only when its forecast is at or above the threshold
**and** it respects the capability (:func:`.history.violations`, checked on every row).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdrisk.impact.evasion.capability import CgmCapability
from mdrisk.impact.evasion.history import (
    LAGS_MIN,
    from_increments,
    history_mask,
    increment_box,
    to_increments,
    values_at_lags,
    violations,
)
from mdrisk.impact.evasion.models import HeldOutModels, row_folds
from mdrisk.impact.forecast_model.features import FEATURE_NAMES
from mdrisk.impact.forecasting.training import TrainingData

SOLVERS = ("hopskipjump", "search")


@dataclass(frozen=True, eq=False)
class DecisionPoints:
    features: np.ndarray
    folds: np.ndarray
    forecast: np.ndarray
    threshold: float


def decision_points(
    models: HeldOutModels,
    data: TrainingData,
    *,
    threshold: float = 200.0,
    band: float = 60.0,
    count: int = 40,
) -> DecisionPoints:
    """``count`` states spread evenly over the evaluation data: no carbs entered in the last
    30 minutes and a forecast in ``[threshold - band, threshold)``."""
    folds = row_folds(data.patient)
    forecast = models.predict(data.features, folds)
    carbs = data.features[:, FEATURE_NAMES.index("carbs_30")]
    eligible = np.flatnonzero(
        (carbs <= 0) & (forecast < threshold) & (forecast >= threshold - band)
    )
    chosen = eligible[np.linspace(0, len(eligible) - 1, min(count, len(eligible))).astype(int)]
    return DecisionPoints(data.features[chosen], folds[chosen], forecast[chosen], threshold)


@dataclass(frozen=True, eq=False)
class OfflineResult:
    """One solver under one capability over the decision points; ``attacked`` holds the
    feature row each point ended with (its clean row where the attack failed)."""

    solver: str
    capability: str
    features_free: str  # "cgm history" or "all"
    samples: int
    successes: int
    rejected: int  # reached the threshold but broke the capability
    linf_median: float  # mg/dL, history values, over the successes
    l2_median: float
    queries: int
    seconds: float
    attacked: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    success: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def success_rate(self) -> float:
        return self.successes / self.samples if self.samples else 0.0


def _outcome(
    solver: str,
    capability: CgmCapability,
    points: DecisionPoints,
    attacked: np.ndarray,
    forecast: np.ndarray,
    queries: int,
    seconds: float,
    all_features: bool,
) -> OfflineResult:
    reached = forecast >= points.threshold
    broken = violations(points.features, attacked, capability)
    if all_features:  # only the range and rate of the history still apply
        history = history_mask().astype(bool)
        kept = points.features.copy()
        kept[:, ~history] = attacked[:, ~history]
        broken = violations(kept, attacked, capability)
    success = reached & ~broken
    delta = values_at_lags(attacked) - values_at_lags(points.features)
    linf = np.abs(delta).max(axis=1)[success]
    l2 = np.sqrt((delta**2).sum(axis=1))[success]
    return OfflineResult(
        solver=solver,
        capability=capability.name,
        features_free="all" if all_features else "cgm history",
        samples=len(points.features),
        successes=int(success.sum()),
        rejected=int((reached & broken).sum()),
        linf_median=round(float(np.median(linf)), 2) if len(linf) else float("nan"),
        l2_median=round(float(np.median(l2)), 2) if len(l2) else float("nan"),
        queries=queries,
        seconds=round(seconds, 3),
        attacked=np.where(success[:, None], attacked, points.features),
        success=success,
    )


def search_attack(
    models: HeldOutModels,
    points: DecisionPoints,
    capability: CgmCapability,
    *,
    margin: float = 1.0,
    max_amplitude: float = 400.0,
) -> OfflineResult:
    """The smallest constant offset or rate-limited ramp (1 mg/dL apart) that succeeds."""
    started = time.perf_counter()
    amplitudes = np.arange(1.0, max_amplitude + 1.0)
    lags = np.array(LAGS_MIN)
    rate = capability.max_rate if np.isfinite(capability.max_rate) else np.inf
    shapes = {
        # every history value up by a
        "level": np.ones((len(amplitudes), len(lags))) * amplitudes[:, None],
        # the newest value up by a, older ones by a - rate * lag (the steepest ramp allowed)
        "ramp": np.maximum(amplitudes[:, None] - rate * lags[None, :], 0.0)
        if np.isfinite(rate)
        else np.where(lags[None, :] == 0, amplitudes[:, None], 0.0),
    }
    clean_values = values_at_lags(points.features)
    best = np.full(len(points.features), np.inf)
    best_rows = points.features.copy()
    queries = 0
    for offsets in shapes.values():
        values = clean_values[:, None, :] + offsets[None, :, :]  # (points, amplitudes, 6)
        rows = _with_values(
            np.repeat(points.features, len(amplitudes), axis=0), values.reshape(-1, 6)
        )
        forecast = models.predict(rows, np.repeat(points.folds, len(amplitudes)))
        queries += len(rows)
        ok = (forecast >= points.threshold + margin) & ~violations(
            np.repeat(points.features, len(amplitudes), axis=0), rows, capability
        )
        ok = ok.reshape(len(points.features), len(amplitudes))
        first = np.where(ok.any(axis=1), np.argmax(ok, axis=1), -1)
        for i, index in enumerate(first):
            if index >= 0 and amplitudes[index] < best[i]:
                best[i] = amplitudes[index]
                best_rows[i] = rows.reshape(len(points.features), len(amplitudes), -1)[i, index]
    forecast = models.predict(best_rows, points.folds)
    return _outcome(
        "search",
        capability,
        points,
        best_rows,
        forecast,
        queries,
        time.perf_counter() - started,
        False,
    )


def _with_values(features: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Feature rows whose CGM history is ``values`` (at :data:`LAGS_MIN`)."""
    coordinates = to_increments(features)
    columns = np.flatnonzero(history_mask())
    coordinates[:, columns[0]] = values[:, 0]
    coordinates[:, columns[1:]] = values[:, :-1] - values[:, 1:]
    return from_increments(coordinates)


class _Counter:
    def __init__(self) -> None:
        self.rows = 0


def _classifier(
    models: HeldOutModels,
    fold: int,
    threshold: float,
    clip: tuple[np.ndarray, np.ndarray],
    counter: _Counter,
) -> Any:  # ART has no type information
    from art.estimators.classification import BlackBoxClassifier

    def predict(coordinates: np.ndarray) -> np.ndarray:
        coordinates = np.asarray(coordinates, dtype=float)
        counter.rows += len(coordinates)
        forecast = models.models[fold].predict(from_increments(coordinates))
        above = forecast >= threshold
        return np.stack([~above, above], axis=1).astype(float)

    return BlackBoxClassifier(
        predict, input_shape=(len(FEATURE_NAMES),), nb_classes=2, clip_values=clip
    )


def _initial_points(
    classifier: Any,
    start: np.ndarray,
    mask: np.ndarray,
    clip: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    tries: int = 100,
) -> np.ndarray:
    """Per row, the first of ``tries`` uniform draws within the clip values (masked features
    only) that the classifier puts past the threshold; the row itself when none is."""
    initial = start.copy()
    for i, row in enumerate(start):
        draws = rng.uniform(clip[0], clip[1], size=(tries, len(row))) * mask + row * (1 - mask)
        above = np.argmax(classifier.predict(draws), axis=1) == 1
        if above.any():
            initial[i] = draws[int(np.argmax(above))]
    return initial


def hopskipjump_attack(
    models: HeldOutModels,
    points: DecisionPoints,
    capability: CgmCapability,
    *,
    all_features: bool = False,
    data_bounds: tuple[np.ndarray, np.ndarray] | None = None,
    max_iter: int = 8,
    max_eval: int = 100,
    init_eval: int = 20,
    seed: int = 0,
    margin: float = 1.0,
) -> OfflineResult:
    """ART HopSkipJump (L2) on each decision point; see the module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from art.attacks.evasion import HopSkipJump

    started = time.perf_counter()
    coordinates = to_increments(points.features)
    history = history_mask().astype(bool)
    low_box, high_box = increment_box(capability)
    if data_bounds is None:
        data_bounds = (coordinates.min(axis=0), coordinates.max(axis=0))
    clip_low = np.minimum(data_bounds[0], coordinates.min(axis=0)).astype(float)
    clip_high = np.maximum(data_bounds[1], coordinates.max(axis=0)).astype(float)
    clip_low[history], clip_high[history] = low_box, high_box
    clip_high = np.where(clip_high > clip_low, clip_high, clip_low + 1.0)  # ART wants min < max
    mask = np.ones(len(FEATURE_NAMES)) if all_features else history_mask()
    counter = _Counter()
    attacked = coordinates.copy()
    # HopSkipJump draws its gradient probes from numpy's global generator (seeded here) and
    # its starting points from an unseeded one (so they are drawn here, from ``seed``).
    rng = np.random.default_rng(seed)
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        for fold in np.unique(points.folds):
            rows = np.flatnonzero(points.folds == fold)
            classifier = _classifier(
                models, int(fold), points.threshold + margin, (clip_low, clip_high), counter
            )
            attack = HopSkipJump(
                classifier,
                targeted=False,
                norm=2,
                max_iter=max_iter,
                max_eval=max_eval,
                init_eval=init_eval,
                init_size=100,
                verbose=False,
            )
            start = np.clip(coordinates[rows], clip_low, clip_high)
            initial = _initial_points(classifier, start, mask, (clip_low, clip_high), rng)
            attacked[rows] = attack.generate(
                start, mask=np.tile(mask, (len(rows), 1)), x_adv_init=initial
            )
    finally:
        np.random.set_state(state)
    adversarial = from_increments(attacked)
    if not all_features:  # a masked feature is never changed, not even by float rounding
        adversarial[:, ~history] = points.features[:, ~history]
    forecast = models.predict(adversarial, points.folds)
    return _outcome(
        "hopskipjump",
        capability,
        points,
        adversarial,
        forecast,
        counter.rows,
        time.perf_counter() - started,
        all_features,
    )
