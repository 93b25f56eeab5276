"""Spoofed entries: fake events, or a fake level.

On an event signal (a carb entry, a bolus) a spoof injects one extra event per window
opening, at the first control period at or after the window's start: ``spoof:60g@carbs,07:30``
enters 60 g the user never ate; ``spoof:5U@pump_bolus,03:00`` is a bolus nobody asked for.
On a level signal it replaces the value for the whole window: ``spoof:250@cgm,02:00-03:00``.
On a sporadic reading (a fingerstick) it sends one fake reading per window opening, like an
event: ``spoof:300@fingerstick,11:55`` is a meter reading of 300 mg/dL the user never took.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext, ParamError, number
from mdrisk.impact.fdi_signals import EVENT_SIGNALS, READING_SIGNALS

BOLUS_SIGNALS = ("bolus", "pump_bolus")


class Spoof(Attack):
    family = "spoof"
    summary = "injects a fake entry or dose once (events), or a fake value (levels)"
    param_example = "60g"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        value = number(text, "the spoofed value", signed=False, units=("mg/dL", "g", "U"))
        if value < 0:
            raise ParamError("a spoofed value cannot be negative", 0)
        return {"value": value}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{params['value']:g}"

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._fired_day = np.full(context.size, -1.0)

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        value = self.param("value")
        one_off = self.signal in EVENT_SIGNALS or self.signal in READING_SIGNALS
        if not one_off:
            return np.broadcast_to(value, values.shape).astype(float)
        day = np.broadcast_to(self.window.day(t), values.shape)
        fire = active & (self._fired_day != day)
        self._fired_day = np.where(fire, day, self._fired_day)
        if self.signal in READING_SIGNALS:
            return np.where(fire, np.broadcast_to(value, values.shape), values)
        if self.signal in BOLUS_SIGNALS:  # units, delivered over one control period
            value = value / self.context.sample_time_min
        return np.where(fire, values + value, values)
