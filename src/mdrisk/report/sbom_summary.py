"""The SBOM summary of the premarket report: every technology of the device with its maker,
version, identifiers, support status and known vulnerabilities.

Support status comes from a CycloneDX SBOM in the knowledge base (``Assessment.support``),
else from the technology's ``config`` in the device model (``level_of_support``,
``end_of_support``), else it is "not stated" (which the FDA guidance asks the maker to state).
Beside its known vulnerabilities, each technology says whether the knowledge base covers it
(an empty list means "none known" only where it does) and lists its possible matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.model.schema import Technology
from mdrisk.report.coverage_view import coverage_view
from mdrisk.report.vulnerability_status import VulnerabilityStatus

NOT_STATED = "not stated"


@dataclass(frozen=True)
class SbomRow:
    element: str
    element_name: str
    technology: str
    vendor: str
    version: str
    identifiers: str
    level_of_support: str
    end_of_support: str
    support_source: str
    vulnerabilities: list[str]
    unresolved: list[str]
    coverage: str = ""  # covered, not covered, not looked up, or why it is unknown
    possible: tuple[str, ...] = ()  # candidates below the confidence cut-off


def technology_label(technology: Technology) -> str:
    return technology.name + (f" {technology.version}" if technology.version else "")


def _coverage_states(assessment: Assessment) -> tuple[dict[tuple[str, str], str], str]:
    """Each technology's coverage state, and what to say of one the assessment has none for."""
    view = coverage_view(assessment)
    if view.recorded:
        return {(r.element, r.technology): r.state for r in view.rows}, "not looked up"
    if assessment.provenance.kb_snapshots:
        return {}, "not recorded"
    return {}, "not looked up (no knowledge base)"


def sbom_rows(assessment: Assessment, statuses: list[VulnerabilityStatus]) -> list[SbomRow]:
    support = {(s.element, s.technology): s for s in assessment.support}
    coverage, unknown = _coverage_states(assessment)
    possible = {
        (t.element, t.technology or ""): tuple(v.id for v in t.possible_vulnerabilities)
        for t in assessment.threats
    }
    known: dict[tuple[str, str], list[VulnerabilityStatus]] = {}
    for status in statuses:
        key = (status.threat.element, status.threat.technology or "")
        known.setdefault(key, []).append(status)
    items: list[tuple[str, str, Technology]] = []
    for component in assessment.device.components:
        items += [(component.id, component.name, t) for t in component.technologies]
    for link in assessment.device.links:
        if link.channel.technology is not None and not link.channel.in_process:
            items.append((link.id, f"{link.source} → {link.target}", link.channel.technology))
    rows = []
    for element, name, technology in items:
        label = technology_label(technology)
        stated = support.get((element, label))
        if stated is not None:
            level = stated.level_of_support or NOT_STATED
            end = stated.end_of_support or NOT_STATED
            source = (
                f"SBOM {stated.sbom or '(no serial)'}: {stated.sbom_component} "
                f"(matched on {stated.matched_on})"
            )
        elif "level_of_support" in technology.config or "end_of_support" in technology.config:
            level = technology.config.get("level_of_support", NOT_STATED)
            end = technology.config.get("end_of_support", NOT_STATED)
            source = "device model"
        else:
            level, end, source = NOT_STATED, NOT_STATED, ""
        found = known.get((element, label), [])
        rows.append(
            SbomRow(
                element=element,
                element_name=name,
                technology=technology.name,
                vendor=technology.vendor or "",
                version=technology.version or "",
                identifiers=" ".join(filter(None, (technology.purl, technology.cpe))),
                level_of_support=level,
                end_of_support=end,
                support_source=source,
                vulnerabilities=[s.vulnerability.id for s in found],
                unresolved=[s.vulnerability.id for s in found if s.unresolved],
                coverage=coverage.get((element, label), unknown),
                possible=possible.get((element, label), ()),
            )
        )
    return rows
