"""Freeze: the signal stuck at the value it had when the window opened (a stale value
repeated as if fresh, e.g. a CGM receiver fed the same reading again and again)."""

from __future__ import annotations

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext

LEVEL_SIGNALS = ("cgm", "basal", "pump_basal", "delivered_insulin", "iob", "forecast")


class Freeze(Attack):
    family = "freeze"
    targets = LEVEL_SIGNALS
    summary = "holds the signal at its value when the window opened (levels only)"
    param_required = False

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._held = np.zeros(context.size)
        self._held_day = np.full(context.size, -1.0)

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        day = np.broadcast_to(self.window.day(t), values.shape)
        opening = active & (self._held_day != day)
        self._held = np.where(opening, values, self._held)
        self._held_day = np.where(opening, day, self._held_day)
        return self._held
