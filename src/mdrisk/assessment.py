"""The Assessment: what flows from stage to stage, with stable ids and links back.

Each finding names the ids it was derived from, so traceability is a property of the data.
Later stages add their own sections; nothing here knows how it will be rendered.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mdrisk.model.schema import (
    Component,
    DeviceInfo,
    DeviceModel,
    Hazard,
    Link,
    Loss,
    UCAType,
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeviceSection(_Record):
    info: DeviceInfo
    components: list[Component]
    links: list[Link]


class ControlAction(_Record):
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


class UnsafeControlAction(_Record):
    id: str
    control_action: str
    type: UCAType
    controller: str
    text: str
    context: str
    context_source: str = Field(description="'analyst' when written in the model, else 'derived'")
    hazards: list[str]


class PathStep(_Record):
    """One hop of a path: a component or a link, by id."""

    element: str
    element_type: str  # "component" | "link"


class FDIPoint(_Record):
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


class LossScenario(_Record):
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


class CheckFinding(_Record):
    id: str
    rule: str
    severity: str  # "warning" | "info"
    message: str
    elements: list[str]
    fix: str


class SnapshotRef(_Record):
    source: str
    sha256: str
    imported: str | None = None


class Provenance(_Record):
    tool: str = "mdrisk"
    tool_version: str
    model_file: str
    model_sha256: str
    created: str
    kb_snapshots: list[SnapshotRef] = Field(default_factory=list)


class Assessment(_Record):
    device: DeviceSection
    losses: list[Loss]
    hazards: list[Hazard]
    control_actions: list[ControlAction]
    ucas: list[UnsafeControlAction]
    fdi_points: list[FDIPoint]
    loss_scenarios: list[LossScenario]
    checks: list[CheckFinding]
    provenance: Provenance

    def device_model(self) -> DeviceModel:
        return DeviceModel(
            device=self.device.info,
            components=self.device.components,
            links=self.device.links,
            losses=self.losses,
            hazards=self.hazards,
        )

    def known_ids(self) -> set[str]:
        """Every id a finding may cite."""
        ids = {c.id for c in self.device.components} | {link.id for link in self.device.links}
        ids |= {loss.id for loss in self.losses} | {h.id for h in self.hazards}
        ids |= {ca.id for ca in self.control_actions} | {u.id for u in self.ucas}
        ids |= {f.id for f in self.fdi_points} | {s.id for s in self.loss_scenarios}
        ids |= {c.id for c in self.checks}
        return ids
