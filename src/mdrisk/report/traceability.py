"""The traceability matrix: threat ↔ scenario ↔ risk ↔ control ↔ test.

One row per risk (R-n) when the risk stage has run, else one row per threat (TH-n); then one
row for every threat no risk covers and every false-data injection point no threat names, so
a gap shows as a row rather than as an absence. "test" is the verification activity that
exercised the scenario (a simulation or ML-attack run id), or "not yet tested".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.report.controls import controls_in_place, recommended_mitigations
from mdrisk.report.idlists import id_ranges, sorted_ids

NOT_TESTED = "not yet tested"
NOT_SCORED = "not scored"


@dataclass(frozen=True)
class TraceRow:
    threats: str
    element: str
    fdi_points: str
    scenarios: str
    hazards: str
    risk: str
    risk_level: str
    controls: str
    recommended: str
    test: str


def _tests(ids: list[str], tests_for: Mapping[str, list[str]]) -> str:
    runs = sorted_ids(run for identifier in ids for run in tests_for.get(identifier, []))
    return ", ".join(runs) or NOT_TESTED


def traceability(
    assessment: Assessment, tests_for: Mapping[str, list[str]] | None = None
) -> list[TraceRow]:
    """``tests_for``: scenario, loss-scenario, FDI or risk id -> the runs that tested it."""
    tests_for = tests_for or {}
    threats = {t.id: t for t in assessment.threats}
    threats_at: dict[str, list[str]] = {}
    for threat in assessment.threats:
        threats_at.setdefault(threat.element, []).append(threat.id)
    scenarios_of_point: dict[str, list[str]] = {}
    hazards_of_point: dict[str, set[str]] = {}
    for scenario in assessment.loss_scenarios:
        for point_id in scenario.fdi_points:
            scenarios_of_point.setdefault(point_id, []).append(scenario.id)
            hazards_of_point.setdefault(point_id, set()).update(scenario.hazards)
    attack_of = {s.id: s for s in assessment.scenarios}
    rows: list[TraceRow] = []
    covered: set[str] = set()
    covered_points: set[str] = set()

    for risk in assessment.risks:
        threat_ids = list(risk.threats)
        points = list(risk.fdi_points)
        scenario_ids = ([risk.scenario] if risk.scenario else []) + risk.loss_scenarios
        attack = attack_of.get(risk.scenario or "")
        if attack is not None:
            threat_ids += attack.threats
            points += attack.fdi_points
        covered.update(threat_ids)
        covered_points.update(points)
        in_place = [c.name for c in risk.controls if c.in_place]
        suggested = [c.id for c in risk.controls if not c.in_place]
        residual = risk.residual
        level = f"{risk.level} → {residual.level} ({residual.acceptability})"
        rows.append(
            TraceRow(
                threats=", ".join(sorted_ids(threat_ids)) or "—",
                element=risk.element,
                fdi_points=", ".join(sorted_ids(points)) or "—",
                scenarios=id_ranges(scenario_ids) or "—",
                hazards=", ".join(sorted_ids(risk.hazards)) or "—",
                risk=risk.id,
                risk_level=level,
                controls="; ".join(in_place) or "none in place",
                recommended=", ".join(sorted_ids(suggested)) or "—",
                test=_tests([risk.id, *scenario_ids, *points], tests_for),
            )
        )

    for threat in assessment.threats:
        if threat.id in covered:
            continue
        scenario_ids = [s for p in threat.fdi_points for s in scenarios_of_point.get(p, [])]
        hazards = {h for p in threat.fdi_points for h in hazards_of_point.get(p, set())}
        covered_points.update(threat.fdi_points)
        rows.append(
            TraceRow(
                threats=threat.id,
                element=threat.element,
                fdi_points=", ".join(threat.fdi_points) or "—",
                scenarios=id_ranges(scenario_ids) or "—",
                hazards=", ".join(sorted_ids(hazards)) or "—",
                risk="—",
                risk_level=NOT_SCORED,
                controls="; ".join(controls_in_place(assessment, threat.element))
                or "none in place",
                recommended=", ".join(recommended_mitigations(threats[threat.id])) or "—",
                test=_tests([*scenario_ids, *threat.fdi_points], tests_for),
            )
        )

    for point in assessment.fdi_points:
        if point.id in covered_points:
            continue
        scenario_ids = scenarios_of_point.get(point.id, [])
        rows.append(
            TraceRow(
                threats="(none identified)",
                element=point.element,
                fdi_points=point.id,
                scenarios=id_ranges(scenario_ids) or "—",
                hazards=", ".join(sorted_ids(hazards_of_point.get(point.id, set()))) or "—",
                risk="—",
                risk_level=NOT_SCORED,
                controls="; ".join(controls_in_place(assessment, point.element)) or "none in place",
                recommended="—",
                test=_tests([*scenario_ids, point.id], tests_for),
            )
        )
    return rows
