"""The default forecaster: trained once per configuration, kept in memory and on disk.

Training the default (ridge) model takes a couple of seconds: simulating the training days
and one least-squares fit. The fitted coefficients are then written as JSON to the user's cache
folder (``$MDRISK_CACHE_DIR``, else ``$XDG_CACHE_HOME/mdrisk``, else ``~/.cache/mdrisk``;
never the repository) under a name derived from everything that determines them (the training
configuration, the feature list, the mdrisk and simglucose versions). JSON, not pickle: a cache
file holds numbers only, so reading one runs no code. A missing, unreadable or mismatching
file is ignored and the model retrained; an unwritable folder only costs the retraining.

Gradient-boosted models (``TrainingConfig(estimator="gbt")``) are trained on request and kept
in memory only.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from mdrisk import __version__
from mdrisk.atomic import write_text_atomic
from mdrisk.impact.forecast_model.model import Forecaster, LinearModel
from mdrisk.impact.forecasting.training import HORIZON_MIN, TrainingConfig, train_forecaster
from mdrisk.user_dirs import cache_dir

_MEMORY: dict[str, Forecaster] = {}
FORMAT = 1


def _full_key(config: TrainingConfig) -> str:
    try:
        simglucose = metadata.version("simglucose")
    except metadata.PackageNotFoundError:
        simglucose = "absent"
    return f"{config.key()};mdrisk={__version__};simglucose={simglucose};format={FORMAT}"


def cache_file(config: TrainingConfig, folder: Path | None = None) -> Path:
    digest = hashlib.sha256(_full_key(config).encode("utf-8")).hexdigest()[:20]
    return (folder or cache_dir()) / f"forecaster-{digest}.json"


def _read(path: Path, key: str) -> Forecaster | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("key") != key:
            return None
        return Forecaster(
            estimator=LinearModel(
                coef=tuple(float(c) for c in record["coef"]), intercept=float(record["intercept"])
            ),
            horizon_min=int(record["horizon_min"]),
            sample_time_min=int(record["sample_time_min"]),
            description=str(record["description"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, key: str, forecaster: Forecaster) -> None:
    model = forecaster.estimator
    record = {
        "key": key,
        "coef": list(model.coef),
        "intercept": model.intercept,
        "horizon_min": forecaster.horizon_min,
        "sample_time_min": forecaster.sample_time_min,
        "description": forecaster.description,
    }
    try:
        write_text_atomic(path, json.dumps(record, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only cache costs a retraining next time, nothing else


def default_forecaster(
    config: TrainingConfig | None = None, *, use_disk: bool = True
) -> Forecaster:
    """The forecaster for ``config`` (default: :class:`TrainingConfig`'s defaults): from
    memory, else the disk cache, else trained now."""
    config = config or TrainingConfig()
    key = _full_key(config)
    if key in _MEMORY:
        return _MEMORY[key]
    linear = config.estimator == "ridge"
    path = cache_file(config)
    forecaster = _read(path, key) if (use_disk and linear) else None
    if forecaster is None:
        forecaster = train_forecaster(config)
        if use_disk and linear:
            _write(path, key, forecaster)
    if forecaster.horizon_min != HORIZON_MIN:
        raise ValueError(
            f"{path}: a {forecaster.horizon_min}-minute forecaster, expected {HORIZON_MIN}"
        )
    _MEMORY[key] = forecaster
    return forecaster
