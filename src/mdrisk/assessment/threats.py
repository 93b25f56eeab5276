"""What the knowledge base ties to each component and link: technology-pack rules, known
vulnerabilities and the catalog ids (CWE, CAPEC, ATT&CK, ATLAS) they cite."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class ThreatReferences(Record):
    """Catalog ids, one sorted list per catalog."""

    cwe: list[str] = Field(default_factory=list)
    capec: list[str] = Field(default_factory=list)
    attack_ics: list[str] = Field(default_factory=list)
    attack_enterprise: list[str] = Field(default_factory=list)
    atlas: list[str] = Field(default_factory=list)

    def all_ids(self) -> list[str]:
        return [*self.cwe, *self.capec, *self.attack_ics, *self.attack_enterprise, *self.atlas]


class ThreatMitigations(Record):
    attack_ics: list[str] = Field(default_factory=list)
    attack_enterprise: list[str] = Field(default_factory=list)
    atlas: list[str] = Field(default_factory=list)


class PackFinding(Record):
    """A technology-pack rule that applies, and what in the model made it apply."""

    rule: str
    title: str
    rationale: str
    matched_on: str
    references: ThreatReferences
    mitigations: ThreatMitigations


class CvssScore(Record):
    version: str
    vector: str
    base_score: float | None = None


class KnownVulnerability(Record):
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


class ElementThreat(Record):
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
