"""Freeze: the signal stuck at the value it had when the window opened (a stale value
repeated as if fresh, e.g. a CGM receiver fed the same reading again and again).

On a sporadic reading (a fingerstick) every reading in the window is replaced by the last one
received before the window opened (none yet: the reading is lost)."""

from __future__ import annotations

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext
from mdrisk.impact.fdi_signals import READING_SIGNALS

LEVEL_SIGNALS = ("cgm", "basal", "pump_basal", "delivered_insulin", "iob", "forecast")


class Freeze(Attack):
    family = "freeze"
    targets = LEVEL_SIGNALS + READING_SIGNALS
    summary = "holds the signal at its value when the window opened (levels only)"
    param_required = False

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._held = np.zeros(context.size)
        self._held_day = np.full(context.size, -1.0)
        self._last_reading = np.full(context.size, np.nan)

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        if self.signal in READING_SIGNALS:
            fresh = ~np.isnan(values)
            stale = np.where(fresh, self._last_reading, np.nan)
            self._last_reading = np.where(fresh & ~active, values, self._last_reading)
            return stale
        day = np.broadcast_to(self.window.day(t), values.shape)
        opening = active & (self._held_day != day)
        self._held = np.where(opening, values, self._held)
        self._held_day = np.where(opening, day, self._held_day)
        return self._held
