"""The forecaster's CGM-history features as a history of values, and its limits.

The six CGM-history features are six values of the history the app holds: the newest
``r0`` (``cgm``) and the values 3, 15, 30, 60 and 120 minutes earlier
(``cgm - slope * S``, ``cgm - delta_15``, ...). Written as the newest value and the
increments between those lags, ``(r0, r0 - r1, r1 - r15, r15 - r30, r30 - r60, r60 - r120)``,
a rate limit of ``R`` mg/dL/min is a box (each increment at most ``R`` times the minutes it
spans), so a box-constrained attack (ART's clip values) honours it; only the range of the
older values is not a box, and :func:`violations` checks it.
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.evasion.capability import CGM_HISTORY_FEATURES, CgmCapability
from mdrisk.impact.forecast_model.features import FEATURE_NAMES

PERIOD_MIN = 3.0
LAGS_MIN = (0.0, 3.0, 15.0, 30.0, 60.0, 120.0)  # the history values the features read
SPANS_MIN = np.diff(LAGS_MIN)  # minutes each increment spans
_COLUMNS = np.array([FEATURE_NAMES.index(n) for n in CGM_HISTORY_FEATURES])
_CGM, _D15, _D30, _D60, _D120, _SLOPE = range(6)


def history_mask() -> np.ndarray:
    """1 on the CGM-history features (what the attacker at the CGM link controls)."""
    mask = np.zeros(len(FEATURE_NAMES))
    mask[_COLUMNS] = 1.0
    return mask


def values_at_lags(features: np.ndarray) -> np.ndarray:
    """``(rows, 6)``: the history values at :data:`LAGS_MIN` a feature row stands for."""
    h = np.asarray(features, dtype=float)[:, _COLUMNS]
    now = h[:, _CGM]
    return np.stack(
        [
            now,
            now - h[:, _SLOPE] * PERIOD_MIN,
            now - h[:, _D15],
            now - h[:, _D30],
            now - h[:, _D60],
            now - h[:, _D120],
        ],
        axis=1,
    )


def to_increments(features: np.ndarray) -> np.ndarray:
    """Feature rows with the CGM-history columns replaced by ``(r0, increments...)``."""
    out = np.array(features, dtype=float)
    values = values_at_lags(out)
    out[:, _COLUMNS[0]] = values[:, 0]
    out[:, _COLUMNS[1:]] = values[:, :-1] - values[:, 1:]
    return out


def from_increments(coordinates: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_increments`."""
    out = np.array(coordinates, dtype=float)
    z = out[:, _COLUMNS]
    values = np.concatenate([z[:, :1], z[:, :1] - np.cumsum(z[:, 1:], axis=1)], axis=1)
    now = values[:, 0]
    out[:, _COLUMNS[_CGM]] = now
    out[:, _COLUMNS[_SLOPE]] = (now - values[:, 1]) / PERIOD_MIN
    out[:, _COLUMNS[_D15]] = now - values[:, 2]
    out[:, _COLUMNS[_D30]] = now - values[:, 3]
    out[:, _COLUMNS[_D60]] = now - values[:, 4]
    out[:, _COLUMNS[_D120]] = now - values[:, 5]
    return out


def increment_box(capability: CgmCapability) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of ``(r0, increments...)`` under ``capability``."""
    limit = (
        capability.max_rate * SPANS_MIN
        if np.isfinite(capability.max_rate)
        else np.full(5, capability.high - capability.low)
    )
    low = np.concatenate([[capability.low], -limit])
    high = np.concatenate([[capability.high], limit])
    return low, high


def violations(
    clean: np.ndarray, attacked: np.ndarray, capability: CgmCapability, tolerance: float = 1e-6
) -> np.ndarray:
    """Per row, whether the attacked row breaks the capability: a feature outside the CGM
    history changed, a history value outside the range, or a rate above the limit (only where
    the attack changed the history)."""
    clean = np.asarray(clean, dtype=float)
    attacked = np.asarray(attacked, dtype=float)
    outside = np.setdiff1d(np.arange(clean.shape[1]), _COLUMNS)
    foreign = np.abs(attacked[:, outside] - clean[:, outside]).max(axis=1) > tolerance
    values = values_at_lags(attacked)
    changed = np.abs(values - values_at_lags(clean)).max(axis=1) > tolerance
    out_of_range = (values < capability.low - tolerance) | (values > capability.high + tolerance)
    rates = np.abs(np.diff(values, axis=1)) / SPANS_MIN
    too_fast = (rates > capability.max_rate + tolerance).any(axis=1)
    return foreign | (changed & (out_of_range.any(axis=1) | too_fast))
