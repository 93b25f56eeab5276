"""Every signal of the glucose loop where false data can be injected, with its unit.

The simulator's own signals (:data:`mdrisk.impact.taps.SIGNALS`) plus two that exist only
inside the ML-advised controller: the insulin on board it gives the forecaster (``iob``) and
the forecast it doses from (``forecast``). Attack models name their target from this list.
"""

from __future__ import annotations

from mdrisk.impact.taps import FINGERSTICK, SCHEDULED_SIGNALS, SIGNAL_UNITS, SIGNALS

FORECAST = "forecast"
IOB = "iob"

ML_SIGNALS: tuple[str, ...] = (IOB, FORECAST)
ALL_SIGNALS: tuple[str, ...] = SIGNALS + SCHEDULED_SIGNALS + ML_SIGNALS
UNITS: dict[str, str] = {**SIGNAL_UNITS, IOB: "U", FORECAST: "mg/dL"}

# What each signal is in the device, for messages and plots.
MEANINGS: dict[str, str] = {
    "cgm": "CGM reading (sensor to app)",
    "carbs": "carbohydrate entry (user to app)",
    "basal": "basal rate decided by the controller",
    "bolus": "bolus decided by the controller",
    "pump_basal": "basal command received by the pump",
    "pump_bolus": "bolus command received by the pump",
    "delivered_insulin": "insulin delivered by the pump",
    FINGERSTICK: "fingerstick meter reading (meter to app), calibrating the CGM",
    IOB: "insulin on board given to the forecaster",
    FORECAST: "30-minute glucose forecast used for dosing",
}

# Signals measured in mg/dL, on which range and rate-of-change limits apply.
GLUCOSE_SIGNALS = ("cgm", FORECAST)
# Sporadic readings: NaN on the rows and periods without one. A lost reading is NaN, not the
# last value held; a spoofed one is injected once per window, like an event.
READING_SIGNALS = (FINGERSTICK,)
# Signals that are events (an entry or a dose), not levels.
EVENT_SIGNALS = ("carbs", "bolus", "pump_bolus")
INSULIN_SIGNALS = ("basal", "bolus", "pump_basal", "pump_bolus", "delivered_insulin")
# Signals that hold a level every period (an offset or noise on them makes sense).
LEVEL_SIGNALS = tuple(s for s in ALL_SIGNALS if s not in EVENT_SIGNALS)
