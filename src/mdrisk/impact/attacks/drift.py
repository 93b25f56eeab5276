"""Drift: an offset that grows at a constant rate from the window's start until it closes
(a sensor drifting away, or an attacker walking the value slowly to stay unnoticed)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, ParamError, number, signed
from mdrisk.impact.attacks.bias import UNITS
from mdrisk.impact.fdi_signals import LEVEL_SIGNALS


class Drift(Attack):
    family = "drift"
    targets = LEVEL_SIGNALS
    summary = "adds an offset growing at a constant rate (per minute or per hour)"
    param_example = "+1.5/min"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        amount, slash, per = text.partition("/")
        per_minutes = {"min": 1.0, "m": 1.0, "h": 60.0}.get(per.lower())
        if not slash or per_minutes is None:
            raise ParamError(
                "a drift is a rate per minute or per hour",
                len(amount),
                "write e.g. 'drift:+1.5/min' or 'drift:+60/h'",
            )
        return {"rate_per_min": number(amount, "the rate", units=UNITS) / per_minutes}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{signed(params['rate_per_min'])}/min"

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        return np.maximum(values + self.param("rate_per_min") * self.window.elapsed(t), 0.0)
