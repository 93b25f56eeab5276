"""A fitted ensemble of regression trees as plain arrays, predicted with numpy.

scikit-learn's histogram gradient boosting predicts tree by tree in a Python loop, which for
the simulator's batches (a row per patient, every 3-minute period) costs ~5 ms a call, 200
trees of Python overhead. Here every node of every tree sits in one set of arrays, and a
batch walks all trees at once, one level per step (``depth`` steps), so a small batch costs
well under a millisecond. Like :class:`~mdrisk.impact.forecast_model.model.LinearModel`, it
holds numbers only: it can be stored as JSON and loading it runs no code.

A row goes left at a node when ``x[feature] <= threshold``, as in scikit-learn's
``TreePredictor`` (the forecaster's features are never missing, so the NaN branch is not
kept). A leaf points to itself, so walking past it stays there. Predictions equal
scikit-learn's exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_CHUNK_ROWS = 4096  # rows walked together (rows x trees node indices in memory)


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """``baseline + sum over trees of the leaf each row reaches``."""

    feature: np.ndarray  # (nodes,) int: the feature a split reads (0 at leaves)
    threshold: np.ndarray  # (nodes,) float
    left: np.ndarray  # (nodes,) int: absolute index of the left child (itself at leaves)
    right: np.ndarray  # (nodes,) int
    value: np.ndarray  # (nodes,) float: the leaf's contribution (0 at splits)
    roots: np.ndarray  # (trees,) int
    depth: int
    baseline: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=float)
        out = np.empty(len(x))
        for start in range(0, len(x), _CHUNK_ROWS):
            out[start : start + _CHUNK_ROWS] = self._walk(x[start : start + _CHUNK_ROWS])
        return out

    def _walk(self, x: np.ndarray) -> np.ndarray:
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        for _ in range(self.depth):
            left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(left, self.left[node], self.right[node])
        # Tree by tree from the baseline, the order scikit-learn adds them in, so the sums are
        # the same to the last bit (a pairwise sum differs by ~1e-13, which can flip a
        # threshold the advisor or an attacker compares the forecast with).
        leaves = np.concatenate([np.full((1, len(x)), self.baseline), self.value[node].T])
        return np.cumsum(leaves, axis=0)[-1]


def from_histogram_boosting(estimator: Any) -> TreeEnsemble:
    """The arrays of a fitted ``HistGradientBoostingRegressor`` (numeric features, one
    output). Raises ValueError for what it does not carry (categorical splits)."""
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
    depth, offset = 0, 0
    for (predictor,) in estimator._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        leaf = nodes["is_leaf"].astype(bool)
        index = np.arange(len(nodes)) + offset
        features.append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp))
        thresholds.append(np.where(leaf, 0.0, nodes["num_threshold"]).astype(float))
        lefts.append(np.where(leaf, index, nodes["left"].astype(np.intp) + offset))
        rights.append(np.where(leaf, index, nodes["right"].astype(np.intp) + offset))
        values.append(np.where(leaf, nodes["value"], 0.0).astype(float))
        roots.append(offset)
        depth = max(depth, int(nodes["depth"].max()))
        offset += len(nodes)
    return TreeEnsemble(
        feature=np.concatenate(features),
        threshold=np.concatenate(thresholds),
        left=np.concatenate(lefts),
        right=np.concatenate(rights),
        value=np.concatenate(values),
        roots=np.array(roots, dtype=np.intp),
        depth=depth,
        baseline=float(np.ravel(estimator._baseline_prediction)[0]),
    )
