"""The ML engine under attack: a 30-minute glucose forecaster trained on clean simulated days.

* :mod:`mdrisk.impact.forecast_model`: the forecaster's features and :class:`Forecaster`
  (below the controllers, which run it; re-exported here);
* :mod:`.training`: training days and :func:`train_forecaster` (scikit-learn, seeded);
* :mod:`.cache`: :func:`default_forecaster` (memory and a JSON file in the user's cache
  folder);
* :mod:`.accuracy` and :mod:`.error_grid`: RMSE, Clarke and Parkes zones on held-out patients.

scikit-learn is needed only to train (the ``sim`` extra); a cached model predicts with numpy.
"""

from mdrisk.impact.forecast_model import FEATURE_NAMES, FeatureBuilder, Forecaster, LinearModel
from mdrisk.impact.forecasting.accuracy import ForecastAccuracy, forecast_accuracy
from mdrisk.impact.forecasting.cache import cache_dir, default_forecaster
from mdrisk.impact.forecasting.error_grid import clarke_zones, parkes_zones, zone_shares
from mdrisk.impact.forecasting.training import (
    HELD_OUT_PATIENTS,
    TRAIN_PATIENTS,
    TrainingConfig,
    train_forecaster,
)

__all__ = [
    "FEATURE_NAMES",
    "HELD_OUT_PATIENTS",
    "TRAIN_PATIENTS",
    "FeatureBuilder",
    "ForecastAccuracy",
    "Forecaster",
    "LinearModel",
    "TrainingConfig",
    "cache_dir",
    "clarke_zones",
    "default_forecaster",
    "forecast_accuracy",
    "parkes_zones",
    "train_forecaster",
    "zone_shares",
]
