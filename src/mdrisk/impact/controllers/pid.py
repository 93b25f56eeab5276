"""simglucose's PID controller (``PIDController``), for a batch.

``u = P * (cgm - target) + I * integral + D * (cgm - previous) / period`` is the basal rate
(U/min; the pump clips a negative rate to 0); there is no bolus. As in simglucose the
integral adds ``(cgm - target) * period`` after each decision and ``previous`` starts at 0,
so the first derivative term is ``D * cgm / period``. ``include_basal=True`` adds each
patient's steady-state basal to ``u`` (simglucose does not). Gains may be scalars or one
per row.
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
)


class PIDController(Controller):
    """Proportional-integral-derivative basal control towards a glucose target."""

    name = "pid"

    def __init__(
        self,
        P: float | np.ndarray = 1.0,  # noqa: N803 (simglucose's names)
        I: float | np.ndarray = 0.0,  # noqa: N803, E741
        D: float | np.ndarray = 0.0,  # noqa: N803
        target: float | np.ndarray = 140.0,
        include_basal: bool = False,
    ) -> None:
        self.P, self.I, self.D = P, I, D
        self.target = target
        self.include_basal = include_basal

    def reset(self, context: ControllerContext) -> None:
        self._period = float(context.sample_time_min)
        self._integral = np.zeros(context.size)
        self._previous = np.zeros(context.size)
        self._offset = (
            context.patients.basal_u_per_min if self.include_basal else np.zeros(context.size)
        )
        self._no_bolus = np.zeros(context.size)

    def act(self, observation: ControllerInput) -> InsulinCommand:
        cgm = observation.cgm
        error = cgm - self.target
        rate = (
            self.P * error
            + self.I * self._integral
            + self.D * (cgm - self._previous) / self._period
        )
        self._previous = cgm
        self._integral = self._integral + error * self._period
        return InsulinCommand(basal=rate + self._offset, bolus=self._no_bolus)
