"""What an analyst expects of the STPA-Sec analysis of every reference device."""

from __future__ import annotations

import pytest
from conftest import example_models

from mdrisk.assessment import Assessment
from mdrisk.model import load_model, load_model_text
from mdrisk.model.schema import ComponentKind, LinkKind, SignalNature, UCAType
from mdrisk.pipeline import assess
from mdrisk.report.canonical_json import canonical_json
from mdrisk.stpa import analyze_stpa

EXAMPLES = example_models()
REFERENCE_NAMES = {
    "bgms",
    "bone-density",
    "retinopathy",
    "embryo",
    "vital-signs",
    "lung-cade",
    "breast-cancer",
}


def _assessment(path) -> Assessment:
    return assess(load_model(path), created="2026-01-01T00:00:00Z")


def test_all_seven_reference_devices_ship():
    assert REFERENCE_NAMES <= {path.stem for path in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_uca_type_that_can_occur_is_generated_and_the_rest_say_why(path):
    assessment = _assessment(path)
    discrete = {
        signal.name
        for link in assessment.device.links
        for signal in link.carries
        if signal.nature == SignalNature.discrete
    }
    by_action: dict[str, set[UCAType]] = {}
    for uca in assessment.ucas:
        by_action.setdefault(uca.control_action, set()).add(uca.type)
    for action in assessment.control_actions:
        ruled_out = {UCAType(t) for t in action.not_applicable}
        assert by_action.get(action.id, set()) == set(UCAType) - ruled_out
        assert len(ruled_out) < len(UCAType)
        assert all(reason.strip() for reason in action.not_applicable.values())
        if action.name in discrete:  # a one-shot action has no duration
            assert UCAType.wrong_duration in ruled_out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_sensor_to_ml_channel_is_an_fdi_point(path):
    assessment = _assessment(path)
    model = assessment.device
    kinds = {c.id: c.kind for c in model.components}
    points = {(p.element, p.ml_engine) for p in assessment.fdi_points}
    for engine in model.ml_engines:
        assert engine.ml is not None
        # Walk back from the engine over links, as an independent check of the trace: every
        # measuring component that reaches the engine through data links must be listed.
        inputs = {i.signal for i in engine.ml.inputs}
        feeding = [
            link
            for link in model.links
            if link.target == engine.id
            and link.kind != LinkKind.update
            and {s.name for s in link.carries} & inputs
        ]
        assert feeding, f"{engine.id} has no input link"
        for link in feeding:
            assert (link.id, engine.id) in points
        measuring = [
            c for c, k in kinds.items() if k in (ComponentKind.sensor, ComponentKind.imaging_device)
        ]
        reaching = _reaches(model, engine.id)
        relevant = _signals_feeding(model, inputs)
        for sensor in measuring:
            sends = {s.name for link in model.links if link.source == sensor for s in link.carries}
            if sensor in reaching and sends & relevant:
                assert (sensor, engine.id) in points, f"{sensor} reaches {engine.id} unlisted"
                for link in model.links:
                    if (
                        link.source == sensor
                        and link.target in reaching | {engine.id}
                        and link.kind == LinkKind.data
                    ):
                        assert (link.id, engine.id) in points


def _signals_feeding(model, inputs: set[str]) -> set[str]:
    """ML inputs and, through every component's ``derives``, what they are made from."""
    relevant = set(inputs)
    changed = True
    while changed:
        changed = False
        for component in model.components:
            for output, sources in component.derives.items():
                if output in relevant and not set(sources) <= relevant:
                    relevant |= set(sources)
                    changed = True
    return relevant


def _reaches(model, engine_id: str) -> set[str]:
    """Components with a path of data/feedback links to the engine (not via controllers'
    commands), computed here without the engine's code."""
    preds: dict[str, set[str]] = {}
    for link in model.links:
        if link.kind in (LinkKind.data, LinkKind.feedback):
            preds.setdefault(link.target, set()).add(link.source)
    seen: set[str] = set()
    stack = [engine_id]
    while stack:
        for prev in preds.get(stack.pop(), ()):
            if prev not in seen and prev != engine_id:
                seen.add(prev)
                stack.append(prev)
    return seen


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_loss_scenarios_resolve_and_follow_the_structure(path):
    assessment = _assessment(path)
    assert assessment.loss_scenarios, "every reference device has ML loss scenarios"
    known = assessment.known_ids()
    points = {p.id: p for p in assessment.fdi_points}
    ucas = {u.id: u for u in assessment.ucas}
    hazards = {h.id: h for h in assessment.device.hazards}
    links = {link.id: link for link in assessment.device.links}
    families = set()
    for scenario in assessment.loss_scenarios:
        families.add(scenario.family)
        assert scenario.uca in known and scenario.control_action in known
        assert {scenario.element, *scenario.members, *scenario.fdi_points} <= known
        assert scenario.element in scenario.members
        assert all(h in known for h in scenario.hazards)
        assert all(loss in known for loss in scenario.losses)
        assert all(element in known for element in scenario.path)
        uca = ucas[scenario.uca]
        assert uca.control_action == scenario.control_action
        assert uca.type == scenario.uca_type and uca.controller == scenario.controller
        assert set(scenario.hazards) <= set(uca.hazards)
        assert set(scenario.losses) == {
            loss for h in scenario.hazards for loss in hazards[h].losses
        }
        for point_id in scenario.fdi_points:
            assert points[point_id].ml_engine == scenario.ml_engine
            point = points[point_id]
            # An in-process link is folded into the component that sends over it.
            sender = links[point.element].source if point.element in links else None
            assert point.element in scenario.members or sender in scenario.members
        # Consecutive path elements are joined by the links named in between.
        for before, link_id, after in zip(
            scenario.path, scenario.path[1:], scenario.path[2:], strict=False
        ):
            if link_id in links and scenario.fdi_points:
                assert (links[link_id].source, links[link_id].target) == (before, after)
    # Both Handbook families: a flawed process model and the control path.
    assert {"feedback", "control_path", "ml_model"} <= families
    engines = {e.id for e in assessment.device.ml_engines}
    assert engines <= {s.ml_engine for s in assessment.loss_scenarios}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_same_input_gives_byte_identical_json(path):
    first = canonical_json(_assessment(path))
    second = canonical_json(_assessment(path))
    assert first == second


def test_bgms_glucose_channel_reaches_the_forecaster_with_its_path():
    assessment = _assessment(next(p for p in EXAMPLES if p.stem == "bgms"))
    point = next(
        p
        for p in assessment.fdi_points
        if p.element == "cgm_to_app" and p.ml_input == "cgm_glucose"
    )
    assert [step.element for step in point.path] == [
        "cgm_to_app",
        "phone_app",
        "app_to_forecaster",
        "forecaster",
    ]
    assert "authentication" not in point.protections
    update = [p for p in assessment.fdi_points if p.target == "model_update"]
    assert {p.element for p in update} == {"cloud_to_forecaster", "cloud_platform"}


def test_bgms_bolus_ucas_use_the_analysts_contexts_and_hazards():
    assessment = _assessment(next(p for p in EXAMPLES if p.stem == "bgms"))
    bolus = next(ca for ca in assessment.control_actions if ca.name == "deliver_bolus")
    ucas = {u.type: u for u in assessment.ucas if u.control_action == bolus.id}
    assert ucas[UCAType.provided_unsafe].hazards == ["H-1"]
    assert ucas[UCAType.not_provided].hazards == ["H-2"]
    assert "insulin on board" in ucas[UCAType.provided_unsafe].context
    assert ucas[UCAType.provided_unsafe].context_source == "analyst"
    assert bolus.feedback_links == ["pump_to_app", "app_to_advisor"]


MINIMAL = """
device: {name: Minimal}
components:
  - {id: sensor, name: Sensor, kind: sensor}
  - {id: relay, name: Relay, kind: gateway}
  - id: model
    name: Model
    kind: ml_engine
    ml: {task: classify, task_type: classification, inputs: [{signal: reading}],
         outputs: [label]}
  - {id: doctor, name: Doctor, kind: human}
  - {id: patient, name: Patient, kind: controlled_process}
  - {id: lonely, name: Orphan, kind: storage}
links:
  - {id: s_r, from: sensor, to: relay, kind: data, carries: [reading]}
  - {id: r_m, from: relay, to: model, kind: data, carries: [reading]}
  - {id: m_d, from: model, to: doctor, kind: data, carries: [label]}
  - {id: d_p, from: doctor, to: patient, kind: control_action,
     carries: [{name: treat, hazards: [H-1]}]}
  - {id: p_s, from: patient, to: sensor, kind: feedback, carries: [state]}
losses:
  - {id: L-1, description: Patient harmed}
  - {id: L-2, description: Nothing leads here}
hazards:
  - {id: H-1, description: Wrong treatment, losses: [L-1]}
  - {id: H-2, description: Orphan hazard}
"""


def test_checks_flag_what_a_reviewer_would():
    result = analyze_stpa(load_model_text(MINIMAL).model)
    rules = {(c.rule, tuple(c.elements)) for c in result.checks}
    names = {rule for rule, _ in rules}
    assert ("unreachable-component", ("lonely",)) in rules
    assert ("hazard-without-loss", ("H-2",)) in rules
    assert ("loss-without-hazard", ("L-2",)) in rules
    assert ("hazard-without-uca", ("H-2",)) in rules
    assert "ml-without-training-data" in names and "ml-without-update-path" in names
    assert "unauthenticated-channel-to-ml" in names
    # doctor -> patient -> sensor -> relay -> model -> doctor closes the loop: no finding.
    assert "control-action-without-feedback" not in names
    # Ids come from what each finding says, not from its place in the list.
    ids = [c.id for c in result.checks]
    assert len(set(ids)) == len(ids) and all(i.startswith("CHK-") for i in ids)
    reordered = analyze_stpa(load_model_text(MINIMAL).model).checks
    assert {c.id: c.message for c in reordered} == {c.id: c.message for c in result.checks}


def test_missing_feedback_and_ml_source_are_flagged():
    text = MINIMAL.replace(
        "  - {id: m_d, from: model, to: doctor, kind: data, carries: [label]}\n", ""
    )
    text = text.replace("inputs: [{signal: reading}]", "inputs: [{signal: reading}, {signal: age}]")
    result = analyze_stpa(load_model_text(text).model)
    names = {c.rule for c in result.checks}
    assert "ml-input-without-source" in names
    assert "ml-output-unused" in names
    assert "control-action-without-feedback" in names


def test_cycles_terminate_and_each_element_is_listed_once_per_input():
    result = analyze_stpa(load_model_text(MINIMAL).model)
    listed = [(p.element, p.ml_engine, p.ml_input) for p in result.fdi_points]
    assert len(listed) == len(set(listed))
    assert {p.element for p in result.fdi_points} == {"r_m", "relay", "s_r", "sensor"}


def test_a_tampered_firmware_update_of_a_sensor_is_an_injection_point():
    text = MINIMAL.replace(
        "  - {id: lonely, name: Orphan, kind: storage}",
        "  - {id: vendor, name: Vendor cloud, kind: cloud}",
    )
    text = text.replace(
        "  - {id: p_s, from: patient, to: sensor, kind: feedback, carries: [state]}",
        "  - {id: p_s, from: patient, to: sensor, kind: feedback, carries: [state]}\n"
        "  - {id: fw, from: vendor, to: sensor, kind: update, carries: [sensor_firmware]}",
    )
    points = analyze_stpa(load_model_text(text).model).fdi_points
    firmware = next(p for p in points if p.element == "fw")
    assert [s.element for s in firmware.path] == ["fw", "sensor", "s_r", "relay", "r_m", "model"]
    assert "vendor" in {p.element for p in points}


def test_a_controller_only_counts_as_ml_driven_through_what_its_beliefs_come_from():
    text = MINIMAL.replace(
        "  - {id: doctor, name: Doctor, kind: human}",
        "  - {id: doctor, name: Doctor, kind: human, process_model: "
        "[{name: diagnosis, from_signals: [lab_result]}]}\n"
        "  - {id: lab, name: Lab, kind: ehr}",
    )
    text = text.replace("  - {id: lonely, name: Orphan, kind: storage}\n", "")
    text = text.replace(
        "  - {id: p_s,",
        "  - {id: l_d, from: lab, to: doctor, kind: data, carries: [lab_result]}\n"
        "  - {id: p_l, from: patient, to: lab, kind: feedback, carries: [blood]}\n"
        "  - {id: p_s,",
    )
    result = analyze_stpa(load_model_text(text).model)
    # The label reaches the doctor but decides nothing: no class goes through the model.
    # The lab result the doctor decides with is a class without an engine; the doctor treats
    # the patient in person (no technology on the link), so there is no control path to
    # tamper with.
    assert {s.family for s in result.loss_scenarios} == {"feedback"}
    assert all(s.ml_engine is None and s.signal != "label" for s in result.loss_scenarios)
    assert {s.signal for s in result.loss_scenarios if s.family == "feedback"} == {"lab_result"}
    assert "uca-without-loss-scenario" in {c.rule for c in result.checks}


def test_results_altered_after_the_model_are_flagged_unless_protected_or_in_process():
    rules = {c.rule for c in analyze_stpa(load_model_text(MINIMAL).model).checks}
    assert "unprotected-ml-output" in rules
    guarded = MINIMAL.replace(
        "{id: m_d, from: model, to: doctor, kind: data, carries: [label]}",
        "{id: m_d, from: model, to: doctor, kind: data, carries: [label], "
        "channel: {in_process: true}}",
    )
    rules = {c.rule for c in analyze_stpa(load_model_text(guarded).model).checks}
    assert "unprotected-ml-output" not in rules


def test_a_ruled_out_uca_type_is_not_generated_and_the_reason_is_kept():
    text = MINIMAL.replace(
        "carries: [{name: treat, hazards: [H-1]}]",
        "carries: [{name: treat, hazards: [H-1], unsafe_when: {wrong_duration: "
        "{not_applicable: a single dose}}}]",
    )
    result = analyze_stpa(load_model_text(text).model)
    assert {u.type for u in result.ucas} == set(UCAType) - {UCAType.wrong_duration}
    assert result.control_actions[0].not_applicable == {"wrong_duration": "a single dose"}


def test_model_update_scenarios_read_as_sentences():
    assessment = _assessment(next(p for p in EXAMPLES if p.stem == "bgms"))
    update = [s for s in assessment.loss_scenarios if s.manipulation == "substitute"]
    assert update
    for scenario in update:
        assert scenario.family == "ml_model" and scenario.element == "cloud_to_forecaster"
        assert scenario.fdi_points and scenario.effect is not None
        assert scenario.text.startswith("glucose_forecast is substituted at cloud_to_forecaster")
        # The direction the substituted model must push the forecast for this UCA.
        assert scenario.effect.direction in {"up", "down"}


def test_a_hazard_worded_as_an_attack_and_hazards_a_uca_type_merely_inherits_are_flagged():
    text = MINIMAL.replace(
        "{id: H-1, description: Wrong treatment, losses: [L-1]}",
        "{id: H-1, description: An attacker spoofs the sensor, losses: [L-1]}",
    ).replace(
        "carries: [{name: treat, hazards: [H-1]}]",
        "carries: [{name: treat, hazards: [H-1, H-2]}]",
    )
    checks = analyze_stpa(load_model_text(text).model).checks
    caused = [c for c in checks if c.rule == "hazard-names-a-cause"]
    assert [c.elements for c in caused] == [["H-1"]] and "'attacker'" in caused[0].message
    inherited = {c.elements[0] for c in checks if c.rule == "uca-hazards-inherited"}
    # Every type of 'treat' took both hazards without saying which fits it.
    assert len(inherited) == 4
    # Said per type, nothing is inherited.
    stated = text.replace(
        "carries: [{name: treat, hazards: [H-1, H-2]}]",
        "carries: [{name: treat, hazards: [H-1, H-2], unsafe_when: {"
        "provided_unsafe: {context: no illness, hazards: [H-1]}, "
        "not_provided: {context: illness, hazards: [H-2]}, "
        "wrong_timing: {context: too late, hazards: [H-2]}, "
        "wrong_duration: {context: too long, hazards: [H-1]}}}]",
    )
    checks = analyze_stpa(load_model_text(stated).model).checks
    assert "uca-hazards-inherited" not in {c.rule for c in checks}
