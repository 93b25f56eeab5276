"""The glucose forecaster itself, with no training: what the ML-advised controller and the
stealth checks run, below both ``controllers`` and ``forecasting`` (which trains it with
simulated days, so needs the controllers).

* :mod:`.features`: the forecaster's inputs (CGM history, carbs, insulin on board), built
  online for a batch; :mod:`.curves`: insulin and carbohydrate on board;
* :mod:`.model`: :class:`Forecaster` (numpy prediction of a trained model).
"""

from mdrisk.impact.forecast_model.features import FEATURE_NAMES, FeatureBuilder
from mdrisk.impact.forecast_model.model import Forecaster, LinearModel

__all__ = ["FEATURE_NAMES", "FeatureBuilder", "Forecaster", "LinearModel"]
