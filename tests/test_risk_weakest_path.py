"""Controls lower a risk only as far as the attack kind they stop least: an attacker who can
forge fresh values is not slowed by replay protection, nor a replayed genuine message by a
MAC. Also: what a scenario's attack kind is, and where patients' data can be read."""

from __future__ import annotations

import functools

from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import RiskControl
from mdrisk.model import load_model
from mdrisk.pipeline import assess
from mdrisk.risk.controls import credit
from mdrisk.risk.targets import _attack_kind
from mdrisk.risk.weakest_path import ALL_KINDS, Credit, weakest_path

MATRIX = bundled.risk_matrix().matrix


def _device(link: str, control: str) -> RiskControl:
    return RiskControl(
        id=f"{link}.{control}",
        name=f"{control} on {link}",
        kind="device",
        framework="device model",
        source=f"links[{link}].channel.protections.{control}",
        in_place=True,
    )


@functools.cache
def _assessed(name: str) -> Assessment:
    return assess(load_model(EXAMPLES / f"{name}.yaml"), created="-", risk=bundled.risk_inputs())


def test_the_reduction_is_that_of_the_least_protected_attack_kind():
    credits = [Credit(1, frozenset({"false_values"})), Credit(1, frozenset({"replay"}))]
    both = frozenset({"false_values", "replay"})
    assert weakest_path(credits, both, cap=3).total == 1
    assert weakest_path(credits, frozenset({"replay"}), cap=3).total == 1
    # A control that stops every kind counts on every path; the cap still holds.
    everywhere = [*credits, Credit(2, ALL_KINDS)]
    assert weakest_path(everywhere, both, cap=3).total == 3
    assert weakest_path(everywhere, both, cap=2).total == 2
    # No attack kind known: only controls against every kind count.
    assert weakest_path(everywhere, frozenset(), cap=3).total == 2


def test_integrity_and_replay_protection_together_lower_a_forge_or_replay_risk_by_one():
    controls = [
        _device("link", "authentication"),
        _device("link", "integrity"),
        _device("link", "replay_protection"),
    ]
    kinds = frozenset({"false_values", "replay"})
    credited, total, steps = credit(controls, kinds, MATRIX.residual)
    assert total == 1
    assert sum(c.credited_levels for c in credited) == 1
    assert any("path (the least protected), which it does not stop" in s for s in steps)
    # Against replay alone, replay protection counts in full.
    _, alone, _ = credit(controls, frozenset({"replay"}), MATRIX.residual)
    assert alone == 1
    _, forged, _ = credit(controls, frozenset({"false_values"}), MATRIX.residual)
    assert forged == 1


def test_attack_kind_of_a_scenario_follows_what_it_does_at_the_entry():
    # A stolen model used to craft inputs offline harms through the inputs it injects.
    assert _attack_kind("extraction", "spoof") == "false_values"
    assert _attack_kind("extraction", "query") == "disclosure"
    assert _attack_kind("extraction", "") == "disclosure"
    # An old genuine release rolled back is a replay; a forged one is tampering.
    assert _attack_kind("model_update", "replay") == "replay"
    assert _attack_kind("model_update", "spoof") == "model_tampering"
    assert _attack_kind("fdi", "freeze") == "replay"
    assert _attack_kind("fdi", "bias") == "false_values"


def test_every_risk_reduction_holds_on_each_of_its_attack_kinds():
    # End to end on every reference device: no risk is lowered further by its device
    # controls than its least-protected attack kind allows.
    rules = {r.control: r for r in MATRIX.residual.device_controls}
    checked = 0
    for name in ("bgms", "vital-signs", "lung-cade", "retinopathy"):
        for risk in _assessed(name).risks:
            device = [c for c in risk.controls if c.kind == "device" and c.credited_levels]
            for control in device:
                stops = set(rules[control.id.rsplit(".", 1)[-1]].against)
                kinds = {
                    _attack_kind(s.category, s.injection)
                    for s in _assessed(name).scenarios
                    if s.id in risk.scenarios
                } - {""}
                assert kinds <= stops, (risk.id, control.id, kinds)
                checked += 1
    assert checked >= 10


def test_an_update_channel_is_no_place_to_read_patients_data():
    risks = _assessed("vital-signs").risks
    disclosed = {r.element for r in risks if r.source == "disclosure"}
    assert "cloud_to_sensor" not in disclosed  # firmware images only
    assert "sensor_to_engine" in disclosed  # unencrypted video of the resident


def test_a_cloud_that_only_publishes_models_holds_no_patients_data():
    disclosed = {r.element for r in _assessed("lung-cade").risks if r.source == "disclosure"}
    assert "vendor_cloud" not in disclosed  # it only sends model versions to the server
    assert "pacs" in disclosed  # every patient's studies


