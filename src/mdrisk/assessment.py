"""The Assessment: what flows from stage to stage, with stable ids and links back.

Each finding names the ids it was derived from, so traceability is a property of the data.
Later stages add their own sections; nothing here knows how it will be rendered.
"""

from __future__ import annotations

from typing import Any

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
from mdrisk.risk.records import RiskItem
from mdrisk.scenarios.records import AttackScenario


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


class LLMCall(_Record):
    """One question put to an LLM, accepted or rejected: what was asked, of whom, and when.
    The only place an LLM time is kept, so the rest of the assessment stays deterministic."""

    id: str
    task: str
    subject: str
    status: str  # "accepted" | "rejected"
    model: str
    served_model: str | None = None
    endpoint_kind: str
    endpoint: str
    response_format: str
    prompt_sha256: str
    response_sha256: str | None = None
    temperature: float
    seed: int
    attempts: int
    time: str
    problems: list[str] = Field(default_factory=list)
    unknown_ids: list[str] = Field(default_factory=list)


class Provenance(_Record):
    tool: str = "mdrisk"
    tool_version: str
    model_file: str
    model_sha256: str
    created: str
    kb_snapshots: list[SnapshotRef] = Field(default_factory=list)
    llm: list[LLMCall] = Field(default_factory=list)


class LLMEnrichment(_Record):
    """Text an LLM drafted from the assessment's own facts: never a finding, always marked
    with the call that produced it (``id`` is that call's id in ``provenance.llm``)."""

    id: str
    task: str
    subject: str
    content: dict[str, Any]
    cited_ids: list[str]
    model: str
    endpoint_kind: str
    prompt_sha256: str
    response_sha256: str
    temperature: float
    seed: int


class ImpactPatient(_Record):
    """One virtual patient's clean and attacked day (mdrisk.impact): selected harm metrics,
    ISO 14971 severity of each run, the severity the attack induced (None: no worse in class
    than the clean day) and the stealth alarms the attacked run raised."""

    patient: str
    clean: dict[str, float]
    attacked: dict[str, float]
    clean_severity: str
    attacked_severity: str
    induced_severity: str | None = None
    new_criteria: list[str] = Field(default_factory=list)
    stealthy: bool
    alarms: list[str] = Field(default_factory=list)


class ImpactFinding(_Record):
    """Measured harm (status "simulated") of the loss scenarios it lists, under one attack,
    or why they cannot be simulated (status "not_simulated", with the reason)."""

    id: str
    status: str  # "simulated" | "not_simulated"
    loss_scenarios: list[str]
    fdi_points: list[str] = Field(default_factory=list)
    reason: str = ""
    ml_input: str | None = None
    forecast_error: str | None = None  # how the ML output errs: too_high, too_low, ...
    attack: str | None = None  # attack spec (mdrisk simulate glucose --attack)
    signal: str | None = None
    controller: str | None = None
    meals: str | None = None
    patients: list[ImpactPatient] = Field(default_factory=list)
    patients_harmed: int = 0  # patients with an attack-induced severity
    worst_induced_severity: str | None = None
    stealthy_patients: int = 0


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
    # Narratives and drafts from an LLM (``mdrisk enrich``), kept apart from the findings.
    llm_enrichments: list[LLMEnrichment] = Field(default_factory=list)
    # Support status from SBOMs in the knowledge base, per technology (empty without --kb).
    support: list[ComponentSupport] = Field(default_factory=list)
    # Risks R-n: CVSS 3.1/4.0 (medical-device rubric), severity x exploitability, residual.
    risks: list[RiskItem] = Field(default_factory=list)
    # Attack scenarios SC-n, ranked by exploitability (mdrisk.scenarios).
    scenarios: list[AttackScenario] = Field(default_factory=list)
    # Measured patient harm per loss scenario, from the glucose simulator (analyze --simulate).
    impact: list[ImpactFinding] = Field(default_factory=list)
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
        ids |= {r.id for r in self.risks}
        ids |= {s.id for s in self.scenarios}
        ids |= {i.id for i in self.impact}
        return ids
