"""Scaling: the signal multiplied by a factor (a gain error, or a doctored entry or dose)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, ParamError, number


def factor(text: str, offset: int = 0) -> float:
    """``1.5``, ``x1.5`` or ``150%``; never negative."""
    body = text[1:] if text[:1] in ("x", "X", "*") else text
    shift = len(text) - len(body)
    if body.endswith("%"):
        value = number(body[:-1], "the factor", offset + shift, signed=False) / 100.0
    else:
        value = number(body, "the factor", offset + shift, signed=False)
    if value < 0:
        raise ParamError("a factor cannot be negative", offset)
    return value


class Scale(Attack):
    family = "scale"
    summary = "multiplies the signal by a factor (1.5, x1.5 or 150%)"
    param_example = "1.5"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        return {"factor": factor(text)}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{params['factor']:g}"

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        return values * self.param("factor")
