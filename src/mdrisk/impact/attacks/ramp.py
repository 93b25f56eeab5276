"""Ramp: an offset that rises to a peak, holds, and falls back before the window closes.

``ramp:+60/30min`` adds an offset growing linearly to +60 over the first 30 minutes of the
window, holds +60, and shrinks linearly back to 0 over the window's last 30 minutes (a window
shorter than twice the ramp time gives a triangle). Unlike a bias, it never jumps, so it can
stay under a rate-of-change limit: its own rate is ``peak / ramp time``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, ParamError, duration_minutes, number, signed
from mdrisk.impact.attacks.bias import UNITS
from mdrisk.impact.fdi_signals import LEVEL_SIGNALS


class Ramp(Attack):
    family = "ramp"
    targets = LEVEL_SIGNALS
    summary = "rises linearly to a peak offset, holds it, falls back before the window ends"
    param_example = "+60/30min"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        peak_text, slash, time_text = text.partition("/")
        if not slash:
            raise ParamError(
                "a ramp needs its peak and its ramp time",
                len(text),
                "write e.g. 'ramp:+60/30min' (to +60 in 30 minutes)",
            )
        peak = number(peak_text, "the peak", units=UNITS)
        minutes = duration_minutes(time_text, "the ramp time", len(peak_text) + 1)
        return {"peak": peak, "ramp_min": minutes}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{signed(params['peak'])}/{params['ramp_min']:g}min"

    def offset(self, t: float) -> np.ndarray:
        elapsed = self.window.elapsed(t)
        remaining = self.window.length - elapsed
        ramp = self.param("ramp_min")
        share = np.clip(np.minimum(elapsed, remaining) / ramp, 0.0, 1.0)
        return self.param("peak") * share

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        return np.maximum(values + self.offset(t), 0.0)
