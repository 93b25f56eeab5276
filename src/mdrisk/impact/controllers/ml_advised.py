"""An ML-advised bolus controller: the reference device's bolus advisor, dosing from a forecast.

Each control period the controller feeds the CGM value and carb entries it sees to a
:class:`~mdrisk.impact.forecast_model.features.FeatureBuilder`, computes the insulin on board
from its own past commands, and asks the 30-minute glucose forecaster. Then, with ``f`` the
forecast, ``iob`` the insulin on board and each patient's own ``CR`` and ``CF``:

* **suspend**: basal is 0 while ``f < suspend_below`` (70 mg/dL), the patient's basal
  otherwise (the device's ``suspend_insulin``);
* **meal bolus** (a period with a carb entry, which the user is taken to confirm):
  ``carbs / CR + correction``, never below 0;
* **correction** from the forecast, not the current CGM: ``(f - target) / CF - iob`` when
  ``f`` is above ``correction_threshold`` (no more than 0 below it), and ``(f - target) / CF``
  (a reduction) when ``f`` is below the target;
* **correction bolus between meals**: the correction alone when ``f`` exceeds
  ``correction_above`` and no bolus was given for ``correction_interval_min`` minutes
  (the user accepting the advisor's proposal).

Two signals exist only here and pass through the ``tap`` given to the constructor (the same
one given to :func:`~mdrisk.impact.simulate.simulate`, so one attack object sees every
signal): ``iob`` (the insulin on board given to the forecaster and the advisor, U) before the
forecast, and ``forecast`` (mg/dL) before dosing. A poisoned model update is an attack on
``forecast``; a falsified pump status is one on ``iob``.

The caller gives the ``forecaster`` (usually :func:`mdrisk.impact.forecasting
.default_forecaster`: trained on first use, then cached); the controllers sit below the
training, which simulates days with them.
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.controllers.base import (
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
)
from mdrisk.impact.fdi_signals import FORECAST, IOB
from mdrisk.impact.forecast_model.features import FeatureBuilder
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.taps import SignalTap


class MLAdvisedController(Controller):
    """Bolus advice and suspension from a 30-minute ML glucose forecast."""

    name = "ml_advised"

    def __init__(
        self,
        forecaster: Forecaster,
        *,
        tap: SignalTap | None = None,
        target: float = 140.0,
        correction_threshold: float = 150.0,
        suspend_below: float = 70.0,
        correction_above: float = 200.0,
        correction_interval_min: float = 180.0,
    ) -> None:
        self.forecaster = forecaster
        self.tap = tap
        self.target = float(target)
        self.correction_threshold = float(correction_threshold)
        self.suspend_below = float(suspend_below)
        self.correction_above = float(correction_above)
        self.correction_interval_min = float(correction_interval_min)

    def reset(self, context: ControllerContext) -> None:
        self._builder = FeatureBuilder(context.patients, context.sample_time_min)
        self._basal = np.asarray(context.patients.basal_u_per_min, dtype=float)
        self._cr = np.asarray(context.patients.params["CR"], dtype=float)
        self._cf = np.asarray(context.patients.params["CF"], dtype=float)
        self._period = float(context.sample_time_min)
        self._last_bolus = np.full(context.size, -np.inf)
        self.last_forecast = np.full(context.size, np.nan)

    @property
    def feature_builder(self) -> FeatureBuilder:
        """The histories the forecaster's features come from (set by :meth:`reset`)."""
        return self._builder

    @property
    def last_bolus_min(self) -> np.ndarray:
        """Per row, when the last bolus was given (minutes; ``-inf``: none yet)."""
        return self._last_bolus

    def _tapped(self, signal: str, t: float, values: np.ndarray) -> np.ndarray:
        if self.tap is None:
            return values
        out = np.asarray(self.tap.apply(signal, t, values), dtype=float)
        if out.shape != values.shape:
            raise ValueError(
                f"signal tap returned shape {out.shape} for {signal!r} at t={t}; "
                f"expected {values.shape}"
            )
        return out

    def act(self, observation: ControllerInput) -> InsulinCommand:
        t = float(observation.t_min)
        builder = self._builder
        carbs = np.asarray(observation.carbs_g, dtype=float)
        builder.observe(observation.cgm, carbs)
        iob = self._tapped(IOB, t, builder.insulin_on_board())
        forecast = self._tapped(FORECAST, t, self.forecaster.predict(builder.features(iob)))
        self.last_forecast = forecast

        basal = np.where(forecast < self.suspend_below, 0.0, self._basal)
        excess = (forecast - self.target) / self._cf
        correction = np.where(
            forecast > self.correction_threshold,
            np.maximum(excess - np.maximum(iob, 0.0), 0.0),
            np.minimum(excess, 0.0),
        )
        meal = carbs > 0
        correct_only = (
            ~meal
            & (forecast > self.correction_above)
            & (t - self._last_bolus >= self.correction_interval_min)
        )
        units = np.where(
            meal,
            np.maximum(carbs / self._cr + correction, 0.0),
            np.where(correct_only, np.maximum(correction, 0.0), 0.0),
        )
        self._last_bolus = np.where(units > 0, t, self._last_bolus)
        bolus = units / self._period
        builder.record_insulin(basal, bolus)
        return InsulinCommand(basal=basal, bolus=bolus)
