"""Command tampering: insulin commands changed on their way to, or inside, the pump.

* ``tamper:x3@pump_bolus``: every command multiplied (here: boluses tripled);
* ``tamper:=0@pump_basal``: every command replaced; basal in U/h (``=0`` suspends the pump),
  bolus in units per dose (``=0`` cancels every bolus, ``=4`` turns each bolus into 4 U);
* ``tamper:+5U@pump_bolus,03:00``: one extra bolus per window opening.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext, ParamError, number
from mdrisk.impact.attacks.scale import factor
from mdrisk.impact.fdi_signals import INSULIN_SIGNALS

MODES = {"x": 0.0, "=": 1.0, "+": 2.0}
BOLUS_SIGNALS = ("bolus", "pump_bolus")


class Tamper(Attack):
    family = "tamper"
    targets = INSULIN_SIGNALS
    summary = "changes insulin commands: x<factor>, =<value> (U/h basal, U bolus), +<U> once"
    param_example = "x3"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        mode = text[:1].lower()
        if mode == "x":
            return {"mode": MODES["x"], "value": factor(text)}
        if mode == "=":
            value = number(text[1:], "the command", 1, signed=False, units=("U/h", "U"))
            return {"mode": MODES["="], "value": value}
        if mode == "+":
            value = number(text[1:], "the extra dose", 1, signed=False, units=("U",))
            if value <= 0:
                raise ParamError("the extra dose must be positive", 1)
            return {"mode": MODES["+"], "value": value}
        raise ParamError(
            f"{text!r} is not a tampering",
            0,
            "write x<factor> (x3), =<value> (=0) or +<units> (+5U)",
        )

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        mode, value = float(params["mode"]), float(params["value"])
        if mode == MODES["x"]:
            return f"x{value:g}"
        if mode == MODES["="]:
            return f"={value:g}"
        return f"+{value:g}U"

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._fired_day = np.full(context.size, -1.0)

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        mode, value = self.param("mode"), self.param("value")
        period = self.context.sample_time_min
        bolus = self.signal in BOLUS_SIGNALS
        scaled = values * value
        replaced = (
            np.where(values > 0, value / period, 0.0)
            if bolus
            else np.broadcast_to(value / 60.0, values.shape)
        )
        day = np.broadcast_to(self.window.day(t), values.shape)
        fire = active & (mode == MODES["+"]) & (self._fired_day != day)
        self._fired_day = np.where(fire, day, self._fired_day)
        added = values + np.where(fire, value / period, 0.0)
        return np.where(mode == MODES["x"], scaled, np.where(mode == MODES["="], replaced, added))
