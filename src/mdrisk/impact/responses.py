"""What the device does once a detector fires, as a controller that switches per row.

:class:`RespondingController` runs the device's own controller and, on each row from its
switch time on, replaces its command:

* ``safe_mode``: the standard bolus calculator without the ML forecast (simglucose's
  basal-bolus controller: the patient's basal, meal boluses from carbs and the CGM);
* ``suspend``: bolus advice and bolus delivery stop; the pump keeps the programmed basal;
* ``alarm``: no change (the user is told; what the user then does is not modelled).

Both controllers are run every period, so the device's own keeps its history as it would
in the background. Up to a row's switch time the run is the same as without the response.
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.controllers.basal_bolus import BasalBolusController
from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
)

RESPONSES = ("alarm", "safe_mode", "suspend")
CHANGES_THE_LOOP = ("safe_mode", "suspend")


class RespondingController(Controller):
    """``device`` until each row's ``switch_at_min`` (NaN or inf: never), then its response."""

    def __init__(self, device: Controller, switch_at_min: np.ndarray, responses: np.ndarray):
        unknown = sorted(set(np.asarray(responses, dtype=str)) - set(RESPONSES))
        if unknown:
            raise ValueError(f"unknown response(s) {unknown}; responses: {', '.join(RESPONSES)}")
        self.device = device
        self.fallback = BasalBolusController()
        self.switch_at = np.where(np.isnan(switch_at_min), np.inf, switch_at_min)
        self.responses = np.asarray(responses, dtype=str)

    def reset(self, context: ControllerContext) -> None:
        if len(self.switch_at) != context.size or len(self.responses) != context.size:
            raise ValueError(
                f"switch times and responses for {len(self.switch_at)} rows, run has {context.size}"
            )
        self.device.reset(context)
        self.fallback.reset(context)
        self._basal = np.asarray(context.patients.basal_u_per_min, dtype=float)

    def act(self, observation: ControllerInput) -> InsulinCommand:
        own = self.device.act(observation)
        standard = self.fallback.act(observation)
        switched = observation.t_min >= self.switch_at
        safe = switched & (self.responses == "safe_mode")
        suspended = switched & (self.responses == "suspend")
        basal = np.where(safe | suspended, self._basal, np.asarray(own.basal, dtype=float))
        bolus = np.where(safe, standard.bolus, np.asarray(own.bolus, dtype=float))
        return InsulinCommand(basal=basal, bolus=np.where(suspended, 0.0, bolus))
