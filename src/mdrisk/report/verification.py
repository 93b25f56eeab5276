"""Verification evidence for the report: which runs of the glucose simulator tested which loss
scenarios (the "test" column of the traceability matrix), and charts of the harm they
measured (``Assessment.impact``, IM-n)."""

from __future__ import annotations

from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.report.dumbbell import Band, Row, dumbbell_svg
from mdrisk.report.stages import field, section, text_of

SIMULATED = "simulated"
# Glucose bands of the consensus targets (mg/dL), for the charts' background.
GLUCOSE_BANDS = (
    Band(0, 54, "< 54 level 2 hypo", "#ef9a9a"),
    Band(54, 70, "54–70 hypo", "#ffcc80"),
    Band(70, 180, "70–180 in range", "#c8e6c9"),
    Band(180, 250, "180–250 high", "#fff59d"),
    Band(250, 400, "> 250 very high", "#ffcc80"),
)


def impact_findings(assessment: Assessment) -> list[Any]:
    return section(assessment, "impact")


def tests_for(assessment: Assessment) -> dict[str, list[str]]:
    """Loss-scenario id -> the simulation findings (IM-n) that measured its harm."""
    tested: dict[str, list[str]] = {}
    for finding in impact_findings(assessment):
        if field(finding, "status") != SIMULATED:
            continue
        for scenario in field(finding, "loss_scenarios", default=[]):
            tested.setdefault(str(scenario), []).append(f"simulation {field(finding, 'id')}")
    return tested


def _rows(finding: Any, metric: str) -> list[Row]:
    rows = []
    for patient in field(finding, "patients", default=[]):
        clean, attacked = (
            field(patient, "clean", default={}),
            field(patient, "attacked", default={}),
        )
        if metric in clean and metric in attacked:
            harmed = field(patient, "induced_severity")
            rows.append(
                Row(
                    text_of(field(patient, "patient")),
                    float(clean[metric]),
                    float(attacked[metric]),
                    text_of(harmed) if harmed else "",
                )
            )
    return rows


def _charts_for(finding: Any) -> list[tuple[str, str, tuple[Band, ...]]]:
    """(metric, label, bands) to draw: the lowest glucose when the attack brought on a
    hypoglycaemia criterion, the time above 250 mg/dL when it brought on a hyperglycaemia one."""
    criteria = {
        str(c)
        for p in field(finding, "patients", default=[])
        for c in field(p, "new_criteria", default=[])
    }
    charts = []
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
    for finding in impact_findings(assessment):
        if field(finding, "status") != SIMULATED or not field(finding, "patients_harmed"):
            continue
        finding_id = text_of(field(finding, "id"))
        harmed = field(finding, "patients_harmed", default=0)
        total = len(field(finding, "patients", default=[]))
        caption = (
            f"{finding_id}: attack {text_of(field(finding, 'attack'))} on "
            f"{text_of(field(finding, 'signal'))} (ML output "
            f"{text_of(field(finding, 'forecast_error')) or 'falsified'}); "
            f"{harmed}/{total} virtual patients harmed, worst induced severity "
            f"{text_of(field(finding, 'worst_induced_severity')) or 'none'}; labels "
            "give the severity the attack induced."
        )
        for metric, label, bands in _charts_for(finding):
            rows = _rows(finding, metric)
            if rows:
                title = f"{finding_id}: {label.split(' (')[0]}, clean vs attacked"
                plots.append((title, dumbbell_svg(title, label, rows, bands), caption))
    return plots
