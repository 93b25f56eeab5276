"""What the knowledge base could say about each technology, as the reports state it.

"No known vulnerability" is written only for technologies the knowledge base covers; the
others read "not covered". Candidates below the confidence cut-off are listed as possible,
needing review. Old assessments (without recorded coverage) say that coverage is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.decisions import decision_for_vulnerability

NOT_LOOKED_UP = "no vendor, product, CPE or purl given: not looked up"


@dataclass(frozen=True)
class PossibleRow:
    id: str
    element: str
    technology: str
    confidence: float
    reason: str
    decision: str = ""  # the analyst's, "false_positive (owner, date)", else empty


@dataclass(frozen=True)
class CoverageRow:
    element: str
    technology: str
    state: str  # "covered", "not covered", "not looked up"
    matched: int
    possible: int
    reason: str


@dataclass(frozen=True)
class CoverageView:
    recorded: bool
    holdings: str
    rows: list[CoverageRow]
    possible: list[PossibleRow]

    @property
    def covered_without_match(self) -> list[str]:
        return [
            f"{r.element}: {r.technology}"
            for r in self.rows
            if r.state == "covered" and not r.matched and not r.possible
        ]

    @property
    def not_covered(self) -> list[str]:
        return [f"{r.element}: {r.technology}" for r in self.rows if r.state == "not covered"]


def unrecorded_coverage(assessment: Assessment) -> str:
    """Why an assessment states no coverage: made before coverage was recorded, or with no
    knowledge base at all."""
    if assessment.provenance.kb_snapshots:
        return "not recorded in this assessment (re-run analyze --kb)"
    return "no knowledge base: known vulnerabilities were not looked up"


def coverage_view(assessment: Assessment) -> CoverageView:
    possible = []
    for t in assessment.threats:
        for v in t.possible_vulnerabilities:
            decision = decision_for_vulnerability(assessment, t, v.id)
            decided = f"{decision.status} ({decision.owner}, {decision.date})" if decision else ""
            possible.append(
                PossibleRow(v.id, t.element, t.technology or "", v.confidence, v.reason, decided)
            )
    coverage = assessment.vulnerability_coverage
    if coverage is None:
        return CoverageView(False, "", [], possible)
    rows = [
        CoverageRow(
            c.element,
            c.technology,
            "covered"
            if c.covered
            else ("not looked up" if c.reason == NOT_LOOKED_UP else "not covered"),
            c.matched,
            c.possible,
            c.reason,
        )
        for c in coverage.components
    ]
    return CoverageView(True, coverage.knowledge_base.summary(), rows, possible)


def no_match_lines(view: CoverageView, kb_used: bool) -> list[str]:
    """What to say where no vulnerability matched: "none" only where coverage exists."""
    if not view.recorded:
        if not kb_used:
            return ["No knowledge base was used: known vulnerabilities were not looked up."]
        return [
            "No known vulnerabilities matched the device's technologies; this assessment "
            "does not record which of them the knowledge base covers (re-run analyze --kb)."
        ]
    lines = []
    if view.covered_without_match:
        lines.append(
            "No known vulnerability matched these technologies, which the knowledge base "
            "covers: " + "; ".join(view.covered_without_match) + "."
        )
    if view.not_covered:
        lines.append(
            "Not covered by the knowledge base (no record names them, so whether they have "
            "known vulnerabilities is unknown): " + "; ".join(view.not_covered) + "."
        )
    if not lines:
        lines.append("No technology of the device was looked up in the knowledge base.")
    return lines
