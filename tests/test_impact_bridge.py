"""The bridge: the glucose reference device's loss scenarios measured on virtual patients,
and the ones the simulator cannot stand for listed with the reason."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.impact.bridge import findings_by_scenario
from mdrisk.model import load_model

pytestmark = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")

ALL_PATIENTS = [
    f"{group}#{i:03d}" for group in ("adult", "adolescent", "child") for i in range(1, 11)
]
MC_DAYS = 20  # the mapping's run


@pytest.fixture(scope="module")
def bgms() -> Assessment:
    from mdrisk.pipeline import assess

    return assess(load_model(EXAMPLES / "bgms.yaml"), created="2024-01-01T00:00:00Z", simulate=True)


def test_every_loss_scenario_is_either_measured_or_explained(bgms: Assessment) -> None:
    covered = findings_by_scenario(bgms.impact)
    assert set(covered) == {s.id for s in bgms.loss_scenarios}
    listed = [s for f in bgms.impact for s in f.loss_scenarios]
    assert len(listed) == len(set(listed))  # each scenario in exactly one finding
    ids = [f.id for f in bgms.impact]
    assert len(set(ids)) == len(ids) and all(i.startswith("IM-") for i in ids)


def test_four_ml_inputs_the_model_and_the_bolus_command_are_simulated_on_30_patients(
    bgms: Assessment,
) -> None:
    simulated = [f for f in bgms.impact if f.status == "simulated"]
    # The model itself and the command to the pump are no ML input.
    assert {f.ml_input for f in simulated} == {
        "cgm_glucose",
        "fingerstick_glucose",
        "carb_entry",
        "insulin_on_board",
        None,
    }
    assert {f.signal for f in simulated} == {
        "cgm",
        "fingerstick",
        "carbs",
        "iob",
        "forecast",
        "pump_bolus",
    }
    for finding in simulated:
        assert [p.patient for p in finding.patients] == ALL_PATIENTS
        assert finding.controller == "ml_advised"
        assert finding.days == MC_DAYS and all(p.days == MC_DAYS for p in finding.patients)
        assert finding.stealthy_patients == sum(p.stealthy for p in finding.patients)
        assert [g.group for g in finding.population] == ["all", "adult", "adolescent", "child"]
        everyone = finding.population[0]
        assert everyone.patients == 30 and everyone.patient_days == 30 * MC_DAYS
        assert everyone.patients_harmed == finding.patients_harmed
        assert everyone.patient_days_harmed == finding.patient_days_harmed
        assert finding.patient_days_harmed == sum(p.harmed_days for p in finding.patients)
        assert finding.worst_induced_severity == everyone.worst_induced_severity


def test_the_meter_link_raise_class_is_measured_per_patient_over_the_random_days(
    bgms: Assessment,
) -> None:
    raised = next(f for f in bgms.impact if f.attack == "bias:+60@fingerstick")
    assert raised.status == "simulated" and raised.ml_input == "fingerstick_glucose"
    assert raised.signal == "fingerstick" and raised.forecast_error == "raise"
    elements = {p.id: p.element for p in bgms.fdi_points}
    assert "meter_to_app" in {elements[point] for point in raised.fdi_points}
    assert len(raised.patients) == 30
    for patient in raised.patients:
        assert patient.cohort == patient.patient.partition("#")[0]
        assert 0 <= patient.harmed_days <= MC_DAYS
        assert patient.harmed_share == pytest.approx(patient.harmed_days / MC_DAYS, abs=1e-4)
        assert patient.attacked_worst["minutes_below_70"] >= patient.attacked["minutes_below_70"]
        assert patient.attacked_worst["min_bg"] <= patient.attacked["min_bg"]
        assert patient.stealthy_days is not None
    adults = next(g for g in raised.population if g.group == "adult")
    # Readings overstated by 60 mg/dL before every meal: too much insulin, hypoglycaemia.
    assert adults.patients_harmed >= 8
    assert adults.delta["minutes_below_70"].median > 0
    spread = adults.attacked["minutes_below_54"]
    assert spread.median <= spread.p95 <= spread.worst
    lowered = next(f for f in bgms.impact if f.attack == "bias:-60@fingerstick")
    assert lowered.status == "simulated"
    lowered_adults = next(g for g in lowered.population if g.group == "adult")
    assert lowered_adults.delta["minutes_above_180"].median > 0


def test_the_raised_cgm_classes_through_every_fdi_point_share_one_measured_attack(bgms) -> None:
    overstated = next(f for f in bgms.impact if f.attack == "bias:+60@cgm,08:00-14:00")
    cgm_points = {
        p.id
        for p in bgms.fdi_points
        if p.ml_input == "cgm_glucose" and p.target == "inference_input"
    }
    assert len(cgm_points) == 4 and set(overstated.fdi_points) == cgm_points
    scenarios = {s.id: s for s in bgms.loss_scenarios}
    ucas = {u.id: u for u in bgms.ucas}
    actions = {ca.id: ca.name for ca in bgms.control_actions}
    kinds = {
        (actions[ucas[scenarios[i].uca].control_action], ucas[scenarios[i].uca].type)
        for i in overstated.loss_scenarios
    }
    # Readings raised: a larger dose proposed, a needed suspension withheld (the low alert
    # withheld too, which the simulator cannot stand for: it is in another finding).
    assert kinds == {
        ("bolus_recommendation", "provided_unsafe"),
        ("suspend_insulin", "not_provided"),
    }
    assert overstated.patients_harmed >= 12
    assert overstated.stealthy_patients == 0  # the step trips the rate-of-change check


def test_a_fake_carb_entry_is_measured_as_serious_and_unnoticed(bgms: Assessment) -> None:
    spoofed = next(f for f in bgms.impact if f.attack == "spoof:60@carbs,15:00")
    assert spoofed.forecast_error == "spoof" and spoofed.ml_input == "carb_entry"
    assert spoofed.worst_induced_severity in ("serious", "critical", "catastrophic")
    assert spoofed.patients_harmed >= 21
    adults = spoofed.patients[:10]
    # Unnoticed on most adult days (no adult is unnoticed on all 20 random days).
    assert sum(p.stealthy_days or 0 for p in adults) >= 0.6 * 10 * MC_DAYS
    first = spoofed.patients[3]
    assert first.attacked["minutes_below_54"] > first.clean["minutes_below_54"]


def test_scenarios_the_simulator_cannot_stand_for_say_why(bgms: Assessment) -> None:
    skipped = [f for f in bgms.impact if f.status == "not_simulated"]
    reasons = " | ".join(f.reason for f in skipped)
    assert "reacting to an alert" in reasons  # hypo_alert
    assert "clinician" in reasons  # therapy_settings
    assert "no counterpart of 'fingerstick_glucose'" not in reasons  # measured now
    assert "insulin_on_board suppress" in reasons  # a mapped input, an unmapped manipulation
    for finding in skipped:
        assert finding.patients == [] and finding.attack is None
        assert finding.loss_scenarios


def test_the_impact_section_is_deterministic_and_survives_json(bgms: Assessment) -> None:
    from mdrisk.pipeline import assess

    again = assess(
        load_model(EXAMPLES / "bgms.yaml"), created="2024-01-01T00:00:00Z", simulate=True
    )
    first = json.dumps([f.model_dump(mode="json") for f in bgms.impact], sort_keys=True)
    assert first == json.dumps([f.model_dump(mode="json") for f in again.impact], sort_keys=True)
    restored = Assessment.model_validate_json(bgms.model_dump_json())
    assert restored.impact == bgms.impact
    assert {f.id for f in bgms.impact} <= bgms.known_ids()


def test_without_simulate_the_impact_section_is_empty() -> None:
    from mdrisk.pipeline import assess

    assert assess(load_model(EXAMPLES / "bgms.yaml")).impact == []


def test_a_device_without_glucose_signals_is_told_nothing_can_be_simulated() -> None:
    from mdrisk.pipeline import assess

    assessment = assess(load_model(EXAMPLES / "retinopathy.yaml"), simulate=True)
    assert assessment.impact
    assert all(f.status == "not_simulated" for f in assessment.impact)
    assert all("not simulated" in f.reason for f in assessment.impact)


def test_the_mapping_names_only_attacks_that_parse() -> None:
    from mdrisk.impact.attacks import parse_plan

    mapping = bundled.glucose_impact()
    for entry in mapping.inputs.values():
        for text in entry["attacks"].values():
            assert parse_plan(text).signals == (entry["signal"],)
    assert mapping.setup().patients == tuple(ALL_PATIENTS)


def test_an_assessment_written_before_monte_carlo_days_still_loads() -> None:
    from mdrisk.assessment.impact import ImpactFinding

    old = {
        "id": "IM-1",
        "status": "simulated",
        "loss_scenarios": ["LS-1"],
        "patients_harmed": 1,
        "patients": [
            {
                "patient": "adult#001",
                "clean": {"min_bg": 80.0},
                "attacked": {"min_bg": 50.0},
                "clean_severity": "negligible",
                "attacked_severity": "serious",
                "induced_severity": "serious",
                "stealthy": True,
            }
        ],
    }
    finding = ImpactFinding.model_validate(old)
    assert finding.days == 1 and finding.population == []
    assert finding.patients[0].days == 1 and finding.patients[0].stealthy_days is None
