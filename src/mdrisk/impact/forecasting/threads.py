"""Gradient-boosted trees run on one OpenMP thread, and small batches without scikit-learn.

scikit-learn's histogram gradient boosting parallelises fitting and prediction with OpenMP
over every core. The simulator asks for one small batch (a row per patient) every control
period, where starting the threads costs more than the trees: on a loaded two-core machine a
30-row prediction took 95 ms on two threads and 1.6 ms on one, and fitting the forecaster 15 s
against 1.1 s. The result is the same either way (each feature's histogram is summed by one
thread in both).

Small batches (at most :data:`SMALL_BATCH` rows: a decision-based attack's single queries,
a few patients' periods) go to the same trees as numpy arrays
(:class:`~mdrisk.impact.forecast_model.trees.TreeEnsemble`), 0.25 ms for one row against
scikit-learn's 5 ms; larger ones to scikit-learn, which walks many rows faster.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from mdrisk.impact.forecast_model.trees import TreeEnsemble


@cache
def _controller() -> Any:  # threadpoolctl has no type information
    # Finding the loaded libraries is the slow part: done once per process.
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


def one_openmp_thread() -> AbstractContextManager[Any]:
    """A context in which OpenMP code (scikit-learn's trees) runs on one thread."""
    limit: AbstractContextManager[Any] = _controller().limit(limits=1, user_api="openmp")
    return limit


SMALL_BATCH = 16


@dataclass(frozen=True, eq=False)
class SingleThreaded:
    """A fitted scikit-learn regressor whose predictions run on one OpenMP thread; ``small``,
    when given, the same trees as arrays for batches of at most :data:`SMALL_BATCH` rows."""

    estimator: Any
    small: TreeEnsemble | None = None

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.small is not None and len(features) <= SMALL_BATCH:
            return self.small.predict(features)
        with one_openmp_thread():
            return np.asarray(self.estimator.predict(features), dtype=float)
