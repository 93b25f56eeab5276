"""Loss-scenario classes: the research case, the control path, direction, and stable ids."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

from mdrisk.errors import InputError
from mdrisk.model import load_model, load_model_text
from mdrisk.pipeline import run
from mdrisk.stpa import analyze_stpa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import scenario_quality as sq  # noqa: E402

BGMS = EXAMPLES / "bgms.yaml"
CREATED = "2026-01-01T00:00:00Z"


def _classes(path: Path) -> list[tuple[object, str]]:
    """(class, control-action name) for every loss-scenario class of a device."""
    result = analyze_stpa(load_model(path).model)
    names = {action.id: action.name for action in result.control_actions}
    return [(s, names[s.control_action]) for s in result.loss_scenarios]


def test_the_research_case_meter_to_forecast_to_bolus_is_a_class():
    # The BGMS study: fingerstick readings over an unencrypted BLE 4.0 link reach the ML app.
    found = [
        s
        for s, action in _classes(BGMS)
        if "meter_to_app" in s.members
        and s.signal == "fingerstick_glucose"
        and s.manipulation == "raise"
        and action == "bolus_recommendation"
        and s.uca_type.value == "provided_unsafe"
    ]
    assert len(found) == 1
    research = found[0]
    assert research.element == "meter_to_app"  # the most exposed entry: no encryption, no auth
    assert research.family == "feedback" and "H-1" in research.hazards
    assert research.effect is not None
    assert (research.effect.output, research.effect.direction) == ("glucose_forecast", "up")
    assert research.fdi_points, "the class names the FDI points it goes through"


def test_the_bolus_command_to_the_pump_has_control_path_classes():
    path_classes = {
        (s.manipulation, s.uca_type.value)
        for s, action in _classes(BGMS)
        if s.family == "control_path"
        and s.element == "advisor_to_pump"
        and action == "deliver_bolus"
    }
    # advisor_to_pump has no replay protection: a replayed bolus is a double dose.
    assert ("replay", "provided_unsafe") in path_classes
    assert ("raise", "provided_unsafe") in path_classes
    assert ("suppress", "not_provided") in path_classes
    assert ("delay", "wrong_timing") in path_classes
    # A bolus is discrete: nothing can make it last too long.
    assert not any(uca == "wrong_duration" for _, uca in path_classes)


# How each falsified input moves the advisor's beliefs, worked out by hand from the device:
# more carbs or more glucose call for insulin and hold back the low alert and the suspension;
# more insulin on board does the opposite. The generator must agree, class by class.
BY_HAND = {
    ("cgm_glucose", "raise"): {
        "bolus_recommendation": "provided_unsafe",
        "hypo_alert": "not_provided",
        "suspend_insulin": "not_provided",
    },
    ("cgm_glucose", "lower"): {
        "bolus_recommendation": "not_provided",
        "hypo_alert": "provided_unsafe",
        "suspend_insulin": "provided_unsafe",
    },
    ("carb_entry", "suppress"): {
        "bolus_recommendation": "not_provided",
        "hypo_alert": "provided_unsafe",  # fewer carbs lower the forecast: a false low alert
        "suspend_insulin": "provided_unsafe",
    },
    ("carb_entry", "spoof"): {
        "bolus_recommendation": "provided_unsafe",
        "hypo_alert": "not_provided",
        "suspend_insulin": "not_provided",
    },
    ("insulin_on_board", "raise"): {
        "bolus_recommendation": "not_provided",
        "hypo_alert": "provided_unsafe",
        "suspend_insulin": "provided_unsafe",
    },
    ("insulin_on_board", "lower"): {
        "bolus_recommendation": "provided_unsafe",
        "hypo_alert": "not_provided",
        "suspend_insulin": "not_provided",
    },
}


def test_a_stream_held_back_is_the_stale_class_not_one_of_its_own():
    # Until late CGM readings arrive the advisor acts on the last one it had: one class per
    # UCA (freeze: stuck, held back or replayed), whose controls are the same freshness checks.
    cgm = [(s, action) for s, action in _classes(BGMS) if s.signal == "cgm_glucose"]
    assert not [s for s, _ in cgm if s.manipulation == "delay"]
    stale = {(action, s.uca_type.value) for s, action in cgm if s.manipulation == "freeze"}
    assert stale == {
        ("hypo_alert", "wrong_timing"),
        ("suspend_insulin", "wrong_timing"),
        ("suspend_insulin", "wrong_duration"),
    }
    # A command held back on its way to the pump is still its own control-path class.
    assert any(s.manipulation == "delay" and s.family == "control_path" for s, _ in _classes(BGMS))


def test_no_bgms_class_pushes_a_belief_the_wrong_way():
    produced: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s, action in _classes(BGMS):
        if (s.signal, s.manipulation) in BY_HAND:
            produced[(s.signal, s.manipulation)][action].add(s.uca_type.value)
    for key, expected in BY_HAND.items():
        assert {a: {t} for a, t in expected.items()} == dict(produced[key]), key


@pytest.mark.parametrize("labels", sorted(sq.LABELS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_no_class_matches_a_forbidden_label_and_every_expected_one_is_produced(labels):
    """The physics labels of benchmarks/scenario_labels, written from each device's physics:
    a forbidden class is physically wrong (wrong sign, wrong controller, a type the action
    cannot have); an expected one is a case that must be found."""
    judgement = sq.evaluate(sq.load_labels(labels), repeats=1)
    assert judgement.error is None, judgement.error
    assert not judgement.forbidden, [(v, p) for v, p in judgement.forbidden]
    assert not judgement.missed, judgement.missed


def _with_a_smartwatch(text: str) -> str:
    data = yaml.safe_load(text)
    # First in the file, so that anything numbered by position would shift.
    data["components"].insert(
        0,
        {
            "id": "smartwatch",
            "name": "Companion smartwatch",
            "kind": "display",
            "description": "Mirrors the glucose report on the wrist.",
            "technologies": [{"name": "Bluetooth Low Energy", "version": "5.0"}],
        },
    )
    data["links"].insert(
        0,
        {
            "id": "app_to_watch",
            "from": "phone_app",
            "to": "smartwatch",
            "kind": "data",
            "carries": ["glucose_report"],
        },
    )
    return yaml.safe_dump(data, sort_keys=False)


def test_adding_a_component_to_bgms_changes_no_existing_id(tmp_path):
    edited = tmp_path / "bgms.yaml"
    edited.write_text(_with_a_smartwatch(BGMS.read_text(encoding="utf-8")), encoding="utf-8")
    # With the knowledge base, so threats (and the scenarios and risks they drive) count too.
    before, _ = run(BGMS, use_kb=True, created=CREATED)
    after, _ = run(edited, use_kb=True, created=CREATED)
    assert len(after.device.components) == len(before.device.components) + 1
    sections = (
        "control_actions",
        "ucas",
        "fdi_points",
        "loss_scenarios",
        "scenarios",
        "risks",
        "threats",
        "checks",
    )
    for section in sections:
        old = {record.id for record in getattr(before, section)}
        new = {record.id for record in getattr(after, section)}
        assert old, section
        assert old <= new, (section, sorted(old - new))


@pytest.mark.parametrize("device", ["embryo", "retinopathy", "bone-density", "lung-cade"])
def test_only_a_manipulation_that_can_misattribute_leads_to_a_wrong_patient_hazard(device):
    """A model's error or a raised value cannot put a result on the wrong patient; a swapped
    identifier, a tampered record or a forged command can (hazards with concerns: identity)."""
    model = load_model(EXAMPLES / f"{device}.yaml").model
    identity = {h.id for h in model.hazards if h.concerns == "identity"}
    assert identity
    classes = analyze_stpa(model).loss_scenarios
    reaching = [s for s in classes if identity & set(s.hazards)]
    assert reaching  # the wrong-patient hazard still has classes
    for scenario in reaching:
        assert scenario.manipulation in {"swap", "tamper", "spoof", "replay"}, scenario.id
    model_errors = [s for s in classes if s.family == "ml_model"]
    assert model_errors and not any(identity & set(s.hazards) for s in model_errors)


def test_a_hazard_concern_other_than_identity_is_refused():
    text = BGMS.read_text(encoding="utf-8").replace(
        "    losses: [L-3]\n", "    losses: [L-3]\n    concerns: privacy\n", 1
    )
    with pytest.raises(InputError) as raised:
        load_model_text(text, "bgms.yaml")
    assert any("concerns" in (p.field or "") for p in raised.value.problems)


def _with_a_gateway_mesh(text: str, size: int) -> str:
    """bgms with the CGM reading relayed through ``size`` gateways that all talk to each
    other: as many paths from sensor to app as orderings of gateways (the hostile m22 case)."""
    data = yaml.safe_load(text)
    gateways = [f"gw_{i}" for i in range(size)]
    data["components"] += [{"id": g, "name": g, "kind": "gateway"} for g in gateways]
    links = [{"id": f"cgm_{g}", "from": "cgm_sensor", "to": g} for g in gateways[:1]]
    links += [{"id": f"{a}_{b}", "from": a, "to": b} for a in gateways for b in gateways if a != b]
    links += [{"id": f"{g}_app", "from": g, "to": "phone_app"} for g in gateways]
    for link in links:
        link.update(kind="data", carries=["cgm_glucose"])
    data["links"] += links
    return yaml.safe_dump(data, sort_keys=False)


def test_a_mesh_of_relays_is_walked_once_per_state_not_once_per_path(monkeypatch):
    from mdrisk.stpa import signed

    explored = 0
    explore = signed._Walk._explore

    def counting(self, *args, **kwargs):
        nonlocal explored
        explored += 1
        return explore(self, *args, **kwargs)

    monkeypatch.setattr(signed._Walk, "_explore", counting)
    # 7! orderings of relays: a path-by-path walk explores tens of thousands of states here
    # (4,585 already with 6 relays) and never ends on the hostile 60-relay mesh.
    size = 7
    model = load_model_text(_with_a_gateway_mesh(BGMS.read_text(encoding="utf-8"), size))
    classes = analyze_stpa(model.model).loss_scenarios
    links = len(model.model.links)
    # Each (link, signal, sign, engine output) state is explored once per belief walk.
    assert explored <= 40 * links
    raised = [s for s in classes if s.signal == "cgm_glucose" and s.manipulation == "raise"]
    assert raised and all({f"gw_{i}" for i in range(size)} <= set(s.members) for s in raised)