def test_a_hospital_network_channel_is_rated_with_the_deployment_attack_vector():
    from mdrisk.risk.deployment import deployment_vector
    from mdrisk.risk.targets import Attacker

    base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    on_the_lan = (Attacker("network", "adjacent", 0.75),)
    deployed = deployment_vector(base, on_the_lan)
    assert deployed is not None and deployed.vector == base + "/MAV:A"
    # Anyone on the internet reaching it keeps the base vector; so does nobody known.
    assert deployment_vector(base, (*on_the_lan, Attacker("internet", "network", 0.9))) is None
    assert deployment_vector(base, ()) is None
    # Never wider than the channel: a BLE link (AV:A) stays adjacent for an internet attacker.
    ble = base.replace("AV:N", "AV:A")
    assert deployment_vector(ble, (Attacker("internet", "network", 0.9),)) is None


def test_risks_on_the_hospital_network_read_exploitability_in_context():
    risks = _assessed("lung-cade").risks
    on_lan = [r for r in risks if r.exploitability.vector.endswith("/MAV:A")]
    assert on_lan, "no risk rated with the deployment's attack vector"
    for risk in on_lan:
        assert any("MAV:A (CVSS environmental)" in s for s in risk.exploitability.steps)
        assert "internet" not in risk.attackers
    # The vendor's cloud is on the internet: its risks keep AV:N.
    cloud = [r for r in risks if r.element in ("vendor_cloud", "cloud_to_engine")]
    assert cloud and all("MAV" not in r.exploitability.vector for r in cloud)
    # A risk no scenario enters gets the attackers who reach its element.
    read = next(r for r in risks if r.source == "disclosure" and r.element == "ris_ehr")
    assert "network" in read.attackers


def test_a_published_vulnerability_is_read_in_the_same_deployment():
    from mdrisk.assessment.risk import VulnerabilityRating
    from mdrisk.risk.cvss_scores import score
    from mdrisk.risk.engine import _exploitability
    from mdrisk.risk.rubric import RubricResult
    from mdrisk.risk.targets import Attacker, RiskTarget

    published = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", origin="published")
    flaw = VulnerabilityRating(id="CVE-2099-0002", threat="TH-1", element="pacs", cvss=[published])
    rubric = RubricResult(vector="CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", decisions=[])

    def rated(*attackers: Attacker) -> tuple[str, list[str]]:
        target = RiskTarget(
            key="t",
            source="scenario",
            title="t",
            element="pacs",
            element_type="component",
            attackers=attackers,
        )
        return _exploitability(target, rubric, [flaw], MATRIX)

    level, steps = rated(Attacker("network", "adjacent", 0.75))
    assert level == "likely"  # AV:N/AC:L/PR:N/UI:N read as MAV:A: 2.8, not 3.9
    assert "CVE-2099-0002" in steps[0] and "MAV:A" in steps[0]
    level, steps = rated(Attacker("internet", "network", 0.9))
    assert level == "frequent" and "MAV" not in steps[0]


def test_value_limits_are_recommended_only_where_values_pass():
    def recommended(name: str, element: str) -> set[str]:
        return {
            c.id.split("@")[0]
            for r in _assessed(name).risks
            if r.element == element
            for c in r.controls
            if c.kind == "recommended"
        }

    assert "receiver_limits" not in recommended("lung-cade", "ct_to_pacs")  # a CT series
    assert "receiver_limits" in recommended("bgms", "cgm_to_app")  # glucose readings


def test_the_deployment_never_narrows_past_the_local_network():
    from mdrisk.risk.deployment import deployment_vector
    from mdrisk.risk.targets import Attacker

    base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    at_hand = (Attacker("physical", "physical", 0.4),)
    deployed = deployment_vector(base, at_hand)
    assert deployed is not None and deployed.letter == "A"
    # A radio link scored Adjacent stays so, whoever the profiles say reaches it.
    assert deployment_vector(base.replace("AV:N", "AV:A"), at_hand) is None


def test_a_disclosure_hazard_that_names_its_data_is_rated_only_where_that_data_goes():
    risks = [r for r in _assessed("vital-signs").risks if "H-4" in r.hazards]
    read_at = {r.element for r in risks if r.source == "disclosure"}
    assert read_at == {"sensor_to_engine"}  # the unencrypted room video
    # Pulse rates on the loopback and the cloud's alert history are not the video.
    assert not {"engine_to_alerts", "vendor_cloud"} & {r.element for r in risks}


def test_a_hazard_naming_data_no_link_carries_is_refused_at_the_field():
    import pytest
    import yaml

    from mdrisk.errors import InputError
    from mdrisk.model import load_model_text

    text = (EXAMPLES / "vital-signs.yaml").read_text("utf-8")
    document = yaml.safe_load(text)
    hazard = next(h for h in document["hazards"] if h["id"] == "H-4")
    hazard["data"] = ["nir_video", "no_such_signal"]
    with pytest.raises(InputError) as caught:
        load_model_text(yaml.safe_dump(document, sort_keys=False), "hostile.yaml")
    assert "no_such_signal" in str(caught.value) and "hazards" in str(caught.value)
    hazard["data"] = ["nir_video"]
    hazard.pop("concerns")
    with pytest.raises(InputError) as caught:
        load_model_text(yaml.safe_dump(document, sort_keys=False), "hostile.yaml")
    assert "does not concern disclosure" in str(caught.value)
