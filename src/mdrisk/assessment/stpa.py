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
    hazards_source: str = "analyst"  # or "inherited from the control action"


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


class MLEffect(Record):
    """What the falsified data does to an ML output on the way to the controller."""

    output: str
    direction: str  # up | down | either | stale | late | missing


class LossScenario(Record):
    """A loss-scenario class: one (entry point, signal, manipulation, UCA), with every entry
    point folded into it and why the manipulation pushes the controller that way."""

    id: str
    family: str  # feedback | control_path | controller | ml_model
    element: str  # the representative entry point (link or component id)
    members: list[str]  # every entry point of the class, origin first
    signal: str
    manipulation: str
    effect: MLEffect | None = None  # where an ML engine is in the path
    belief: str | None = None  # the process-model variable pushed, and which way
    controller: str
    control_action: str
    uca: str
    uca_type: UCAType
    hazards: list[str]
    losses: list[str]
    rationale: str
    assumptions: list[str] = Field(default_factory=list)  # effects not declared in the model
    fdi_points: list[str] = Field(default_factory=list)
    ml_engine: str | None = None
    ml_input: str | None = None
    ml_output: str | None = None
    path: list[str]
    text: str

    @property
    def fdi_point(self) -> str | None:
        """The FDI point of the representative entry, where the class has one."""
        return self.fdi_points[0] if self.fdi_points else None


class CheckFinding(Record):
    id: str
    rule: str
    severity: str  # "warning" | "info"
    message: str
    elements: list[str]
    fix: str
