"""Bias: a constant offset added to the signal (a miscalibrated or manipulated reading)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, number, signed
from mdrisk.impact.fdi_signals import LEVEL_SIGNALS

UNITS = ("mg/dL", "g", "U/min", "U")


class Bias(Attack):
    family = "bias"
    targets = LEVEL_SIGNALS
    summary = "adds a constant offset (signal units) while the window is open"
    param_example = "+60"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        return {"offset": number(text, "the offset", units=UNITS)}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return signed(params["offset"])

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        # No signal of the loop can be negative: a receiver would not accept it.
        return np.maximum(values + self.param("offset"), 0.0)
