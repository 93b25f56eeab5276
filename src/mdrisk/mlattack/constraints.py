"""Holding produced examples to a capability: projection onto it, and the check every
example must pass (an example that fails it counts as a failed attack)."""

from __future__ import annotations

import numpy as np

from mdrisk.mlattack.capability import Capability

# Relative tolerance of a comparison (float32 models and ART's float arithmetic).
_TOLERANCE = 1e-6


def _tolerance(capability: Capability) -> np.ndarray:
    scale = np.maximum(np.abs(capability.low), np.abs(capability.high))
    return _TOLERANCE * np.maximum(scale, 1.0)


def project(clean: np.ndarray, produced: np.ndarray, capability: Capability) -> np.ndarray:
    """``produced`` moved onto the capability: uncontrolled features back to their clean
    values, changed features into their bounds, then series into their rate limits."""
    result = np.where(capability.controlled, produced, clean).astype(float)
    changed = result != clean
    bounded = np.clip(result, capability.low, capability.high)
    result = np.where(changed, bounded, result)
    for order, steps in capability.rates:
        for row in range(result.shape[0]):
            for k in range(1, len(order)):
                before, here = order[k - 1], order[k]
                if (
                    result[row, here] == clean[row, here]
                    and result[row, before] == clean[row, before]
                ):
                    continue
                low = max(result[row, before] - steps[k - 1], capability.low[here])
                high = min(result[row, before] + steps[k - 1], capability.high[here])
                result[row, here] = min(max(result[row, here], low), high)
    return result


def violations(clean: np.ndarray, produced: np.ndarray, capability: Capability) -> np.ndarray:
    """Per row: True when the example breaks the capability (a feature outside the point's
    reach changed, a changed feature outside its bounds, a rate limit exceeded)."""
    tolerance = _tolerance(capability)
    changed = np.abs(produced - clean) > tolerance
    outside_reach = (changed & ~capability.controlled).any(axis=1)
    out_of_bounds = (
        changed
        & ((produced < capability.low - tolerance) | (produced > capability.high + tolerance))
    ).any(axis=1)
    too_fast = np.zeros(len(clean), dtype=bool)
    for order, steps in capability.rates:
        moved = changed[:, order]
        pair_changed = moved[:, 1:] | moved[:, :-1]
        steps_taken = np.abs(np.diff(produced[:, order], axis=1))
        too_fast |= (pair_changed & (steps_taken > steps + tolerance[order][1:])).any(axis=1)
    return np.asarray(outside_reach | out_of_bounds | too_fast)
