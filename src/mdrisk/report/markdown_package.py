"""The evidence-package sections of the Markdown report (FDA premarket guidance): risks,
measured impact, third-party components with support status, unresolved anomalies, security
architecture views and traceability. The rows are the HTML report's and the CSV files'
(``tables``)."""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.report.architecture import architecture_views
from mdrisk.report.coverage_view import coverage_view, no_match_lines
from mdrisk.report.markdown_text import escape, table
from mdrisk.report.tables import Table, report_tables
from mdrisk.report.verification import tests_for
from mdrisk.report.vulnerability_status import vulnerability_statuses


def _table(found: Table) -> list[str]:
    return table(list(found.headers), found.rows)


def risk_section(tables: dict[str, Table], assessment: Assessment) -> list[str]:
    if not assessment.risks:
        return []
    return [
        "",
        "## Cybersecurity risks (FDA V.A.2)",
        "",
        "Each risk rated by severity and exploitability before and after its controls.",
        "",
        *_table(tables["risks"]),
    ]


def impact_section(tables: dict[str, Table]) -> list[str]:
    if not tables["impact"].rows:
        return []
    return [
        "",
        "## Measured patient impact",
        "",
        "Loss scenarios replayed as attacks in the closed-loop glucose simulator, against "
        "each virtual patient's clean day (the charts are in report.html).",
        "",
        *_table(tables["impact"]),
        *_cohort_section(tables),
        *(
            [
                "",
                "### Runtime detectors",
                "",
                "Each declared detector against each simulated attack (Monte Carlo days, sensor "
                "noise on): detections, time to detect, false alarms per clean patient-day, "
                "patients harmed without and with its response.",
                "",
                *_table(tables["detectors"]),
            ]
            if tables["detectors"].rows
            else []
        ),
    ]


def _cohort_section(tables: dict[str, Table]) -> list[str]:
    cohorts = tables.get("impact_cohorts")
    if cohorts is None or not cohorts.rows:
        return []
    return ["", f"### {cohorts.title}", "", *_table(cohorts)]


def sbom_section(tables: dict[str, Table]) -> list[str]:
    return [
        "",
        "## Third-party components and support status (FDA V.A.4)",
        "",
        "Every technology of the device with its support status from a CycloneDX SBOM in "
        "the knowledge base, or from the device model.",
        "",
        *_table(tables["sbom"]),
    ]


def coverage_lines(assessment: Assessment) -> list[str]:
    """The knowledge base's holdings, each technology's coverage, and the candidates below
    the confidence cut-off (possible, needs review)."""
    view = coverage_view(assessment)
    out: list[str] = []
    if view.recorded:
        out += [
            "",
            "### Knowledge-base coverage",
            "",
            f"Knowledge base: {escape(view.holdings)}.",
            "",
        ]
        out += table(
            ["element", "technology", "coverage", "matched", "possible", "why"],
            [
                (r.element, r.technology, r.state, str(r.matched), str(r.possible), r.reason)
                for r in view.rows
            ],
        )
    if view.possible:
        out += [
            "",
            "### Possible, needs review",
            "",
            "Candidates below the confidence cut-off, with the reason: confirm or dismiss each.",
            "",
        ]
        out += table(
            ["vulnerability", "element", "technology", "confidence", "reason", "decision"],
            [
                (p.id, p.element, p.technology, f"{p.confidence:.2f}", p.reason, p.decision)
                for p in view.possible
            ],
        )
    return out


