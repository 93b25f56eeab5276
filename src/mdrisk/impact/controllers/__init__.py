"""Controllers: the interface (:mod:`.base`) and one file per controller, registered by name."""

from mdrisk.impact.controllers.basal_bolus import BasalBolusController
from mdrisk.impact.controllers.base import (
    CONTROLLERS,
    Controller,
    ControllerContext,
    ControllerInput,
    InsulinCommand,
    make_controller,
)
from mdrisk.impact.controllers.ml_advised import MLAdvisedController
from mdrisk.impact.controllers.pid import PIDController

__all__ = [
    "CONTROLLERS",
    "BasalBolusController",
    "Controller",
    "ControllerContext",
    "ControllerInput",
    "InsulinCommand",
    "MLAdvisedController",
    "PIDController",
    "make_controller",
]
