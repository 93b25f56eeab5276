"""The report's tables, built once from an assessment and shared by the HTML, Markdown and
CSV writers: the same rows, with the same ids, in every format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

from mdrisk.assessment import Assessment
from mdrisk.assessment.impact import Spread
from mdrisk.assessment.risk import RiskItem
from mdrisk.report.decision_columns import with_decision_columns
from mdrisk.report.idlists import id_ranges
from mdrisk.report.sbom_summary import sbom_rows
from mdrisk.report.traceability import TraceRow, traceability
from mdrisk.report.vulnerability_status import (
    VulnerabilityStatus,
    possible_statuses,
    vulnerability_statuses,
)


@dataclass(frozen=True)
class Table:
    key: str  # file stem of its CSV
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


Cell = str | int | float | bool | Sequence[str] | None


def _text(cell: Cell) -> str:
    """A cell as one line of text: lists joined, None empty."""
    if type(cell) is str:  # most cells; str() of a subclass is left to the checks below
        return cell
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float):
        return f"{cell:g}"
    if isinstance(cell, str | int):
        return str(cell)
    return ", ".join(filter(None, cell))


def _row(*cells: Cell) -> tuple[str, ...]:
    return tuple(_text(cell) for cell in cells)


def fdi_table(assessment: Assessment) -> Table:
    scenarios: dict[str, list[str]] = {}
    for scenario in assessment.loss_scenarios:
        for point_id in scenario.fdi_points:
            scenarios.setdefault(point_id, []).append(scenario.id)
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
            "family",
            "entry point",
            "members",
            "signal",
            "manipulation",
            "ML engine",
            "ML output",
            "ML effect",
            "belief",
            "UCA",
            "hazards",
            "losses",
            "scenario",
        ),
        [
            _row(
                s.id,
                s.family,
                s.element,
                s.members,
                s.signal,
                s.manipulation,
                s.ml_engine,
                s.ml_output,
                s.effect.direction if s.effect else "",
                s.belief or "",
                s.uca,
                s.hazards,
                s.losses,
                s.text,
            )
            for s in assessment.loss_scenarios
        ],
    )


def scenario_table(assessment: Assessment) -> Table:
    """Attack scenarios (SC-n) when the scenario stage has run, else the loss scenarios."""
    if not assessment.scenarios:
        table = loss_scenario_table(assessment)
        return Table("scenarios", table.title, table.headers, table.rows)
    rows = [
        _row(
            s.id,
            s.category,
            s.title,
            s.attacker,
            s.element,
            s.ml_engine,
            s.injection,
            s.uca or "—",
            s.hazards,
            s.fdi_points,
            id_ranges(s.loss_scenarios),
            s.threats,
            s.references.cve,
            f"{s.exploitability.score:.2f}",
        )
        for s in assessment.scenarios
    ]
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


def _best_cvss(risk: RiskItem) -> tuple[str, str]:
    """(score and version, vector) of the highest-scoring CVSS result of a risk."""
    if not risk.cvss:
        return "", ""
    best = max(risk.cvss, key=lambda s: s.score)
    return f"{best.score:g} (CVSS {best.version})", best.vector


def risk_table(assessment: Assessment) -> Table:
    rows = [
        _row(
            risk.id,
            risk.title,
            risk.element,
            risk.scenario or id_ranges(risk.loss_scenarios),
            risk.threats,
            risk.hazards,
            f"{risk.severity.level} ({risk.severity.source})",
            risk.exploitability.level,
            risk.level,
            risk.acceptability,
            *_best_cvss(risk),
            "; ".join(c.name for c in risk.controls if c.in_place) or "none in place",
            risk.residual.level,
            risk.residual.acceptability,
            "; ".join(
                f"{c.id}{' (applied)' if c.applied else ''}"
                for c in risk.controls
                if c.kind == "recommended"
            )
            or "none",
            _exploitability_range(risk),
        )
        for risk in assessment.risks
    ]
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
            "recommended controls",
            "exploitability range",
        ),
        rows,
    )


def _exploitability_range(risk: RiskItem) -> str:
    """ "best..worst" while rubric questions are open, else the level alone."""
    rated = risk.exploitability
    if rated.best and rated.worst and rated.best != rated.worst:
        return f"{rated.best}..{rated.worst} (open questions at their {rated.unanswered})"
    return rated.level


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
            "possible vulnerabilities (needs review)",
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
                [v.id for v in t.possible_vulnerabilities],
            )
            for t in assessment.threats
        ],
    )


def vulnerability_table(statuses: list[VulnerabilityStatus]) -> Table:
    """Matches and, marked as such, the candidates below the confidence cut-off."""
    rows = []
    for s in statuses:
        scored = [c for c in s.vulnerability.cvss if c.base_score is not None]
        rows.append(
            _row(
                s.vulnerability.id,
                s.threat.id,
                s.threat.element,
                s.threat.technology or "",
                "possible, needs review" if s.possible else "confident",
                f"{s.vulnerability.confidence:.2f}",
                s.vulnerability.reason,
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
        "Known and possible vulnerabilities (VEX analysis)",
        (
            "id",
            "threat",
            "element",
            "technology",
            "match",
            "match confidence",
            "match reason",
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
            "vulnerability coverage",
            "possible vulnerabilities (needs review)",
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
                r.coverage,
                r.possible,
            )
            for r in sbom_rows(assessment, statuses)
        ],
    )


def traceability_table(rows: list[TraceRow]) -> Table:
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
        [astuple(row) for row in rows],
    )


def impact_table(assessment: Assessment) -> Table:
    rows = []
    for f in assessment.impact:
        patients = len(f.patients)
        rows.append(
            _row(
                f.id,
                f.status,
                f.attack or "",
                f.signal or "",
                f.ml_input or "",
                f.forecast_error or "",
                id_ranges(f.loss_scenarios),
                f.fdi_points,
                f"{f.patients_harmed}/{patients}" if patients else "",
                f.worst_induced_severity or ("none" if patients else ""),
                f"{f.stealthy_patients}/{patients}" if patients else "",
                f.reason,
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


def _spread(spread: Spread | None) -> str:
    if spread is None:
        return ""
    return f"{spread.median:g} / {spread.p95:g} / {spread.worst:g}"


def impact_cohort_table(assessment: Assessment) -> Table:
    """Each measured attack's harm over everyone and per cohort, over the Monte Carlo days."""
    rows = [
        _row(
            f.id,
            f.attack or "",
            group.group,
            f"{group.patients_harmed}/{group.patients}",
            f"{group.patient_days_harmed}/{group.patient_days}",
            group.worst_induced_severity or "none",
            _spread(group.attacked.get("minutes_below_54")),
            _spread(group.attacked.get("minutes_below_70")),
            _spread(group.delta.get("minutes_below_70")),
            _spread(group.attacked.get("minutes_above_250")),
        )
        for f in assessment.impact
        for group in f.population
    ]
    return Table(
        "impact_cohorts",
        "Measured patient impact by cohort, over every patient-day "
        "(median / 95th percentile / worst)",
        (
            "id",
            "attack",
            "group",
            "patients harmed",
            "patient-days harmed",
            "worst induced severity",
            "min below 54 mg/dL",
            "min below 70 mg/dL",
            "change in min below 70",
            "min above 250 mg/dL",
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


def detector_table(assessment: Assessment) -> Table:
    """The declared runtime detectors against each simulated attack."""
    rows = []
    for e in assessment.detectors:
        if e.status != "simulated":
            rows.append(
                _row(
                    e.detector,
                    e.declared_as,
                    e.kind,
                    e.signal,
                    e.response,
                    "",
                    "",
                    "",
                    "",
                    "",
                    e.reason,
                )
            )
            continue
        ttd = (
            f"{e.time_to_detect_median_min:g} / {e.time_to_detect_max_min:g}"
            if e.time_to_detect_median_min is not None and e.time_to_detect_max_min is not None
            else "-"
        )
        rows.append(
            _row(
                e.detector,
                e.declared_as,
                e.kind,
                e.signal,
                e.response,
                e.attack_name or e.attack or "",
                f"{e.detected_days}/{e.patient_days} ({e.detected_during_attack_days} while acting)",
                ttd,
                f"{e.false_alarms_per_patient_day:.2f}"
                if e.false_alarms_per_patient_day is not None
                else "-",
                f"{e.patients_harmed_attacked} → {e.patients_harmed_responded}",
                e.method,
            )
        )
    return Table(
        "detectors",
        "Runtime detectors the device declares, measured",
        (
            "detector",
            "status",
            "kind",
            "signal",
            "response",
            "attack",
            "detected patient-days",
            "time to detect, median / worst (min)",
            "false alarms per clean patient-day",
            "patients harmed, without → with the response",
            "how measured",
        ),
        rows,
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _closed_loop_harm(harm: dict[str, dict[str, float]]) -> str:
    """Minutes below 54 mg/dL attacked vs clean and patients harmed, per cohort."""
    return "; ".join(
        f"{cohort}: {m['minutes_below_54']:g} vs {m['minutes_below_54_clean']:g} min below 54 "
        f"mg/dL, {m['patients_harmed']:g} patients harmed"
        for cohort, m in harm.items()
    )


def ml_attack_table(assessment: Assessment) -> Table:
    """The attacks run on the engines' own models, each with its ATLAS techniques."""
    rows = []
    risks_of: dict[str, list[str]] = {}
    for risk in assessment.risks:
        for attack_id in risk.ml_attacks:
            risks_of.setdefault(attack_id, []).append(risk.id)
    for a in assessment.ml_attacks:
        constraints = a.constraints
        reach = (
            f"{len(constraints.controlled_features)} features; detectors: "
            f"{', '.join(constraints.detectors) or 'none'}"
            + (
                f" (not translated: {', '.join(constraints.detectors_not_translated)})"
                if constraints.detectors_not_translated
                else ""
            )
            + f"; budget {constraints.query_budget}"
            if constraints is not None
            else ""
        )
        result = (
            f"{a.successes}/{a.examples} ({_percent(a.success_rate)})"
            if a.status == "run"
            else a.status
        )
        accuracy = (
            f"{_percent(a.clean_accuracy)} → {_percent(a.attacked_accuracy)}"
            if a.clean_accuracy is not None or a.attacked_accuracy is not None
            else ""
        )
        rows.append(
            _row(
                a.id,
                a.attack,
                a.atlas,
                a.ml_engine,
                a.element,
                a.fdi_points,
                a.scenarios,
                risks_of.get(a.id, []),
                a.target,
                a.hazards,
                reach,
                result,
                a.violations,
                "" if a.perturbation is None else f"{a.perturbation:g} {a.perturbation_unit}",
                a.queries,
                accuracy,
                _closed_loop_harm(a.harm),
                f"{a.method}; {a.library}; seed {a.seed}" + (f"; {a.reason}" if a.reason else ""),
            )
        )
    return Table(
        "ml_attacks",
        "Attacks run on the device's own ML models",
        (
            "id",
            "attack",
            "ATLAS",
            "engine",
            "entry",
            "FDI points",
            "attack scenarios",
            "risks",
            "target",
            "hazards",
            "constraints",
            "success",
            "constraint violations",
            "perturbation (median)",
            "model queries",
            "held-out accuracy, clean → attacked",
            "harm in the closed loop",
            "how run",
        ),
        rows,
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
        vulnerability_table(statuses + possible_statuses(assessment)),
        sbom_table(assessment, statuses),
        traceability_table(traceability(assessment, tests_for)),
        check_table(assessment),
        impact_table(assessment),
        detector_table(assessment),
        impact_cohort_table(assessment),
    ]
    if assessment.scenarios:
        tables.append(loss_scenario_table(assessment))
    if assessment.ml_attacks:
        tables.append(ml_attack_table(assessment))
    return with_decision_columns({table.key: table for table in tables}, assessment)
