"""Signal taps: where false data can enter the closed loop.

Every signal that crosses a link of the control loop passes through :meth:`SignalTap.apply`
before it is used, once per control period (and per new sensor reading). A tap that returns
its input unchanged is the honest system; an attack model (bias, scaling, replay, freeze,
denial of service, adversarial perturbation of an ML input...) is a tap that transforms the
values. The signals, in the order they are tapped within a control period starting at ``t``:

=====================  =====  ==================================================================
signal                 unit   what it is, and when it is tapped
=====================  =====  ==================================================================
``cgm``                mg/dL  a new sensor reading, at its sample time ``t`` (including ``t = 0``),
                              before the controller sees it (sensor -> receiver/app link)
``carbs``              g      carbohydrate entered during the period that ended at ``t``
                              (user/app -> controller), before the controller sees it
``basal``              U/min  the controller's basal output for ``[t, t + sample_time)``
``bolus``              U/min  the controller's bolus output (a rate over the same period)
``pump_basal``         U/min  the basal command as the pump receives it (controller -> pump link),
                              before the pump's rounding and limits
``pump_bolus``         U/min  the bolus command as the pump receives it
``delivered_insulin``  U/min  the insulin the pump delivers over the period, after its rounding
                              and limits (pump firmware); negative values are delivered as 0
=====================  =====  ==================================================================

Only when the run has a fingerstick schedule (:mod:`mdrisk.impact.fingerstick`), one more
signal is tapped at the start of every period, before ``carbs``:

=====================  =====  ==================================================================
``fingerstick``        mg/dL  the meter reading taken at ``t`` (meter -> app link), NaN on rows
                              where the user took none; the app calibrates the CGM with it
=====================  =====  ==================================================================

Each call gets the signal name, the time in minutes since the start of the run, and an array
of shape ``(batch,)``; it returns an array of the same shape (it must not change the array it
was given in place). Which rows a tap attacks is the tap's own business: it is built knowing
the batch layout (e.g. from a mask or a per-row parameter array).

A tap that keeps state between calls (a replay buffer, an attack clock) may define
``reset(batch_size: int) -> None``; :func:`mdrisk.impact.simulate.simulate` calls it before
the first step, so one tap object can serve several runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import numpy as np

CGM = "cgm"
CARBS = "carbs"
BASAL = "basal"
BOLUS = "bolus"
PUMP_BASAL = "pump_basal"
PUMP_BOLUS = "pump_bolus"
DELIVERED_INSULIN = "delivered_insulin"
FINGERSTICK = "fingerstick"

# Tapped on every run.
SIGNALS: tuple[str, ...] = (CGM, CARBS, BASAL, BOLUS, PUMP_BASAL, PUMP_BOLUS, DELIVERED_INSULIN)
# Tapped only on runs that have them (a fingerstick schedule).
SCHEDULED_SIGNALS: tuple[str, ...] = (FINGERSTICK,)
SIGNAL_UNITS: dict[str, str] = {
    CGM: "mg/dL",
    CARBS: "g",
    BASAL: "U/min",
    BOLUS: "U/min",
    PUMP_BASAL: "U/min",
    PUMP_BOLUS: "U/min",
    DELIVERED_INSULIN: "U/min",
    FINGERSTICK: "mg/dL",
}


@runtime_checkable
class SignalTap(Protocol):
    """Transforms a signal of the loop: ``apply(signal_name, t_minutes, values) -> values``."""

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray: ...


class FunctionTap:
    """A tap from plain functions, one per signal: ``FunctionTap(cgm=lambda t, v: v + 20)``.

    Signals without a function pass unchanged. An unknown signal name is an error, so a typo
    does not silently leave the loop honest.
    """

    def __init__(self, **functions: Callable[[float, np.ndarray], np.ndarray]) -> None:
        known = SIGNALS + SCHEDULED_SIGNALS
        unknown = sorted(set(functions) - set(known))
        if unknown:
            raise ValueError(f"unknown signal(s) {unknown}; signals: {', '.join(known)}")
        self._functions = functions

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        function = self._functions.get(signal)
        return values if function is None else np.asarray(function(t_minutes, values), float)


class TapChain:
    """Several taps applied in order (the first one's output is the second one's input)."""

    def __init__(self, taps: Iterable[SignalTap]) -> None:
        self.taps = tuple(taps)

    def reset(self, batch_size: int) -> None:
        for tap in self.taps:
            reset = getattr(tap, "reset", None)
            if callable(reset):
                reset(batch_size)

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        for tap in self.taps:
            values = tap.apply(signal, t_minutes, values)
        return values


class RecordingTap:
    """Passes every signal unchanged and keeps a copy of each call: for tests and debugging.

    Memory grows with the run; do not use it on long batch runs.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, np.ndarray]] = []

    def reset(self, batch_size: int) -> None:
        self.calls.clear()

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        self.calls.append((signal, t_minutes, np.array(values, copy=True)))
        return values
