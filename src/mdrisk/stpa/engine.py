"""STPA-Sec over a device model: one pure function from the model to its findings."""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment.stpa import (
    CheckFinding,
    ControlAction,
    FDIPoint,
    LossScenario,
    UnsafeControlAction,
)
from mdrisk.model.schema import DeviceModel
from mdrisk.stpa.checks import Findings, run_checks
from mdrisk.stpa.classes import derive_loss_scenarios
from mdrisk.stpa.control_actions import derive_control_actions
from mdrisk.stpa.fdi import derive_fdi_points
from mdrisk.stpa.graph import ControlStructure
from mdrisk.stpa.ucas import derive_ucas


@dataclass(frozen=True)
class StpaResult:
    control_actions: list[ControlAction]
    ucas: list[UnsafeControlAction]
    fdi_points: list[FDIPoint]
    loss_scenarios: list[LossScenario]
    checks: list[CheckFinding]


def analyze_stpa(model: DeviceModel) -> StpaResult:
    structure = ControlStructure.of(model)
    control_actions = derive_control_actions(structure)
    ucas = derive_ucas(structure, control_actions)
    fdi_points = derive_fdi_points(structure)
    loss_scenarios = derive_loss_scenarios(structure, fdi_points, control_actions, ucas)
    checks = run_checks(Findings(structure, control_actions, ucas, fdi_points, loss_scenarios))
    return StpaResult(control_actions, ucas, fdi_points, loss_scenarios, checks)
