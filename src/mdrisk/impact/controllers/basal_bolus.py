"""The basal-bolus controller of simglucose (``BBController``), for a batch.

Basal: each patient's steady-state rate ``u2ss * BW / 6000`` U/min. Bolus, only in a period
after carbohydrate was entered: ``carbs / CR``, plus ``(cgm - target) / CF`` when the CGM is
above 150 mg/dL, spread over one control period. ``CR`` and ``CF`` are each patient's own,
from simglucose's Quest.csv.
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
)

CORRECTION_THRESHOLD = 150.0  # mg/dL, fixed in simglucose's BBController


class BasalBolusController(Controller):
    """A person on a pump with a bolus calculator: fixed basal, meal and correction boluses."""

    name = "basal_bolus"

    def __init__(
        self, target: float = 140.0, correction_threshold: float = CORRECTION_THRESHOLD
    ) -> None:
        self.target = float(target)
        self.correction_threshold = float(correction_threshold)

    def reset(self, context: ControllerContext) -> None:
        params = context.patients.params
        self._basal = context.patients.basal_u_per_min
        self._cr = params["CR"]
        self._cf = params["CF"]
        self._period = float(context.sample_time_min)
        self._no_bolus = np.zeros(context.size)

    def act(self, observation: ControllerInput) -> InsulinCommand:
        carbs = observation.carbs_g
        if not np.any(carbs > 0):
            return InsulinCommand(basal=self._basal, bolus=self._no_bolus)
        cgm = observation.cgm
        correction = (cgm > self.correction_threshold) * (cgm - self.target) / self._cf
        bolus_units = np.where(carbs > 0, carbs / self._cr + correction, 0.0)
        return InsulinCommand(basal=self._basal, bolus=bolus_units / self._period)
