"""The risk policy (issue 12): the device rated as designed with the range of open questions,
recommended controls per attack path, --answers/--policy on every command, --with-control."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, example_models

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.cli import main
from mdrisk.model import load_model, load_model_text
from mdrisk.pipeline import assess
from mdrisk.report.html import render_html
from mdrisk.risk.matrix import load_matrix
from mdrisk.risk.recommend import with_protections
from mdrisk.stpa import analyze_stpa

BGMS = EXAMPLES / "bgms.yaml"
POLICY = Path(bundled.__file__).parent / "data" / "risk-matrix.yaml"
ANSWERS = EXAMPLES / "answers"
LEVELS = bundled.risk_matrix().matrix.exploitability_levels


def _policy_file(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@functools.cache
def _assessed(path: Path, policy: Path | None = None) -> Assessment:
    inputs = bundled.risk_inputs(matrix=load_matrix(policy) if policy else None)
    return assess(load_model(path), created="2026-01-01T00:00:00Z", risk=inputs)


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_every_rating_names_its_source_and_every_unacceptable_risk_a_control(model_path):
    for risk in _assessed(model_path).risks:
        assert risk.severity.source in ("measured", "analyst", "worst_case")
        assert risk.severity.basis.strip()
        assert risk.exploitability.steps and risk.exploitability.vector.startswith("CVSS:3.1/")
        # The vector the level is read from is the one the register shows.
        assert risk.exploitability.vector in {c.vector for c in risk.cvss} | {
            c.base_vector for c in risk.cvss
        }
        best, worst = risk.exploitability.best, risk.exploitability.worst
        assert best and worst and LEVELS.index(best) <= LEVELS.index(worst)
        assert risk.exploitability.level == worst  # the default policy counts the worst
        if risk.acceptability == "unacceptable":
            assert any(c.kind == "recommended" for c in risk.controls), risk.id


@pytest.mark.parametrize("name", ["bgms", "bone-density", "embryo", "retinopathy"])
def test_the_register_spans_three_levels_as_designed(name):
    levels = {risk.level for risk in _assessed(EXAMPLES / f"{name}.yaml").risks}
    assert levels == {"low", "medium", "high"}


def test_a_policy_that_counts_open_questions_at_their_best_reads_the_other_end(tmp_path):
    policy = _policy_file(tmp_path, unanswered="best", apply="none")
    worst = {r.id: r for r in _assessed(BGMS).risks}
    best = _assessed(BGMS, policy).risks
    assert any(r.exploitability.best != r.exploitability.worst for r in best)
    for risk in best:
        assert risk.exploitability.level == risk.exploitability.best
        assert risk.exploitability.best == worst[risk.id].exploitability.best
        # apply: none, so the residual credits no recommended control.
        assert not any(c.applied for c in risk.controls)
        assert all(c.credited_levels == 0 for c in risk.controls if c.kind == "recommended")


def test_answers_and_policy_change_the_html_report(tmp_path):
    plain = render_html(_assessed(BGMS))
    policy = _policy_file(tmp_path, unanswered="best", apply=["authenticate_link"])
    other = render_html(_assessed(BGMS, policy))
    assert "count at their <strong>worst</strong>" in plain
    assert "count at their <strong>best</strong>" in other
    assert "these recommended controls in place: <strong>authenticate_link</strong>" in other
    assert "(policy.yaml" not in plain and "risk-matrix/policy.yaml" in other
    inputs = bundled.risk_inputs(
        answers=__import__("mdrisk.risk.answers", fromlist=["x"]).load_answers(
            ANSWERS / "bgms-risk-answers.yaml", bundled.rubric().rubric
        )
    )
    answered = render_html(assess(load_model(BGMS), created="2026-01-01T00:00:00Z", risk=inputs))
    assert "The transmitter pairs with Just Works" in answered
    assert "The transmitter pairs with Just Works" not in plain


def test_the_cli_takes_answers_and_policy_on_every_command_that_rates(tmp_path):
    policy = _policy_file(tmp_path, unanswered="best")
    answers = ANSWERS / "bgms-risk-answers.yaml"
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(
        main,
        [
            "analyze",
            str(BGMS),
            "--out",
            str(out),
            "--no-svg",
            "--format",
            "html",
            "--policy",
            str(policy),
            "--answers",
            str(answers),
        ],
    )
    assert done.exit_code == 0, done.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "count at their <strong>best</strong>" in html
    again = tmp_path / "again"
    done = runner.invoke(
        main,
        [
            "report",
            str(out / "assessment.json"),
            "--out",
            str(again),
            "--format",
            "html",
            "--policy",
            str(POLICY),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "count at their <strong>worst</strong>" in (again / "report.html").read_text("utf-8")
    for command in ("risk", "demo", "report"):
        assert "--policy" in runner.invoke(main, [command, "--help"]).output
        assert "--answers" in runner.invoke(main, [command, "--help"]).output


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"apply": ["no_such_control"]}, "apply"),
        ({"unanswered": "sometimes"}, "unanswered"),
        (
            {
                "recommended_controls": [
                    {
                        "id": "x",
                        "title": "t",
                        "where": "nowhere",
                        "against": ["replay"],
                        "lowers": 1,
                        "reason": "r",
                    }
                ]
            },
            "where",
        ),
        (
            {
                "recommended_controls": [
                    {
                        "id": "x",
                        "title": "t",
                        "where": "human_entry",
                        "against": ["replay"],
                        "lowers": -1,
                        "reason": "r",
                    }
                ]
            },
            "lowers",
        ),
    ],
)
def test_a_bad_policy_is_refused_naming_file_and_field(tmp_path, changes, field):
    policy = _policy_file(tmp_path, **changes)
    done = CliRunner().invoke(main, ["risk", str(BGMS), "--policy", str(policy)])
    assert done.exit_code == 2
    assert "policy.yaml" in done.output and field in done.output


def test_a_hazard_severity_needs_its_reason():
    text = BGMS.read_text(encoding="utf-8")
    start = text.index("severity_rationale:", text.index("  - id: H-5"))
    end = text.index("\n\n", start)
    with pytest.raises(Exception, match="severity_rationale"):
        load_model_text(text[:start] + text[end:], "bgms.yaml")


def test_a_recommended_authentication_verified_by_running_again():
    plain = _assessed(BGMS)
    meter = [r for r in plain.risks if r.element == "meter_to_app" and r.source != "disclosure"]
    assert meter and all(
        "authenticate_link@meter_to_app" in {c.id for c in r.controls} for r in meter
    )
    control = next(c for c in meter[0].controls if c.id == "authenticate_link@meter_to_app")
    loaded = load_model(BGMS)
    changed = dataclasses.replace(
        loaded, model=with_protections(loaded.model, control.model_change)
    )
    again = {r.id: r for r in assess(changed, created="2026-01-01T00:00:00Z").risks}
    for risk in meter:  # ids are stable across the model change
        after = again[risk.id]
        assert LEVELS.index(after.exploitability.level) < LEVELS.index(risk.exploitability.level)
        assert "authenticate_link@meter_to_app" not in {c.id for c in after.controls}
    done = CliRunner().invoke(
        main, ["risk", str(BGMS), "--with-control", "authenticate_link@meter_to_app"]
    )
    assert done.exit_code == 0, done.output
    assert meter[0].id in done.output
    bad = CliRunner().invoke(main, ["risk", str(BGMS), "--with-control", "nope@nowhere"])
    assert bad.exit_code == 2 and "nope@nowhere" in bad.output


def test_disclosure_hazards_are_rated_where_their_data_can_be_read():
    risks = [r for r in _assessed(BGMS).risks if r.source == "disclosure"]
    assert risks and all(r.hazards == ["H-4"] for r in risks)
    model = load_model(BGMS).model
    links = {link.id: link for link in model.links}
    for risk in risks:
        link = links.get(risk.element)
        if link is not None:
            assert not link.channel.protections.encryption
            assert f"encrypt_link@{risk.element}" in {c.id for c in risk.controls}
        else:
            assert f"protect_stored_data@{risk.element}" in {c.id for c in risk.controls}


def test_a_person_acting_in_person_has_no_control_path_to_tamper_with():
    text = BGMS.read_text(encoding="utf-8")
    # The pump's bolus reaches the body with no technology between: no control path class.
    model = load_model_text(text, "bgms.yaml").model
    pump_to_body = next(link for link in model.links if link.target == "patient_body")
    classes = analyze_stpa(model).loss_scenarios
    assert not any(c.family == "control_path" and c.element == pump_to_body.id for c in classes)
    nurse = load_model(EXAMPLES / "vital-signs.yaml").model
    in_person = next(link for link in nurse.links if link.id == "nurse_to_resident")
    without = nurse.model_copy(
        update={
            "links": [
                link.model_copy(
                    update={"channel": link.channel.model_copy(update={"technology": None})}
                )
                if link.id == in_person.id
                else link
                for link in nurse.links
            ]
        }
    )
    before = [c for c in analyze_stpa(nurse).loss_scenarios if c.element == in_person.id]
    after = [c for c in analyze_stpa(without).loss_scenarios if c.element == in_person.id]
    assert any(c.family == "control_path" for c in before)
    assert not any(c.family == "control_path" for c in after)


def test_the_cvss4_vector_is_read_from_the_rubric_answers_not_mapped_from_31():
    from mdrisk.risk.answers import load_answers

    answers = load_answers(ANSWERS / "bgms-risk-answers.yaml", bundled.rubric().rubric)
    assessed = assess(
        load_model(BGMS), created="2026-01-01T00:00:00Z", risk=bundled.risk_inputs(answers=answers)
    )
    sensor = [r for r in assessed.risks if r.element == "cgm_sensor"]
    assert sensor
    for risk in sensor:
        v3 = next(c for c in risk.cvss if c.version == "3.1")
        v4 = next(c for c in risk.cvss if c.version == "4.0")
        # AC-2 "condition" (the sensor-change window): CVSS 3.1 can only say AC:H; 4.0 says
        # the attack is easy once the condition holds (AC:L, AT:P).
        assert "AC:H" in v3.base_vector
        assert "AC:L/AT:P" in v4.base_vector
        assert any("AC-2" in note for note in v4.notes)


def _detector_evaluation(
    attack: str,
    response: str,
    declared: str,
    responded: str,
    harmed_after: int = 0,
    during: int = 4,
):
    from mdrisk.assessment.detectors import DetectorEvaluation, DetectorPatientHarm

    harm = [
        DetectorPatientHarm(
            patient="adult#001",
            days=5,
            days_detected=4,
            clean_severity="negligible",
            attacked_severity="catastrophic",
            responded_severity=responded,
            clean_minutes_below_54=0,
            attacked_minutes_below_54=60,
            responded_minutes_below_54=5,
            clean_minutes_above_250=0,
            attacked_minutes_above_250=0,
            responded_minutes_above_250=0,
        )
    ]
    return DetectorEvaluation(
        id=f"DE-{response}{declared}",
        status="simulated",
        detector=f"det_{response}_{declared}",
        kind="cusum",
        signal="cgm_glucose",
        response=response,
        declared_as=declared,
        attack=attack,
        attack_name=attack,
        patients=["adult#001"],
        patient_days=5,
        detected_days=4,
        detected_during_attack_days=during,
        detection_rate=0.8,
        time_to_detect_median_min=20,
        time_to_detect_max_min=40,
        false_alarms_per_patient_day=0.04,
        patients_harmed_attacked=1,
        patients_harmed_responded=harmed_after,
        harm=harm,
    )


def test_a_proposed_detector_takes_off_the_severity_its_response_measurably_removes():
    from mdrisk.assessment.impact import ImpactFinding
    from mdrisk.risk.engine import assess_risks

    base = _assessed(BGMS)
    risk = next(r for r in base.risks if r.element == "cgm_to_app" and r.hazards == ["H-1"])
    attack = "bias:+60@cgm,08:00-14:00"
    finding = ImpactFinding(
        id="IM-test", status="simulated", loss_scenarios=list(risk.loss_scenarios), attack=attack
    )
    evaluations = [
        _detector_evaluation(attack, "safe_mode", "proposed", "minor"),
        _detector_evaluation(attack, "alarm", "implemented", "catastrophic"),
        _detector_evaluation("drop@carbs", "suspend", "proposed", "negligible"),  # another attack
        _detector_evaluation(attack, "suspend", "proposed", "minor", harmed_after=2),  # worse
        _detector_evaluation(attack, "alarm", "proposed", "catastrophic", during=1),  # too late
    ]
    evaluations[3] = evaluations[3].model_copy(update={"detector": "det_worse"})
    evaluations[4] = evaluations[4].model_copy(update={"detector": "det_late_alarm"})
    assessed = base.model_copy(update={"impact": [finding], "detectors": evaluations})
    rated = {r.id: r for r in assess_risks(assessed, bundled.risk_inputs())}[risk.id]
    controls = {c.id: c for c in rated.controls}
    proposed = controls["deploy_detector@det_safe_mode_proposed"]
    assert proposed.kind == "recommended" and proposed.applied
    assert proposed.severity_levels == 3  # catastrophic -> minor, measured
    assert "catastrophic without the response, minor with it" in proposed.justification
    implemented = controls["cgm_to_app.detector.det_alarm_implemented"]
    assert implemented.in_place and implemented.severity_levels == 0
    assert "detected 4 of 5" in implemented.justification
    assert "deploy_detector@det_suspend_proposed" not in controls  # not this risk's attack
    assert "deploy_detector@det_worse" not in controls  # its response harms more patients
    assert "deploy_detector@det_late_alarm" not in controls  # fires on 1 of 5 days only
    order = ("negligible", "minor", "serious", "critical", "catastrophic")
    assert order.index(rated.residual.severity) == max(0, order.index(rated.severity.level) - 3)
    assert any("severity -3" in step for step in rated.residual.steps)
