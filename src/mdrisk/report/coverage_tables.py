"""The knowledge base's coverage as CSV tables: each technology of the device with whether the
knowledge base covers it, and what the knowledge base held (sources, import dates, record
counts). The HTML and Markdown reports show the same from ``coverage_view``."""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.report.coverage_view import coverage_view, unrecorded_coverage
from mdrisk.report.tables import Table


def coverage_table(assessment: Assessment) -> Table:
    """One row per technology of every component and link; none when coverage is unknown."""
    view = coverage_view(assessment)
    return Table(
        "vulnerability_coverage",
        "Knowledge-base coverage of each technology",
        ("element", "technology", "coverage", "matched", "possible", "why"),
        [
            (r.element, r.technology, r.state, str(r.matched), str(r.possible), r.reason)
            for r in view.rows
        ],
    )


def knowledge_base_table(assessment: Assessment) -> Table:
    """What the knowledge base held when the assessment was made."""
    headers = ("item", "value", "first imported", "last imported")
    coverage = assessment.vulnerability_coverage
    if coverage is None:
        said = unrecorded_coverage(assessment)
        return Table("knowledge_base", "Knowledge base", headers, [("coverage", said, "", "")])
    holdings = coverage.knowledge_base
    rows: list[tuple[str, ...]] = [
        ("summary", holdings.summary(), "", ""),
        ("full CVE feed (NVD)", "yes" if holdings.comprehensive else "no", "", ""),
    ]
    rows += [
        (
            f"source {source.importer}",
            f"{source.documents} records from {source.files} file(s)",
            source.first_imported,
            source.last_imported,
        )
        for source in holdings.sources
    ]
    rows += [
        (f"records: {kind}", str(count), "", "") for kind, count in sorted(holdings.counts.items())
    ]
    return Table("knowledge_base", "Knowledge base", headers, rows)
