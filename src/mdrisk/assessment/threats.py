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
    # candidates below the confidence cut-off: possible, for the analyst to review (never
    # dropped silently); empty in files written before they were kept
    possible_vulnerabilities: list[KnownVulnerability] = Field(default_factory=list)


class KbSource(Record):
    """What one importer brought into the knowledge base."""

    importer: str  # "cve5", "nvd", "csaf", "kev", ...
    files: int
    documents: int
    first_imported: str = ""
    last_imported: str = ""


class KbHoldings(Record):
    """What the knowledge base held when the assessment was made."""

    sources: list[KbSource] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)  # record kind -> distinct records
    # a full CVE feed (NVD) is held: a product without records has none published
    comprehensive: bool = False

    def summary(self) -> str:
        if not self.sources:
            return "no knowledge base: known vulnerabilities were not looked up"
        held = ", ".join(
            f"{s.importer} {s.documents} records from {s.files} file(s)"
            + (f" imported {s.last_imported[:10]}" if s.last_imported else "")
            for s in self.sources
        )
        vulnerabilities = self.counts.get("vulnerability", 0)
        feed = (
            "a full CVE feed (NVD)"
            if self.comprehensive
            else "no full CVE feed (no NVD data): only products named in these records are covered"
        )
        return f"{vulnerabilities} vulnerability records; {held}; {feed}"


class ComponentCoverage(Record):
    """Whether the knowledge base can speak about one technology of an element."""

    element: str
    technology: str
    covered: bool
    reason: str
    matched: int = 0
    possible: int = 0


class VulnerabilityCoverage(Record):
    knowledge_base: KbHoldings = Field(default_factory=KbHoldings)
    components: list[ComponentCoverage] = Field(default_factory=list)
