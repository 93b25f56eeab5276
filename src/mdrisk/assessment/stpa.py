"""What the STPA-Sec stage adds: control actions, unsafe control actions, false-data injection
points, loss scenarios and the model checks."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record
from mdrisk.model.schema import UCAType


class ControlAction(Record):
    id: str
    name: str
    controller: str
    controlled: str
    link: str
    hazards: list[str]
    feedback_links: list[str]
    # Controller's process variables (and the signals behind them) that decide this action.
    decided_from: list[str]
    # UCA types the analyst ruled out, with the reason (no UCA is generated for them).
    not_applicable: dict[str, str] = Field(default_factory=dict)


class UnsafeControlAction(Record):
    id: str
    control_action: str
    type: UCAType
    controller: str
    text: str
    context: str
    context_source: str = Field(description="'analyst' when written in the model, else 'derived'")
    hazards: list[str]


class PathStep(Record):
    """One hop of a path: a component or a link, by id."""

    element: str
    element_type: str  # "component" | "link"


class FDIPoint(Record):
    """A place where false data can enter on its way to an ML engine."""

    id: str
    element: str
    element_type: str  # "component" | "link"
    target: str  # "inference_input" | "model_update"
    ml_engine: str
    ml_input: str
    path: list[PathStep]
    protections: list[str]
    technologies: list[str]


class LossScenario(Record):
    id: str
    fdi_point: str
    ml_engine: str
    ml_input: str
    ml_output: str
    ml_misbehaviour: str
    uca: str
    hazards: list[str]
    losses: list[str]
    path: list[str]
    text: str


class CheckFinding(Record):
    id: str
    rule: str
    severity: str  # "warning" | "info"
    message: str
    elements: list[str]
    fix: str
