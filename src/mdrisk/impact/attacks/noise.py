"""Noise: Gaussian noise of a given standard deviation added to the signal (jamming-like
corruption, or an attacker hiding a manipulation in apparent sensor noise). The noise is
seeded from the attack's own parameters, so a run is reproducible. One random stream serves the
whole batch, so the draws a row gets depend on the batch's layout: the same command gives the
same numbers, a batch with other noise attacks in it other (equally likely) ones."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext, ParamError, number
from mdrisk.impact.attacks.bias import UNITS
from mdrisk.impact.fdi_signals import LEVEL_SIGNALS


class Noise(Attack):
    family = "noise"
    targets = LEVEL_SIGNALS
    summary = "adds Gaussian noise with the given standard deviation (seeded)"
    param_example = "20"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        sd = number(text, "the standard deviation", signed=False, units=UNITS)
        if sd <= 0:
            raise ParamError("the standard deviation must be positive", 0)
        return {"sd": sd}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{params['sd']:g}"

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        seed = zlib.crc32(f"{self.signal}:{np.asarray(self.params['sd']).tobytes()!r}".encode())
        self._random = np.random.default_rng(seed)

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        draws = self._random.standard_normal(values.shape)
        return np.maximum(values + self.param("sd") * draws, 0.0)
