"""Dropped packets: messages lost on a link (jamming, or a man in the middle discarding them).

``drop`` loses every message in the window, ``drop:50%`` each one with that probability
(seeded). A lost level (a CGM reading, a basal command, a forecast) leaves the receiver with
the last value it got; a lost event (a carb entry, a bolus command) or a lost sporadic
reading (a fingerstick, NaN) is simply gone. As with
``noise``, one seeded random stream serves the batch: reproducible for the same command.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext, ParamError, number
from mdrisk.impact.fdi_signals import EVENT_SIGNALS, READING_SIGNALS

LINK_SIGNALS = (
    "cgm",
    "carbs",
    "basal",
    "bolus",
    "pump_basal",
    "pump_bolus",
    "iob",
    "forecast",
    *READING_SIGNALS,
)


class Drop(Attack):
    family = "drop"
    targets = LINK_SIGNALS
    summary = "loses messages on a link: all of them, or a share ('drop:50%')"
    param_required = False
    param_example = "50%"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        if not text:
            return {"probability": 1.0}
        body = text[:-1] if text.endswith("%") else text
        share = number(body, "the share of messages lost", signed=False)
        probability = share / 100.0 if text.endswith("%") else share
        if not 0.0 < probability <= 1.0:
            raise ParamError(
                f"the share lost must be in (0, 100%], not {text!r}",
                0,
                "write e.g. 'drop:50%' or 'drop' for all",
            )
        return {"probability": probability}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        probability = float(params["probability"])
        return "" if probability == 1.0 else f"{100.0 * probability:g}%"

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._random = np.random.default_rng(zlib.crc32(f"drop:{self.signal}".encode()))
        self._last: np.ndarray | None = None

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        lost = active & (self._random.random(values.shape) < self.param("probability"))
        if self.signal in READING_SIGNALS:
            return np.where(lost, np.nan, values)
        if self.signal in EVENT_SIGNALS:
            received = np.where(lost, 0.0, values)
        else:
            last = values if self._last is None else self._last
            received = np.where(lost, last, values)
        self._last = received
        return received
