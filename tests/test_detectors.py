"""Runtime detectors a device declares: the schema refuses hostile declarations, and the
simulator measures detection, time to detect, false alarms and the harm left by a response.

Few patients and one or two days each, so the module runs in well under a minute."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk.errors import InputError
from mdrisk.impact.attacks.spec import parse_plan
from mdrisk.impact.detectors import (
    DetectorOutcome,
    DetectorSpec,
    MonteCarloSetup,
    evaluate_detectors,
)
from mdrisk.impact.isolation import training_split
from mdrisk.impact.monte_carlo import patient_days
from mdrisk.model import load_model
from mdrisk.model.loader import load_model_text
from mdrisk.model.schema import DETECTOR_DEFAULTS, Detector, DetectorKind

BGMS = (EXAMPLES / "bgms.yaml").read_text(encoding="utf-8")


def spec(kind: str, response: str = "alarm", signal: str = "cgm", **settings: float):
    return DetectorSpec(
        id=f"{kind}-{response}",
        kind=kind,
        signal=signal,
        settings={**DETECTOR_DEFAULTS[DetectorKind(kind)], **settings},
        response=response,
    )


def one(outcomes: list[DetectorOutcome], detector: str, attack: str) -> DetectorOutcome:
    return next(o for o in outcomes if o.detector.id == detector and o.plan.text == attack)


# --- the declarations --------------------------------------------------------------------


def test_bgms_declares_range_rate_and_residual_detectors_on_the_cgm() -> None:
    detectors = load_model(EXAMPLES / "bgms.yaml").model.detectors
    kinds = {(d.kind.value, d.signal) for d in detectors}
    assert {("range", "cgm_glucose"), ("rate", "cgm_glucose"), ("cusum", "cgm_glucose")} <= kinds
    assert {d.status.value for d in detectors} == {"implemented", "proposed"}
    assert all(d.description for d in detectors)


def test_absent_parameters_take_the_documented_defaults() -> None:
    detector = Detector.model_validate(
        {"id": "r", "kind": "rate", "signal": "cgm_glucose", "parameters": {}}
    )
    assert detector.settings() == {"max_per_min": 4.0}
    assert detector.response.value == "alarm"


@pytest.mark.parametrize(
    ("declaration", "field", "words"),
    [
        (
            "  - {id: x1, kind: magic, signal: cgm_glucose}\n",
            "detectors[x1].kind",
            "isolation_forest",
        ),
        (
            "  - {id: x1, kind: isolation_forest, signal: cgm_glucose,"
            " parameters: {window_min: -30}}\n",
            "detectors[x1].parameters.window_min",
            "greater than 0",
        ),
        (
            "  - {id: x1, kind: range, signal: cgm_glucos}\n",
            "detectors[x1].signal",
            "'cgm_glucos', which no link carries",
        ),
        (
            "  - {id: x1, kind: range, signal: cgm_glucose, parameters: {max_per_min: 3}}\n",
            "detectors[x1]",
            "max_per_min do not apply to a range detector",
        ),
        (
            "  - {id: x1, kind: forecast_residual, signal: cgm_glucose}\n",
            "detectors[x1].signal",
            "not an ML engine's output",
        ),
        (
            "  - {id: x1, kind: range, signal: cgm_glucose, response: explode}\n",
            "detectors[x1].response",
            "safe_mode",
        ),
    ],
    ids=[
        "unknown-kind",
        "negative-window",
        "unknown-signal",
        "foreign-parameter",
        "residual-of-a-measurement",
        "unknown-response",
    ],
)
def test_a_hostile_declaration_is_refused_naming_the_field(
    declaration: str, field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_model_text(BGMS + declaration, "bgms.yaml")
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].field == field
    assert words in problems[0].message
    assert problems[0].line is not None


# --- the simulator -------------------------------------------------------------------------


BIAS_300 = "bias:+300@cgm,08:00-14:00"
RAISE = "bias:+60@cgm,08:00-14:00"
SLOW_RAMP = "ramp:+60/30min@cgm,08:00-14:00"  # 2 mg/dL/min
STEEP_SLOW_RAMP = "ramp:+120/60min@cgm,08:00-14:00"  # 2 mg/dL/min, to a larger offset
FREEZE = "freeze@cgm,13:00-17:00"


@pytest.fixture(scope="module")
def three_adults(simglucose_tables_module: None) -> list[DetectorOutcome]:
    setup = MonteCarloSetup(patients=("adult#001", "adult#002", "adult#003"), days=2)
    specs = [
        spec("range"),
        spec("rate", max_per_min=6.0),
        spec("cusum", "safe_mode"),
        spec("isolation_forest", window_min=60.0),
    ]
    plans = [parse_plan(text) for text in (BIAS_300, RAISE, SLOW_RAMP, STEEP_SLOW_RAMP, FREEZE)]
    return evaluate_detectors(setup, specs, plans)


@pytest.fixture(scope="module")
def simglucose_tables_module(isolated_model_cache: None) -> None:
    pytest.importorskip("simglucose")


def test_a_range_check_catches_a_300_bias_at_its_onset(three_adults) -> None:
    outcome = one(three_adults, "range-alarm", BIAS_300)
    assert outcome.detection_rate == 1.0
    assert max(outcome.detection_min) <= 3.0  # the first reading of the attack, or the next


def test_a_rate_check_catches_a_jump_but_misses_a_ramp_under_its_limit(three_adults) -> None:
    assert one(three_adults, "rate-alarm", RAISE).detection_rate == 1.0
    assert one(three_adults, "rate-alarm", RAISE).detection_min[0] == 0.0
    assert one(three_adults, "rate-alarm", SLOW_RAMP).detected_days == 0
    assert one(three_adults, "rate-alarm", STEEP_SLOW_RAMP).detected_days == 0


def test_cusum_catches_a_sustained_offset_that_range_and_rate_miss(three_adults) -> None:
    cusum = one(three_adults, "cusum-safe_mode", STEEP_SLOW_RAMP)
    assert cusum.detection_rate >= 0.5
    # Within the attack's first two hours, while range and rate have seen nothing.
    assert np.median(cusum.detection_min) <= 120.0
    assert one(three_adults, "rate-alarm", STEEP_SLOW_RAMP).detected_days == 0
    assert all(t > 120.0 for t in one(three_adults, "range-alarm", STEEP_SLOW_RAMP).detection_min)


def test_the_forest_sees_a_frozen_stream_while_rate_waits_for_it_to_resume(three_adults) -> None:
    forest = one(three_adults, "isolation_forest-alarm", FREEZE)
    assert forest.detected_during_attack >= 3  # of 6 days
    rate = one(three_adults, "rate-alarm", FREEZE)
    assert rate.detected_during_attack == 0
    assert all(t >= 240.0 for t in rate.detection_min)  # the jump when the stream resumes


def test_every_outcome_counts_its_patient_days_and_false_alarms(three_adults) -> None:
    for outcome in three_adults:
        assert outcome.patient_days == 6
        assert len(outcome.detection_min) == outcome.detected_days
        assert 0 <= outcome.detected_during_attack <= outcome.detected_days
        assert 0 <= outcome.clean_days_with_alarm <= outcome.false_alarms
        assert outcome.false_alarms_per_patient_day == outcome.false_alarms / 6
        assert [p.patient for p in outcome.patients] == ["adult#001", "adult#002", "adult#003"]


def test_the_isolation_forest_never_trains_on_the_patient_it_watches(three_adults) -> None:
    outcome = one(three_adults, "isolation_forest-alarm", RAISE)
    adults = tuple(f"adult#{i:03d}" for i in range(1, 11))
    for patient in ("adult#001", "adult#002", "adult#003"):
        assert patient not in outcome.training[patient]
        assert outcome.training[patient] == tuple(p for p in adults if p != patient)
    assert one(three_adults, "range-alarm", RAISE).training == {}
    with pytest.raises(ValueError, match="at least two patients"):
        training_split(["adult#001"], ["adult#001"])


@pytest.mark.usefixtures("simglucose_tables_module")
def test_a_too_tight_rate_limit_raises_more_false_alarms_on_clean_noisy_days() -> None:
    setup = MonteCarloSetup(patients=("adult#001", "adult#002"), days=2)
    tight = DetectorSpec("tight", "rate", "cgm", {"max_per_min": 1.0})
    default = spec("rate")
    outcomes = evaluate_detectors(setup, [tight, default], [parse_plan(RAISE)])
    by_id = {o.detector.id: o for o in outcomes}
    assert by_id["tight"].false_alarms_per_patient_day > 1.0
    assert by_id["tight"].false_alarms > by_id["rate-alarm"].false_alarms


@pytest.mark.usefixtures("simglucose_tables_module")
def test_safe_mode_leaves_less_harm_of_a_raised_cgm_than_no_response() -> None:
    setup = MonteCarloSetup(patients=("adult#001", "adult#008", "adult#010"), days=1)
    outcomes = evaluate_detectors(
        setup, [spec("cusum", "alarm"), spec("cusum", "safe_mode")], [parse_plan(RAISE)]
    )
    alarm, safe = (one(outcomes, f"cusum-{r}", RAISE) for r in ("alarm", "safe_mode"))
    for patient in alarm.patients:  # an alarm changes nothing in the loop
        assert patient.minutes_below_54["responded"] == patient.minutes_below_54["attacked"]
    better = [
        p.patient
        for p in safe.patients
        if p.minutes_below_54["responded"] < p.minutes_below_54["attacked"]
    ]
    assert better, [p.minutes_below_54 for p in safe.patients]


def test_monte_carlo_days_are_fixed_by_the_seed_and_differ_between_days() -> None:
    from mdrisk.impact.experiment import DEFAULT_DAY

    first = patient_days(DEFAULT_DAY, "adult#001", 3, seed=1, purpose="evaluate")
    again = patient_days(DEFAULT_DAY, "adult#001", 3, seed=1, purpose="evaluate")
    assert first == again
    assert len({day.meals for day in first}) == 3
    for day in first:
        assert len(day.meals) == len(DEFAULT_DAY.meals)


@pytest.mark.usefixtures("simglucose_tables_module")
def test_the_command_prints_a_table_and_json_for_the_model_detectors() -> None:
    from mdrisk.cli import main

    args = ["simulate", "detectors", "bgms", "--patients", "adult#001", "--days", "1"]
    result = CliRunner().invoke(main, [*args, "--attack", RAISE, "--json"])
    assert result.exit_code == 0, result.output
    evaluations = json.loads(result.output)
    assert {e["detector"] for e in evaluations} == {
        "cgm_range",
        "cgm_rate",
        "cgm_physiology_cusum",
        "forecast_monitor",
        "cgm_pattern_forest",
        "meter_cgm_agreement",
    }
    assert len({e["id"] for e in evaluations}) == len(evaluations)
    assert all(e["status"] == "simulated" and e["patient_days"] == 1 for e in evaluations)
    table = CliRunner().invoke(main, [*args, "--attack", RAISE])
    assert table.exit_code == 0, table.output
    assert "cgm_physiology_cusum: cusum on cgm_glucose, response safe_mode" in table.output


# --- the meter against the CGM (the research case's link) ---------------------------------


def test_an_agreement_check_refuses_a_raised_meter_reading_and_spares_the_patients() -> None:
    from mdrisk.impact.fingerstick import Fingerstick

    setup = MonteCarloSetup(
        patients=("adult#001", "adult#005", "adult#008"),
        days=2,
        fingerstick=Fingerstick(meter_error=True),
    )
    check = DetectorSpec(
        "agree",
        "agreement",
        "fingerstick",
        {"max_difference": 30.0, "max_difference_pct": 25.0},
        response="reject_reading",
    )
    raised = "bias:+60@fingerstick"
    (outcome,) = evaluate_detectors(setup, [check], [parse_plan(raised)])
    # +60 mg/dL is beyond both limits unless glucose is already above 240 mg/dL (25 %).
    assert outcome.detected_days >= outcome.patient_days * 2 // 3
    attacked = sum(p.minutes_below_54["attacked"] for p in outcome.patients)
    responded = sum(p.minutes_below_54["responded"] for p in outcome.patients)
    assert attacked > 0 and responded < attacked
    # Honest readings (meter error on) mostly pass: the check is not an alarm on every day.
    assert outcome.clean_days_with_alarm < outcome.patient_days


def test_reject_reading_belongs_to_an_agreement_check() -> None:
    declaration = (
        "\n  - id: wrong_pair\n    kind: cusum\n    signal: cgm_glucose\n"
        "    response: reject_reading\n    status: proposed\n    description: x\n"
    )
    with pytest.raises(InputError) as caught:
        load_model_text(BGMS + declaration, "bgms.yaml")
    assert caught.value.problems[0].field.endswith("response")
