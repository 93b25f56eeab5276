"""The Assessment: what flows from stage to stage, with stable ids and links back.

It carries the device model whole, then one section per stage. Each finding names the ids it
was derived from, so traceability is a property of the data. The records of every section
live in this package, one module per section, below the stages that fill them: this package
imports only ``mdrisk.model`` and pydantic. Nothing here knows how it will be rendered.
"""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record
from mdrisk.assessment.decisions import DecisionLog
from mdrisk.assessment.detectors import DetectorEvaluation
from mdrisk.assessment.impact import ImpactFinding
from mdrisk.assessment.llm import LLMEnrichment
from mdrisk.assessment.ml_attacks import MLAttack
from mdrisk.assessment.provenance import Provenance
from mdrisk.assessment.risk import PolicyView, RiskItem
from mdrisk.assessment.scenarios import AttackScenario
from mdrisk.assessment.stpa import (
    CheckFinding,
    ControlAction,
    FDIPoint,
    LossScenario,
    UnsafeControlAction,
)
from mdrisk.assessment.support import ComponentSupport
from mdrisk.assessment.threats import ElementThreat, VulnerabilityCoverage
from mdrisk.model.absent_keys import OmitsAbsent
from mdrisk.model.schema import DeviceModel


class Assessment(Record, OmitsAbsent):
    absent_keys = ("ml_attacks",)  # analysed without --ml-attacks: no key

    # The device model as it was read (device info, components, links, losses, hazards).
    device: DeviceModel
    control_actions: list[ControlAction]
    ucas: list[UnsafeControlAction]
    fdi_points: list[FDIPoint]
    loss_scenarios: list[LossScenario]
    checks: list[CheckFinding]
    # Pack rules and known vulnerabilities per element (empty unless analysed with --kb).
    threats: list[ElementThreat] = Field(default_factory=list)
    # What the knowledge base held and which technologies it covers (None without --kb and
    # in files written before it was recorded): a technology without matches has no known
    # vulnerability only where it is covered.
    vulnerability_coverage: VulnerabilityCoverage | None = None
    # Narratives and drafts from an LLM (``mdrisk enrich``), kept apart from the findings.
    llm_enrichments: list[LLMEnrichment] = Field(default_factory=list)
    # Support status from SBOMs in the knowledge base, per technology (empty without --kb).
    support: list[ComponentSupport] = Field(default_factory=list)
    # Risks R-n: CVSS 3.1/4.0 (medical-device rubric), severity x exploitability, residual.
    risks: list[RiskItem] = Field(default_factory=list)
    # The policy the risks were rated under (None in files written before it was recorded).
    risk_policy: PolicyView | None = None
    # Attack scenarios SC-n, ranked by exploitability (mdrisk.scenarios).
    scenarios: list[AttackScenario] = Field(default_factory=list)
    # Measured patient harm per loss scenario, from the glucose simulator (analyze --simulate).
    impact: list[ImpactFinding] = Field(default_factory=list)
    # The device's declared runtime detectors, evaluated with the simulator (--simulate).
    detectors: list[DetectorEvaluation] = Field(default_factory=list)
    # Line of each model element in provenance.model_file ("components[cgm]": 31), so SARIF
    # can locate findings without reading the file again.
    model_lines: dict[str, int] = Field(default_factory=dict)
    # The analyst's decisions (--decisions), each marked stale when its finding is gone.
    decisions: DecisionLog | None = None
    # Attacks run on the engines' own models (--ml-attacks); absent from the file when none.
    ml_attacks: list[MLAttack] = Field(default_factory=list)
    provenance: Provenance

    def known_ids(self) -> set[str]:
        """Every id a finding may cite."""
        device = self.device
        ids = {c.id for c in device.components} | {link.id for link in device.links}
        ids |= {loss.id for loss in device.losses} | {h.id for h in device.hazards}
        ids |= {ca.id for ca in self.control_actions} | {u.id for u in self.ucas}
        ids |= {f.id for f in self.fdi_points} | {s.id for s in self.loss_scenarios}
        ids |= {c.id for c in self.checks}
        ids |= {t.id for t in self.threats}
        ids |= {r.id for r in self.risks}
        ids |= {s.id for s in self.scenarios}
        ids |= {i.id for i in self.impact}
        ids |= {a.id for a in self.ml_attacks}
        return ids
