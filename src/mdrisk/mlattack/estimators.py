"""The loaded model as ART estimators, every query counted.

Black-box attacks see only class probabilities (ART's ``BlackBoxClassifier``). White-box
attacks get gradients where the model has them in closed form: a logistic regression,
alone or after a standard scaler (folded into its weights). Its gradient
vanishes in float32 where the model is sure (a probability of exactly 1), so the white-box
copy has its weights divided by a temperature: the same decision everywhere, gradients that
do not underflow.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdrisk.mlattack.artifact import LoadedArtifact

# The largest logit the tempered copy gives on the evaluation data.
_TEMPERED_LOGIT = 8.0


@dataclass
class QueryCounter:
    rows: int = 0
    by_example: list[int] = field(default_factory=list)


def black_box(
    model: LoadedArtifact, low: np.ndarray, high: np.ndarray, counter: QueryCounter
) -> Any:
    from art.estimators.classification import BlackBoxClassifier

    def predict(rows: np.ndarray) -> np.ndarray:
        counter.rows += len(rows)
        return model.predict_proba(np.asarray(rows, dtype=float))

    classes = model.predict_proba(np.asarray([low], dtype=float)).shape[1]
    return BlackBoxClassifier(
        predict,
        input_shape=(model.n_features,),
        nb_classes=classes,
        clip_values=(low.astype(np.float32), high.astype(np.float32)),
    )


def logistic_parts(estimator: Any) -> tuple[Any, np.ndarray | None, np.ndarray | None] | None:
    """(logistic regression, mean, scale) when the model is one, else None."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(estimator, LogisticRegression):
        return estimator, None, None
    if isinstance(estimator, Pipeline) and len(estimator.steps) == 2:
        scaler, final = estimator.steps[0][1], estimator.steps[1][1]
        if isinstance(scaler, StandardScaler) and isinstance(final, LogisticRegression):
            mean = scaler.mean_ if scaler.with_mean else np.zeros(scaler.n_features_in_)
            scale = scaler.scale_ if scaler.with_std else np.ones(scaler.n_features_in_)
            return final, np.asarray(mean), np.asarray(scale)
    return None


def white_box(
    model: LoadedArtifact,
    low: np.ndarray,
    high: np.ndarray,
    data: np.ndarray,
    counter: QueryCounter,
) -> Any | None:
    """An ART estimator with gradients, or None when the model has none mdrisk can give."""
    parts = logistic_parts(model.estimator) if model.estimator is not None else None
    if parts is None:
        return None
    from art.estimators.classification.scikitlearn import ScikitlearnLogisticRegression

    regression, mean, scale = parts
    # The scaler is folded into the weights rather than given to ART as preprocessing: ART
    # 1.20's loss_gradient of a logistic regression applies the preprocessing twice (it
    # predicts on the already standardised rows), so its gradient is wrong, even zero.
    coef = regression.coef_ if scale is None else regression.coef_ / scale
    intercept = (
        regression.intercept_
        if mean is None or scale is None
        else regression.intercept_ - regression.coef_ @ (mean / scale)
    )
    logits = np.abs(data @ coef.T + intercept)
    temperature = max(1.0, float(logits.max()) / _TEMPERED_LOGIT)
    tempered = copy.deepcopy(regression)
    tempered.coef_ = coef / temperature
    tempered.intercept_ = intercept / temperature

    class Counted(ScikitlearnLogisticRegression):
        def predict(self, x: np.ndarray, **kwargs: Any) -> np.ndarray:
            counter.rows += len(x)
            return super().predict(x, **kwargs)

        def loss_gradient(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> np.ndarray:
            counter.rows += len(x)
            return super().loss_gradient(x, y, **kwargs)

        def class_gradient(self, x: np.ndarray, label: Any = None, **kwargs: Any) -> np.ndarray:
            counter.rows += len(x)
            return super().class_gradient(x, label=label, **kwargs)

    return Counted(model=tempered, clip_values=(low.astype(np.float32), high.astype(np.float32)))
