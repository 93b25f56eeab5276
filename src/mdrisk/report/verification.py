"""Verification evidence for the report: which runs of the glucose simulator tested which loss
scenarios (the "test" column of the traceability matrix), and charts of the harm they
measured (``Assessment.impact``, IM-n)."""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.assessment.impact import ImpactFinding
from mdrisk.report.dumbbell import Band, Row, dumbbell_svg

SIMULATED = "simulated"
# Glucose bands of the consensus targets (mg/dL), for the charts' background.
GLUCOSE_BANDS = (
    Band(0, 54, "< 54 level 2 hypo", "#ef9a9a"),
    Band(54, 70, "54–70 hypo", "#ffcc80"),
    Band(70, 180, "70–180 in range", "#c8e6c9"),
    Band(180, 250, "180–250 high", "#fff59d"),
    Band(250, 400, "> 250 very high", "#ffcc80"),
)


def tests_for(assessment: Assessment) -> dict[str, list[str]]:
    """Loss-scenario id -> the simulation findings (IM-n) that measured its harm."""
    tested: dict[str, list[str]] = {}
    for finding in assessment.impact:
        if finding.status != SIMULATED:
            continue
        for scenario in finding.loss_scenarios:
            tested.setdefault(scenario, []).append(f"simulation {finding.id}")
    return tested


def _rows(finding: ImpactFinding, metric: str) -> list[Row]:
    return [
        Row(
            patient.patient,
            float(patient.clean[metric]),
            float(patient.attacked[metric]),
            patient.induced_severity or "",
        )
        for patient in finding.patients
        if metric in patient.clean and metric in patient.attacked
    ]


def _charts_for(finding: ImpactFinding) -> list[tuple[str, str, tuple[Band, ...]]]:
    """(metric, label, bands) to draw: the lowest glucose when the attack brought on a
    hypoglycaemia criterion, the time above 250 mg/dL when it brought on a hyperglycaemia one."""
    criteria = {c for p in finding.patients for c in p.new_criteria}
    charts: list[tuple[str, str, tuple[Band, ...]]] = []
    if any(c.startswith("HYPO") for c in criteria):
        charts.append(("min_bg", "lowest glucose (mg/dL)", GLUCOSE_BANDS))
    if any(c.startswith("HYPER") for c in criteria):
        charts.append(("minutes_above_250", "minutes above 250 mg/dL", ()))
    if criteria and not charts:
        charts.append(("gri", "glycaemia risk index", ()))
    return charts


def impact_plots(assessment: Assessment) -> list[tuple[str, str, str]]:
    """(title, inline SVG, caption) for each simulated attack that harmed a patient: each
    virtual patient's clean day against the attacked one, on the measure of the harm."""
    plots = []
    for finding in assessment.impact:
        if finding.status != SIMULATED or not finding.patients_harmed:
            continue
        caption = (
            f"{finding.id}: attack {finding.attack or ''} on {finding.signal or ''} (ML output "
            f"{finding.forecast_error or 'falsified'}); {finding.patients_harmed}/"
            f"{len(finding.patients)} virtual patients harmed, worst induced severity "
            f"{finding.worst_induced_severity or 'none'}; labels give the severity the attack "
            "induced."
        )
        for metric, label, bands in _charts_for(finding):
            rows = _rows(finding, metric)
            if rows:
                title = f"{finding.id}: {label.split(' (')[0]}, clean vs attacked"
                plots.append((title, dumbbell_svg(title, label, rows, bands), caption))
    return plots
