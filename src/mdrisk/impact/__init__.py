"""Measured patient impact: a fast closed-loop glucose simulator with false-data injection.

The core, in the order a run uses it:

* :mod:`.params` reads the UVA/Padova virtual patients, CGM sensors and pumps from the
  installed ``simglucose`` package (``pip install 'mdrisk[sim]'``);
* :mod:`.uva_padova` is the patient model, vectorised over a batch (state ``(batch, 13)``);
* :mod:`.scenario` holds meal scenarios, :mod:`.cgm` the sensor, :mod:`.pump` the pump;
* :mod:`.controllers` holds the :class:`Controller` interface and the basal-bolus and PID
  controllers;
* :mod:`.taps` defines :class:`SignalTap`, the hook through which every signal of the loop
  passes (where false data is injected);
* :mod:`.simulate` runs the loop (:func:`simulate`) and returns a :class:`SimulationResult`;
* :mod:`.metrics` computes harm metrics and maps them to ISO 14971 severity classes.

Only numpy is needed at run time; simglucose supplies the parameter tables (and, in the
tests, the reference the simulator is checked against).
"""

from mdrisk.impact.controllers import (
    CONTROLLERS,
    BasalBolusController,
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
    PIDController,
    make_controller,
)
from mdrisk.impact.metrics import (
    SEVERITY_CRITERIA,
    HarmAssessment,
    HarmMetrics,
    Severity,
    SeverityCriterion,
    assess_severity,
    glucose_metrics,
)
from mdrisk.impact.params import (
    ParameterTableError,
    PatientTable,
    PumpSpec,
    SensorSpec,
    load_patients,
    load_pump,
    load_sensor,
    patient_names,
)
from mdrisk.impact.scenario import Meal, MealScenario
from mdrisk.impact.simulate import RECORDABLE, SimulationResult, Trace, cross, simulate
from mdrisk.impact.taps import SIGNALS, FunctionTap, SignalTap, TapChain
from mdrisk.impact.uva_padova import UvaPadovaBatch

__all__ = [
    "CONTROLLERS",
    "RECORDABLE",
    "SEVERITY_CRITERIA",
    "SIGNALS",
    "BasalBolusController",
    "Controller",
    "ControllerContext",
    "ControllerInput",
    "FunctionTap",
    "HarmAssessment",
    "HarmMetrics",
    "InsulinCommand",
    "Meal",
    "MealScenario",
    "PIDController",
    "ParameterTableError",
    "PatientTable",
    "PumpSpec",
    "SensorSpec",
    "Severity",
    "SeverityCriterion",
    "SignalTap",
    "SimulationResult",
    "TapChain",
    "Trace",
    "UvaPadovaBatch",
    "assess_severity",
    "cross",
    "glucose_metrics",
    "load_patients",
    "load_pump",
    "load_sensor",
    "make_controller",
    "patient_names",
    "simulate",
]
