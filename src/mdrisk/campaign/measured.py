"""What the risk register reads of a campaign: measured harm per loss-scenario class.

The risk stage rates severity from ``Assessment.impact`` (:func:`mdrisk.risk.severity
.rate_severity`: the worst attack-induced class of the simulations covering a risk's loss
scenarios). A campaign measures the same thing over many more patient-days and attacks:
:func:`measured_harm` gives, per loss-scenario id, the worst class the campaign measured
(under one control), and :func:`impact_findings` the same as ``ImpactFinding`` records the
risk stage takes unchanged, so a campaign's results can stand in for the impact section's
findings of the classes it covers (see the README, "Campaigns").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mdrisk.assessment.impact import ImpactFinding, ImpactPatient, ImpactPopulation, Spread
from mdrisk.campaign.aggregate import NO_CONTROL
from mdrisk.stable_ids import stable_id


@dataclass(frozen=True)
class MeasuredHarm:
    """The worst harm a campaign measured for one loss-scenario class under one control."""

    loss_scenario: str
    class_key: str
    control: str
    attack: str
    worst_induced_severity: str | None
    patients: int
    patients_harmed: int
    patient_days: int
    patient_days_harmed: int
    induced_share: dict[str, float]


def measured_harm(summary: Mapping[str, Any], control: str = NO_CONTROL) -> dict[str, MeasuredHarm]:
    """Loss-scenario id -> the campaign's measured harm under ``control`` (``none``: the
    device as declared)."""
    out = {}
    for entry in summary["by_class"]:
        if entry["control"] != control:
            continue
        for scenario in entry["loss_scenarios"]:
            out[scenario] = MeasuredHarm(
                loss_scenario=scenario,
                class_key=entry["class"],
                control=control,
                attack=entry["worst_attack"],
                worst_induced_severity=entry["worst_induced_severity"],
                patients=entry["patients"],
                patients_harmed=entry["patients_harmed"],
                patient_days=entry["patient_days"],
                patient_days_harmed=entry["patient_days_harmed"],
                induced_share=dict(entry["induced_share"]),
            )
    return out


def _patient(record: Mapping[str, Any]) -> ImpactPatient:
    return ImpactPatient(
        patient=record["patient"],
        clean=record["clean"],
        attacked=record["attacked"],
        clean_severity=record["clean_severity"],
        attacked_severity=record["attacked_severity"],
        induced_severity=record["induced_severity"],
        stealthy=False,  # campaigns measure detectors, not the stealth limits
        cohort=record["patient"].partition("#")[0],
        days=record["days"],
        harmed_days=record["harmed_days"],
        harmed_share=round(record["harmed_days"] / record["days"], 4),
    )


def impact_findings(summary: Mapping[str, Any], control: str = NO_CONTROL) -> list[ImpactFinding]:
    """One finding per class: its worst attack under ``control``, with every patient and
    the distribution over all patient-days (group ``all``)."""
    records = {(r["class"], r["attack"], r["control"]): r for r in summary["results"]}
    findings = []
    for entry in summary["by_class"]:
        if entry["control"] != control:
            continue
        record = records[(entry["class"], entry["worst_attack"], control)]
        findings.append(
            ImpactFinding(
                id=stable_id("IM", "campaign", summary["campaign"], entry["class"], control),
                status="simulated",
                loss_scenarios=list(entry["loss_scenarios"]),
                reason=f"campaign {summary['campaign']}: {entry['class']} (control {control})",
                attack=entry["worst_attack"],
                patients=[_patient(p) for p in record["per_patient"]],
                patients_harmed=record["patients_harmed"],
                worst_induced_severity=record["worst_induced_severity"],
                days=summary["days"],
                patient_days_harmed=record["patient_days_harmed"],
                population=[
                    ImpactPopulation(
                        group="all",
                        patients=record["patients"],
                        patients_harmed=record["patients_harmed"],
                        patient_days=record["patient_days"],
                        patient_days_harmed=record["patient_days_harmed"],
                        worst_induced_severity=record["worst_induced_severity"],
                        attacked={k: Spread(**v) for k, v in record["attacked"].items()},
                        delta={k: Spread(**v) for k, v in record["delta"].items()},
                    )
                ],
            )
        )
    return findings
