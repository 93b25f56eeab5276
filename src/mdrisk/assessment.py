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


class ThreatReferences(_Record):
    """Catalog ids, one sorted list per catalog."""

    cwe: list[str] = Field(default_factory=list)
    capec: list[str] = Field(default_factory=list)
    attack_ics: list[str] = Field(default_factory=list)
    attack_enterprise: list[str] = Field(default_factory=list)
    atlas: list[str] = Field(default_factory=list)

    def all_ids(self) -> list[str]:
        return [*self.cwe, *self.capec, *self.attack_ics, *self.attack_enterprise, *self.atlas]


class ThreatMitigations(_Record):
    attack_ics: list[str] = Field(default_factory=list)
    attack_enterprise: list[str] = Field(default_factory=list)
    atlas: list[str] = Field(default_factory=list)


class PackFinding(_Record):
    """A technology-pack rule that applies, and what in the model made it apply."""

    rule: str
    title: str
    rationale: str
    matched_on: str
    references: ThreatReferences
    mitigations: ThreatMitigations


class CvssScore(_Record):
    version: str
    vector: str
    base_score: float | None = None


class KnownVulnerability(_Record):
    """A published vulnerability matched to a technology, with what the store adds to it.

    ``kev`` and ``epss`` are None when the knowledge base holds no KEV or EPSS data for it.
    """

    id: str
    confidence: float
    reason: str
    source: str = ""
    kev: bool | None = None
    epss: float | None = None
    cvss: list[CvssScore] = Field(default_factory=list)
    references: ThreatReferences = Field(default_factory=ThreatReferences)


class ElementThreat(_Record):
    """What applies to one technology of a component or link (or to the element as a whole,
    when ``technology`` is None): pack rules and known vulnerabilities."""

    id: str
    element: str
    element_type: str  # "component" | "link"
    technology: str | None
    technology_families: list[str]
    fdi_points: list[str]
    pack_rules: list[PackFinding]
    vulnerabilities: list[KnownVulnerability]
    references: ThreatReferences  # everything the rules and vulnerabilities cite


class ComponentSupport(_Record):
    """Support status of one technology of the device, as a CycloneDX SBOM in the knowledge
    base states it (FDA premarket guidance: level of support and end-of-support date)."""

    element: str
    technology: str  # name and version, as in ElementThreat.technology
    sbom_component: str  # the SBOM component's bom-ref (or name@version)
    sbom: str  # the SBOM's serial number, else its subject's name
    level_of_support: str | None = None
    end_of_support: str | None = None
    matched_on: str  # "purl" | "cpe" | "name and version"


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
    # Pack rules and known vulnerabilities per element (empty unless analysed with --kb).
    threats: list[ElementThreat] = Field(default_factory=list)
    # Support status from SBOMs in the knowledge base, per technology (empty without --kb).
    support: list[ComponentSupport] = Field(default_factory=list)
    # Line of each model element in provenance.model_file ("components[cgm]": 31), so SARIF
    # can locate findings without reading the file again.
    model_lines: dict[str, int] = Field(default_factory=dict)
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
        ids |= {t.id for t in self.threats}
        return ids
