"""The threats section of the Markdown report: technology-pack rules and known vulnerabilities
per component and link (present when the assessment was made with --kb)."""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.assessment.threats import KnownVulnerability, PackFinding
from mdrisk.report.markdown_text import first_ids, table

# Catalog ids shown per cell: a CWE chain through the store can reach dozens of CAPECs.
SHOWN_IDS = 10


def _kev_epss(vulnerability: KnownVulnerability) -> str:
    marks = []
    if vulnerability.kev:
        marks.append("KEV")
    if vulnerability.epss is not None:
        marks.append(f"EPSS {vulnerability.epss:.3f}")
    scores = [f"CVSS {s.base_score:g}" for s in vulnerability.cvss if s.base_score is not None]
    return ", ".join(marks + scores[:1]) or "—"


def threats_section(assessment: Assessment) -> list[str]:
    """Pack rules and known vulnerabilities per element; absent unless analysed with --kb."""
    if not assessment.threats:
        return []
    out = [
        "",
        "## Threats and known vulnerabilities",
        "",
        "What the technology pack and the knowledge base tie to each component and link: "
        "pack rules with their CWE, CAPEC, ATT&CK (ICS, Enterprise) and ATLAS ids, and "
        "published vulnerabilities matched to the technology.",
        "",
    ]
    out += table(
        [
            "id",
            "element",
            "technology",
            "FDI points",
            "pack rules",
            "CWE",
            "CAPEC",
            "ATT&CK",
            "ATLAS",
            "known vulnerabilities",
        ],
        [
            (
                t.id,
                f"{t.element} ({t.element_type})",
                t.technology or "(element)",
                ", ".join(t.fdi_points) or "—",
                ", ".join(f.rule for f in t.pack_rules) or "—",
                first_ids(t.references.cwe, SHOWN_IDS),
                first_ids(t.references.capec, SHOWN_IDS),
                first_ids(t.references.attack_ics + t.references.attack_enterprise, SHOWN_IDS),
                first_ids(t.references.atlas, SHOWN_IDS),
                ", ".join(v.id for v in t.vulnerabilities) or "—",
            )
            for t in assessment.threats
        ],
    )
    rules: dict[str, PackFinding] = {}
    for threat in assessment.threats:
        for finding in threat.pack_rules:
            rules.setdefault(finding.rule, finding)
    if rules:
        out += ["", "### Technology pack rules applied", ""]
        out += table(
            ["rule", "title", "why"],
            [(f.rule, f.title, f.rationale) for _, f in sorted(rules.items())],
        )
    known = [(t, v) for t in assessment.threats for v in t.vulnerabilities]
    if known:
        out += ["", "### Known vulnerabilities", ""]
        out += table(
            [
                "id",
                "threat",
                "element",
                "technology",
                "confidence",
                "exploitation",
                "CWE",
                "why it matches",
            ],
            [
                (
                    v.id,
                    t.id,
                    t.element,
                    t.technology or "",
                    f"{v.confidence:.2f}",
                    _kev_epss(v),
                    ", ".join(v.references.cwe),
                    v.reason,
                )
                for t, v in known
            ],
        )
    return out
