"""The report's tables, built once from an assessment and shared by the HTML, Markdown and
CSV writers: the same rows, with the same ids, in every format."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel

from mdrisk.assessment import Assessment
from mdrisk.report.idlists import id_ranges
from mdrisk.report.sbom_summary import sbom_rows
from mdrisk.report.stages import attack_scenarios, field, risks, text_of
from mdrisk.report.traceability import TraceRow, traceability
from mdrisk.report.verification import impact_findings
from mdrisk.report.vulnerability_status import VulnerabilityStatus, vulnerability_statuses


@dataclass(frozen=True)
class Table:
    key: str  # file stem of its CSV
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _row(*cells: Any) -> tuple[str, ...]:
    return tuple(text_of(cell) for cell in cells)


def fdi_table(assessment: Assessment) -> Table:
    scenarios: dict[str, list[str]] = {}
    for scenario in assessment.loss_scenarios:
        scenarios.setdefault(scenario.fdi_point, []).append(scenario.id)
    return Table(
        "fdi_points",
        "False-data injection points",
        (
            "id",
            "element",
            "element type",
            "ML engine",
            "target",
            "ML input",
            "path",
            "protections",
            "technologies",
            "loss scenarios",
        ),
        [
            _row(
                p.id,
                p.element,
                p.element_type,
                p.ml_engine,
                p.target,
                p.ml_input if p.target == "inference_input" else "model (update)",
                " → ".join(step.element for step in p.path),
                ", ".join(p.protections) or "none",
                p.technologies,
                id_ranges(scenarios.get(p.id, [])),
            )
            for p in assessment.fdi_points
        ],
    )


def loss_scenario_table(assessment: Assessment) -> Table:
    return Table(
        "loss_scenarios",
        "Loss scenarios",
        (
            "id",
            "FDI point",
            "ML engine",
            "ML input",
            "ML output",
            "ML misbehaviour",
            "UCA",
            "hazards",
            "losses",
            "path",
            "scenario",
        ),
        [
            _row(
                s.id,
                s.fdi_point,
                s.ml_engine,
                s.ml_input,
                s.ml_output,
                s.ml_misbehaviour,
                s.uca,
                s.hazards,
                s.losses,
                " → ".join(s.path),
                s.text,
            )
            for s in assessment.loss_scenarios
        ],
    )


def _simple(value: Any) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    return isinstance(value, list) and all(isinstance(item, str | int | float) for item in value)


def generic_table(key: str, title: str, records: list[Any]) -> Table:
    """A table of records whose shape this module does not know: every field holding text,
    a number or a list of them becomes a column, ``id`` first."""
    headers: list[str] = []
    dumped = [r.model_dump(mode="json") if isinstance(r, BaseModel) else dict(r) for r in records]
    for data in dumped:
        for name, value in data.items():
            if name not in headers and _simple(value):
                headers.append(name)
    if "id" in headers:
        headers.insert(0, headers.pop(headers.index("id")))
    return Table(
        key,
        title,
        tuple(h.replace("_", " ") for h in headers),
        [_row(*(data.get(h) for h in headers)) for data in dumped],
    )


def _cves(scenario: Any) -> list[str]:
    references = field(scenario, "references")
    return list(field(references, "cve", default=[])) if references is not None else []


def scenario_table(assessment: Assessment) -> Table:
    """Attack scenarios (SC-n) when the scenario stage has run, else the loss scenarios."""
    found = attack_scenarios(assessment)
    if not found:
        table = loss_scenario_table(assessment)
        return Table("scenarios", table.title, table.headers, table.rows)
    if not all(field(s, "title") is not None and field(s, "element") is not None for s in found):
        return generic_table("scenarios", "Attack scenarios", found)
    rows = []
    for s in found:
        exploitability = field(s, "exploitability")
        score = field(exploitability, "score") if exploitability is not None else None
        rows.append(
            _row(
                field(s, "id"),
                field(s, "category"),
                field(s, "title"),
                field(s, "attacker"),
                field(s, "element"),
                field(s, "ml_engine"),
                field(s, "injection"),
                field(s, "uca") or "—",
                field(s, "hazards"),
                field(s, "fdi_points"),
                id_ranges(field(s, "loss_scenarios", default=[])),
                field(s, "threats"),
                _cves(s),
                f"{score:.2f}" if isinstance(score, float) else text_of(score),
            )
        )
    return Table(
        "scenarios",
        "Attack scenarios",
        (
            "id",
            "category",
            "scenario",
            "attacker",
            "entry",
            "ML engine",
            "injection",
            "UCA",
            "hazards",
            "FDI points",
            "loss scenarios",
            "threats",
            "known vulnerabilities",
            "exploitability",
        ),
        rows,
    )


def _best_cvss(risk: Any) -> tuple[str, str]:
    """(score and version, vector) of the highest-scoring CVSS result of a risk."""
    scores = field(risk, "cvss", default=[])
    if not scores:
        return "", ""
    best = max(scores, key=lambda s: field(s, "score", default=0) or 0)
    return (
        f"{text_of(field(best, 'score'))} (CVSS {text_of(field(best, 'version'))})",
        text_of(field(best, "vector")),
    )


def risk_table(assessment: Assessment) -> Table:
    rows = []
    for risk in risks(assessment):
        severity = field(risk, "severity")
        exploitability = field(risk, "exploitability")
        residual = field(risk, "residual")
        controls = field(risk, "controls", default=[])
        rows.append(
            _row(
                field(risk, "id"),
                field(risk, "title"),
                field(risk, "element"),
                field(risk, "scenario") or id_ranges(field(risk, "loss_scenarios", default=[])),
                field(risk, "threats"),
                field(risk, "hazards"),
                f"{text_of(field(severity, 'level'))} ({text_of(field(severity, 'source'))})"
                if severity is not None
                else "",
                text_of(field(exploitability, "level")) if exploitability is not None else "",
                field(risk, "level"),
                field(risk, "acceptability"),
                *_best_cvss(risk),
                "; ".join(text_of(field(c, "name", "id")) for c in controls if field(c, "in_place"))
                or "none in place",
                text_of(field(residual, "level")) if residual is not None else "",
                text_of(field(residual, "acceptability")) if residual is not None else "",
            )
        )
    return Table(
        "risks",
        "Risks",
        (
            "id",
            "title",
            "element",
            "scenario",
            "threats",
            "hazards",
            "severity",
            "exploitability",
            "level",
            "acceptability",
            "CVSS",
            "CVSS vector",
            "controls in place",
            "residual level",
            "residual acceptability",
        ),
        rows,
    )


def threat_table(assessment: Assessment) -> Table:
    return Table(
        "threats",
        "Threats",
        (
            "id",
            "element",
            "element type",
            "technology",
            "FDI points",
            "pack rules",
            "CWE",
            "CAPEC",
            "ATT&CK",
            "ATLAS",
            "known vulnerabilities",
        ),
        [
            _row(
                t.id,
                t.element,
                t.element_type,
                t.technology or "(element)",
                t.fdi_points,
                [f.rule for f in t.pack_rules],
                t.references.cwe,
                t.references.capec,
                t.references.attack_ics + t.references.attack_enterprise,
                t.references.atlas,
                [v.id for v in t.vulnerabilities],
            )
            for t in assessment.threats
        ],
    )


def vulnerability_table(statuses: list[VulnerabilityStatus]) -> Table:
    rows = []
    for s in statuses:
        scored = [c for c in s.vulnerability.cvss if c.base_score is not None]
        rows.append(
            _row(
                s.vulnerability.id,
                s.threat.id,
                s.threat.element,
                s.threat.technology or "",
                f"{s.vulnerability.confidence:.2f}",
                f"{scored[0].base_score:g}" if scored else "",
                scored[0].vector if scored else "",
                {True: "yes", False: "no", None: "unknown"}[s.vulnerability.kev],
                "" if s.vulnerability.epss is None else f"{s.vulnerability.epss:.3f}",
                s.vulnerability.references.cwe,
                s.state,
                s.justification or "",
                s.threat.fdi_points,
                id_ranges(s.loss_scenarios),
                s.detail,
            )
        )
    return Table(
        "vulnerabilities",
        "Known vulnerabilities (VEX analysis)",
        (
            "id",
            "threat",
            "element",
            "technology",
            "match confidence",
            "CVSS",
            "CVSS vector",
            "KEV",
            "EPSS",
            "CWE",
            "state",
            "justification",
            "FDI points",
            "loss scenarios",
            "detail",
        ),
        rows,
    )


def sbom_table(assessment: Assessment, statuses: list[VulnerabilityStatus]) -> Table:
    return Table(
        "sbom",
        "Software and technology components",
        (
            "element",
            "element name",
            "technology",
            "vendor",
            "version",
            "identifiers",
            "level of support",
            "end of support",
            "support source",
            "known vulnerabilities",
            "unresolved",
        ),
        [
            _row(
                r.element,
                r.element_name,
                r.technology,
                r.vendor,
                r.version,
                r.identifiers,
                r.level_of_support,
                r.end_of_support,
                r.support_source,
                r.vulnerabilities,
                r.unresolved,
            )
            for r in sbom_rows(assessment, statuses)
        ],
    )


def traceability_table(rows: list[TraceRow]) -> Table:
    names = [f.name for f in fields(TraceRow)]
    headers = (
        "threats",
        "element",
        "FDI points",
        "scenarios",
        "hazards",
        "risk",
        "risk level",
        "controls in place",
        "recommended mitigations",
        "test",
    )
    return Table(
        "traceability",
        "Traceability: threat ↔ scenario ↔ risk ↔ control ↔ test",
        headers,
        [tuple(getattr(row, name) for name in names) for row in rows],
    )


def impact_table(assessment: Assessment) -> Table:
    rows = []
    for f in impact_findings(assessment):
        patients = field(f, "patients", default=[])
        rows.append(
            _row(
                field(f, "id"),
                field(f, "status"),
                field(f, "attack") or "",
                field(f, "signal") or "",
                field(f, "ml_input") or "",
                field(f, "forecast_error") or "",
                id_ranges(field(f, "loss_scenarios", default=[])),
                field(f, "fdi_points"),
                f"{field(f, 'patients_harmed', default=0)}/{len(patients)}" if patients else "",
                field(f, "worst_induced_severity") or ("none" if patients else ""),
                f"{field(f, 'stealthy_patients', default=0)}/{len(patients)}" if patients else "",
                field(f, "reason") or "",
            )
        )
    return Table(
        "impact",
        "Measured patient impact (glucose simulator)",
        (
            "id",
            "status",
            "attack",
            "signal",
            "ML input",
            "ML output error",
            "loss scenarios",
            "FDI points",
            "patients harmed",
            "worst induced severity",
            "stealthy",
            "reason",
        ),
        rows,
    )


def check_table(assessment: Assessment) -> Table:
    return Table(
        "checks",
        "STPA checks",
        ("id", "severity", "rule", "finding", "elements", "what to do"),
        [_row(c.id, c.severity, c.rule, c.message, c.elements, c.fix) for c in assessment.checks],
    )


def report_tables(
    assessment: Assessment, tests_for: dict[str, list[str]] | None = None
) -> dict[str, Table]:
    """Every table, by key, in the order the report shows them."""
    statuses = vulnerability_statuses(assessment)
    tables = [
        fdi_table(assessment),
        scenario_table(assessment),
        risk_table(assessment),
        threat_table(assessment),
        vulnerability_table(statuses),
        sbom_table(assessment, statuses),
        traceability_table(traceability(assessment, tests_for)),
        check_table(assessment),
        impact_table(assessment),
    ]
    if attack_scenarios(assessment):
        tables.append(loss_scenario_table(assessment))
    return {table.key: table for table in tables}