def anomalies_section(assessment: Assessment) -> list[str]:
    statuses = vulnerability_statuses(assessment)
    out = ["", "## Unresolved anomalies (FDA V.A.5)", ""]
    unresolved = [s for s in statuses if s.unresolved]
    if not statuses:
        kb_used = bool(assessment.provenance.kb_snapshots)
        return (
            out
            + [escape(line) for line in no_match_lines(coverage_view(assessment), kb_used)]
            + coverage_lines(assessment)
        )
    out += [
        "Known vulnerabilities that no control stated in the model counters (the VEX "
        "analysis in vex.cdx.json).",
        "",
    ]
    out += table(
        ["vulnerability", "element", "technology", "state", "assessment"],
        [
            (
                s.vulnerability.id,
                s.threat.element,
                s.threat.technology or "",
                s.state.replace("_", " "),
                s.detail,
            )
            for s in unresolved
        ],
    )
    countered = [s for s in statuses if not s.unresolved]
    if countered:
        out += [
            "",
            "Not affected, resolved or a false positive (by a stated control or the "
            "analyst's decision):",
            "",
        ]
        out += [f"- {escape(s.vulnerability.id)}: {escape(s.detail)}" for s in countered]
    view = coverage_view(assessment)
    if view.recorded and view.not_covered:
        out += ["", *(escape(line) for line in no_match_lines(view, True))]
    return out + coverage_lines(assessment)


def architecture_section(assessment: Assessment) -> list[str]:
    views = architecture_views(assessment)
    out = [
        "",
        "## Security architecture views (FDA V.B.2)",
        "",
        "### Global system view",
        "",
        "The control-structure diagram (control-structure.svg) with its trust zones; links "
        "that cross from one zone to another:",
        "",
    ]
    out += table(
        ["link", "from zone → to zone", "kind", "channel", "protections"],
        [
            (
                c.link,
                f"{c.from_zone} → {c.to_zone}",
                c.kind,
                c.channel,
                ", ".join(c.protections) or "none",
            )
            for c in views.crossings
        ],
    )
    out += ["", "### Multi-patient harm view", ""]
    out += table(
        ["element", "why a compromise reaches many patients", "FDI points", "hazards"],
        [
            (f.element, f.why, ", ".join(f.fdi_points) or "—", ", ".join(f.hazards) or "—")
            for f in views.fleet
        ],
    )
    out += ["", "### Updatability and patchability view", ""]
    out += table(
        ["component", "technologies", "update routes", "update protections", "note"],
        [(u.component, u.technologies, u.routes, u.protections, u.note) for u in views.updates],
    )
    out += ["", "### Security use case views", ""]
    out += table(
        [
            "control action",
            "controller → controlled",
            "channel protections",
            "feedback",
            "UCAs",
            "FDI points",
            "hazards",
        ],
        [
            (
                f"{u.control_action} {u.name}",
                f"{u.controller} → {u.controlled}",
                ", ".join(u.protections) or "none",
                " → ".join(u.feedback) or "none",
                u.ucas,
                ", ".join(u.fdi_points) or "—",
                ", ".join(u.hazards),
            )
            for u in views.use_cases
        ],
    )
    return out


def traceability_section(tables: dict[str, Table]) -> list[str]:
    return [
        "",
        "## Traceability: threat ↔ scenario ↔ risk ↔ control ↔ test (FDA V.C)",
        "",
        "A row without a risk, a control or a test is a gap to close before submission.",
        "",
        *_table(tables["traceability"]),
    ]


def ml_attack_section(tables: dict[str, Table]) -> list[str]:
    if "ml_attacks" not in tables:
        return []
    return [
        "",
        "## Attacks on the device's own ML models",
        "",
        "Each attack run on the engine's model file from an FDI point, within what that point "
        "reaches (the features made from the signals it carries, their declared ranges, the "
        "declared detectors as bounds and rate limits, a query budget). Every produced example "
        "was checked against those constraints; one that broke them counts as a failure. "
        "Perturbation: the median largest change of a successful example, in standard "
        "deviations of the feature. MITRE ATLAS technique of each in the ATLAS column.",
        "",
        *_table(tables["ml_attacks"]),
    ]


def package_sections(assessment: Assessment) -> list[str]:
    """The evidence-package sections, as Markdown lines."""
    tables = report_tables(assessment, tests_for(assessment))
    return [
        *risk_section(tables, assessment),
        *impact_section(tables),
        *ml_attack_section(tables),
        *sbom_section(tables),
        *anomalies_section(assessment),
        *architecture_section(assessment),
        *traceability_section(tables),
    ]
