"""The technology pack as a reviewer checks it: real ids, precise errors, the right rules."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk import bundled
from mdrisk.errors import InputError
from mdrisk.kb.pack import (
    BUILTIN_LABEL,
    ElementView,
    TechnologyPack,
    evaluate,
    load_pack,
    pack_from_text,
)
from mdrisk.model.schema import DeviceModel

CORPUS = PROJECT_ROOT / "tests" / "corpus" / "kb" / "pack"
PACK_FILE = PROJECT_ROOT / "src" / "mdrisk" / "data" / "technology-pack.yaml"


@cache
def builtin() -> TechnologyPack:
    return bundled.technology_pack().pack


# --- the catalogs, read straight from the public files -------------------------------------


def _cwe_weaknesses(path: Path) -> dict[str, str]:
    """CWE-n -> status, for Weakness entries only (categories and views are not causes)."""
    found: dict[str, str] = {}
    for _, element in ET.iterparse(path):
        if element.tag.endswith("}Weakness"):
            found[f"CWE-{element.get('ID')}"] = element.get("Status", "")
            element.clear()
    return found


def _stix_ids(path: Path, object_type: str, source_names: set[str]) -> dict[str, bool]:
    """external id -> usable (neither revoked nor deprecated), for one STIX object type."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, bool] = {}
    for item in bundle["objects"]:
        if item.get("type") != object_type:
            continue
        usable = not (
            item.get("revoked")
            or item.get("x_mitre_deprecated")
            or item.get("x_capec_status") in ("Deprecated", "Obsolete")
        )
        for reference in item.get("external_references", []):
            if reference.get("source_name") in source_names and reference.get("external_id"):
                key = reference["external_id"]
                found[key] = found.get(key, False) or usable
    return found


@pytest.fixture(scope="module")
def catalogs(shared_data: Path) -> dict[str, dict[str, bool]]:
    cwe = {
        key: status not in ("Deprecated", "Obsolete")
        for key, status in _cwe_weaknesses(shared_data / "mitre-cwe" / "cwec_v4.14.xml").items()
    }
    capec = _stix_ids(
        shared_data / "mitre-capec" / "stix-capec-2.1-assembled.json", "attack-pattern", {"capec"}
    )
    ics_file = shared_data / "mitre-attack-ics" / "ics-attack-18.1.json"
    enterprise_file = (
        shared_data / "mitre-attack-enterprise" / "enterprise-attack-18.1-stix20-assembled.json"
    )
    attack_sources = {"mitre-attack", "mitre-ics-attack"}
    atlas = yaml.load(
        (shared_data / "mitre-atlas" / "ATLAS.yaml").read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )
    matrix_items = [
        (kind, item)
        for matrix in atlas["matrices"]
        for kind in ("techniques", "mitigations")
        for item in matrix.get(kind, [])
    ]
    return {
        "cwe": cwe,
        "capec": capec,
        "attack_ics": _stix_ids(ics_file, "attack-pattern", attack_sources),
        "attack_enterprise": _stix_ids(enterprise_file, "attack-pattern", attack_sources),
        "atlas": {
            item["id"]: not item.get("deprecated")
            for kind, item in matrix_items
            if kind == "techniques"
        },
        "mitigation_ics": _stix_ids(ics_file, "course-of-action", attack_sources),
        "mitigation_enterprise": _stix_ids(enterprise_file, "course-of-action", attack_sources),
        "mitigation_atlas": {
            item["id"]: not item.get("deprecated")
            for kind, item in matrix_items
            if kind == "mitigations"
        },
    }


def test_every_id_the_pack_cites_exists_in_the_real_catalogs_and_is_current(catalogs):
    problems = []
    for rule in builtin().rules:
        cited = [
            (name, identifier)
            for name in ("cwe", "capec", "attack_ics", "attack_enterprise", "atlas")
            for identifier in getattr(rule.references, name)
        ]
        cited += [
            (f"mitigation_{name.removeprefix('attack_')}", identifier)
            for name in ("attack_ics", "attack_enterprise", "atlas")
            for identifier in getattr(rule.mitigations, name)
        ]
        for catalog, identifier in cited:
            if identifier not in catalogs[catalog]:
                problems.append(f"{rule.id}: {identifier} is not in {catalog}")
            elif not catalogs[catalog][identifier]:
                problems.append(f"{rule.id}: {identifier} is deprecated in {catalog}")
    assert not problems, "\n".join(problems)


def test_catalog_reading_is_strict_enough_to_catch_a_deprecated_id(catalogs):
    # Guards the test above: ids that are known to be withdrawn must read as unusable.
    assert catalogs["attack_ics"]["T0833"] is False  # Modify Control Logic, deprecated
    assert catalogs["capec"]["CAPEC-94"] is True
    assert "CWE-1427" not in catalogs["cwe"]  # prompt injection arrived after CWE 4.14


# --- loading ---------------------------------------------------------------------------------


def test_the_built_in_pack_loads_as_a_package_resource():
    loaded = bundled.technology_pack()
    assert loaded.source == BUILTIN_LABEL
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.sha256)
    assert len(loaded.pack.rules) >= 60
    assert loaded.pack.rules_by_id["TP-BLE-LEGACY-JUSTWORKS"].references.cwe


def test_the_pack_is_package_data_so_a_wheel_carries_it():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/*.yaml"' in pyproject
    assert PACK_FILE.is_file()


def _corpus_cases() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", _corpus_cases(), ids=lambda p: p.stem)
def test_a_broken_pack_is_refused_naming_file_line_rule_and_field(path: Path):
    expectation = path.read_text(encoding="utf-8").splitlines()[0]
    field, words = (part.strip() for part in expectation.removeprefix("# expect:").split("|"))
    with pytest.raises(InputError) as refused:
        load_pack(path)
    assert refused.value.file == str(path)
    matching = [p for p in refused.value.problems if words in p.message + " " + p.fix]
    assert matching, str(refused.value)
    assert all(p.line for p in refused.value.problems)
    if field:
        assert any(p.field == field for p in matching), str(refused.value)


SMALL_PACK = """\
schema_version: 1
name: small
version: "0"
technologies:
  - {id: ble, name: Bluetooth Low Energy, category: wireless, patterns: ['\\bBLE\\b']}
rules:
  - id: TP-BLE-X
    title: Small rule
    applies_to: {elements: [link], technologies: [ble], config: {pairing: [just_works]}}
    rationale: A rule small enough to mutate quickly in a fuzz test.
    references: {cwe: [CWE-287], capec: [CAPEC-94]}
"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(0, len(SMALL_PACK)),
    cut=st.integers(0, 12),
    insert=st.text(alphabet=st.sampled_from(list("[]{}:-,'\"&*!| \n\tabcTP0x9\\")), max_size=8),
)
def test_a_mutated_pack_is_either_valid_or_refused_with_a_located_message(position, cut, insert):
    text = SMALL_PACK[:position] + insert + SMALL_PACK[position + cut :]
    try:
        pack = pack_from_text(text, "fuzzed.yaml")
    except InputError as refused:
        assert refused.file == "fuzzed.yaml" and refused.problems
        assert all(problem.message for problem in refused.problems)
    else:
        assert pack.rules


# --- what the pack says about technologies ----------------------------------------------------


def _model(components: list[dict], links: list[dict] | None = None) -> DeviceModel:
    return DeviceModel.model_validate(
        {"device": {"name": "test"}, "components": components, "links": links or []}
    )


def _link_rules(
    technology: dict,
    protections: dict | None = None,
    kind: str = "data",
    source: str = "app",
    target: str = "app",
    feeds_ml: frozenset[str] = frozenset(),
) -> set[str]:
    model = _model(
        [{"id": "a", "name": "A", "kind": source}, {"id": "b", "name": "B", "kind": target}],
        [
            {
                "id": "l",
                "from": "a",
                "to": "b",
                "kind": kind,
                "carries": ["x"],
                "channel": {"technology": technology, "protections": protections or {}},
            }
        ],
    )
    view = ElementView.of_link(model.links[0], model, feeds_ml)
    return {hit.rule.id for hit in evaluate(builtin(), view)}


def _component_rules(
    technologies: list[dict],
    kind: str = "app",
    ml: dict | None = None,
    zone: str | None = None,
    feeds_ml: frozenset[str] = frozenset(),
) -> set[str]:
    component = {"id": "c", "name": "C", "kind": kind, "technologies": technologies}
    if ml:
        component["ml"] = {"task": "t", "inputs": [{"signal": "x"}], "outputs": ["y"], **ml}
    if zone:
        component["zone"] = zone
    model = _model([component])
    return {
        hit.rule.id
        for hit in evaluate(builtin(), ElementView.of_component(model.components[0], feeds_ml))
    }


BLE = "Bluetooth Low Energy"


@pytest.mark.parametrize(
    ("technology", "protections", "expected", "absent"),
    [
        (
            {"name": BLE, "version": "4.2", "config": {"pairing": "just_works"}},
            {"encryption": True, "authentication": False},
            {"TP-BLE-LEGACY-JUSTWORKS", "TP-BLE-UNAUTHENTICATED-PEER", "TP-WIRELESS-JAMMING"},
            {"TP-BLE-LESC-JUSTWORKS", "TP-BLE-UNENCRYPTED-GATT"},
        ),
        (
            {"name": "BLE", "config": {"pairing": "Just Works", "secure_connections": "yes"}},
            {"encryption": True, "authentication": False},
            {"TP-BLE-LESC-JUSTWORKS"},
            {"TP-BLE-LEGACY-JUSTWORKS"},
        ),
        (
            {"name": BLE, "config": {"pairing": "passkey"}},
            {"encryption": True},
            {"TP-BLE-LEGACY-PASSKEY"},
            set(),
        ),
        (
            {"name": BLE, "config": {"pairing": "passkey", "secure_connections": "on"}},
            {"encryption": True, "authentication": True},
            set(),
            {"TP-BLE-LEGACY-PASSKEY", "TP-BLE-UNAUTHENTICATED-PEER"},
        ),
        (
            {"name": BLE, "config": {"pairing": "passkey", "passkey": "static"}},
            {},
            {"TP-BLE-STATIC-PASSKEY"},
            set(),
        ),
        ({"name": BLE, "config": {"bonding": "no"}}, {}, {"TP-BLE-NO-BONDING"}, set()),
        ({"name": BLE}, {"encryption": False}, {"TP-BLE-UNENCRYPTED-GATT"}, set()),
        ({"name": "Bluetooth Classic", "version": "2.0"}, {}, {"TP-BT-CLASSIC-PAIRING"}, set()),
        ({"name": "Wi-Fi", "config": {"security": "open"}}, {}, {"TP-WIFI-OPEN"}, set()),
        (
            {"name": "WLAN", "config": {"security": "WEP"}},
            {"encryption": True},
            {"TP-WIFI-WEP"},
            {"TP-WIFI-OPEN"},
        ),
        (
            {"name": "Wi-Fi", "config": {"security": "WPA2-PSK"}},
            {"encryption": True},
            {"TP-WIFI-WPA2-PSK"},
            set(),
        ),
        (
            {"name": "Wi-Fi 6", "config": {"security": "WPA3 transition"}},
            {"encryption": True},
            {"TP-WIFI-WPA3"},
            {"TP-WIFI-WPA2-PSK"},
        ),
        ({"name": "NFC"}, {}, {"TP-NFC-PROXIMITY"}, set()),
        ({"name": "USB", "config": {"mode": "debug"}}, {}, {"TP-USB-DEBUG", "TP-USB-PORT"}, set()),
        ({"name": "USB", "config": {"mode": "mass storage"}}, {}, {"TP-USB-MASS-STORAGE"}, set()),
        ({"name": "UART service console"}, {}, {"TP-HW-DEBUG-PORT"}, set()),
        ({"name": "RS-232 serial link"}, {}, {"TP-SERIAL-LINK"}, {"TP-CHANNEL-CLEARTEXT"}),
        (
            {"name": "DICOM C-STORE", "config": {"tls": "off"}},
            {},
            {"TP-DICOM-CLEARTEXT", "TP-DICOM-AE-TITLE-ONLY", "TP-DICOM-CRAFTED-OBJECT"},
            {"TP-CHANNEL-CLEARTEXT", "TP-CHANNEL-UNAUTHENTICATED"},
        ),
        (
            {"name": "DICOM over TLS", "version": "TLS 1.2"},
            {"encryption": True, "authentication": True, "integrity": True},
            {"TP-DICOM-TLS-SERVER-ONLY"},
            {"TP-DICOM-CLEARTEXT", "TP-TLS-DEPRECATED"},
        ),
        (
            {"name": "DICOM over TLS", "config": {"mutual_auth": "on"}},
            {"encryption": True, "authentication": True, "integrity": True},
            set(),
            {"TP-DICOM-TLS-SERVER-ONLY"},
        ),
        (
            {"name": "HL7 v2 over MLLP", "version": "2.5.1"},
            {},
            {"TP-HL7V2-MLLP-CLEARTEXT", "TP-HL7V2-DELIMITER-INJECTION"},
            {"TP-CHANNEL-CLEARTEXT"},
        ),
        (
            {"name": "HL7 FHIR R4 REST", "version": "TLS 1.2"},
            {"encryption": True, "authentication": True},
            {"TP-API-OAUTH-TOKENS"},
            {"TP-API-NO-AUTH", "TP-TLS-DEPRECATED"},
        ),
        (
            {"name": "REST API", "version": "TLS 1.2"},
            {"encryption": True},
            {"TP-API-NO-AUTH"},
            set(),
        ),
        (
            {"name": "HTTPS", "version": "TLS 1.0"},
            {"encryption": True, "authentication": True},
            {"TP-TLS-DEPRECATED"},
            set(),
        ),
        (
            {"name": "HTTPS", "version": "TLS 1.1"},
            {"encryption": True},
            {"TP-TLS-DEPRECATED"},
            set(),
        ),
        (
            {"name": "HTTPS", "version": "TLS 1.3"},
            {"encryption": True},
            set(),
            {"TP-TLS-DEPRECATED"},
        ),
        ({"name": "HTTP"}, {}, {"TP-HTTP-CLEARTEXT"}, {"TP-CHANNEL-CLEARTEXT"}),
        (
            {"name": "MQTT", "config": {"port": "1883"}},
            {},
            {"TP-MQTT-CLEARTEXT", "TP-MQTT-NO-AUTH", "TP-MQTT-TOPIC-ACCESS"},
            {"TP-CHANNEL-CLEARTEXT", "TP-CHANNEL-UNAUTHENTICATED"},
        ),
        (
            {"name": "SMB file share", "version": "SMB 2.1", "config": {"signing": "off"}},
            {"authentication": True},
            {"TP-SMB-UNSIGNED"},
            {"TP-SMB-V1"},
        ),
        ({"name": "Touchscreen entry"}, {}, {"TP-MANUAL-ENTRY-SPOOFED"}, set()),
        (
            {"name": "In-process call"},
            {},
            set(),
            {"TP-CHANNEL-CLEARTEXT", "TP-CHANNEL-UNAUTHENTICATED"},
        ),
    ],
)
def test_link_technologies_and_configurations_bring_their_rules(
    technology, protections, expected, absent
):
    rules = _link_rules(technology, protections)
    assert expected <= rules, rules
    assert not (absent & rules), rules


@pytest.mark.parametrize(
    ("technologies", "kind", "expected"),
    [
        (
            [{"name": "iOS", "vendor": "Apple", "version": "17.5"}],
            "app",
            {"TP-MOBILE-ROOTED", "TP-IOS-PROFILES-AND-SIDELOADING", "TP-MOBILE-INTER-APP-DATA"},
        ),
        (
            [{"name": "Android", "version": "14"}],
            "app",
            {"TP-MOBILE-ROOTED", "TP-ANDROID-SIDELOADING", "TP-MOBILE-INTER-APP-DATA"},
        ),
        (
            [{"name": "Microsoft Windows", "product": "Windows 7"}],
            "imaging_device",
            {"TP-WINDOWS-HOST", "TP-WINDOWS-UNSUPPORTED"},
        ),
        (
            [{"name": "Windows", "product": "Windows 10 IoT Enterprise LTSC 2019"}],
            "gateway",
            {"TP-WINDOWS-HOST"},
        ),
        ([{"name": "Ubuntu Linux", "version": "22.04"}], "gateway", {"TP-LINUX-HOST"}),
        (
            [{"name": "Amazon Web Services", "vendor": "Amazon", "product": "AWS"}],
            "cloud",
            {"TP-CLOUD-ACCOUNT"},
        ),
        ([{"name": "Docker Engine"}], "gateway", {"TP-CONTAINER-SUPPLY-AND-ESCAPE"}),
        (
            [{"name": "Core ML model file"}],
            "ml_engine",
            {"TP-MODEL-FILE-ON-DEVICE", "TP-ML-FRAMEWORK"},
        ),
        ([{"name": "TensorFlow Lite"}], "ml_engine", {"TP-MODEL-FILE-ON-DEVICE"}),
        ([{"name": "ONNX Runtime"}], "ml_engine", {"TP-MODEL-FILE-ON-DEVICE", "TP-ML-FRAMEWORK"}),
        (
            [{"name": "scikit-learn model", "product": "model.pkl"}],
            "ml_engine",
            {"TP-MODEL-PICKLE-CODE-EXECUTION"},
        ),
        (
            [{"name": "PyTorch", "version": "2.1.0"}],
            "ml_engine",
            {"TP-MODEL-PICKLE-CODE-EXECUTION", "TP-ML-FRAMEWORK"},
        ),
        (
            [{"name": "NVIDIA Triton Inference Server"}],
            "ml_engine",
            {
                "TP-ML-INFERENCE-API-EXTRACTION",
                "TP-ML-INFERENCE-API-ABUSE",
                "TP-ML-SERVING-SOFTWARE",
            },
        ),
        (
            [{"name": "Large language model", "product": "Llama 3"}],
            "ml_engine",
            {"TP-LLM-PROMPT-INJECTION-DIRECT", "TP-LLM-PROMPT-INJECTION-INDIRECT"},
        ),
        (
            [{"name": "Pump firmware", "config": {"signed": "no"}}],
            "actuator",
            {"TP-FIRMWARE-DEVICE", "TP-FIRMWARE-UPDATE-UNSIGNED"},
        ),
        (
            [{"name": "CGM transmitter"}, {"name": BLE}],
            "sensor",
            {"TP-MEDSENSOR-SIGNAL-SPOOFING", "TP-BLUETOOTH-STACK-EXPOSURE"},
        ),
        (
            [{"name": "Dermatoscope camera"}],
            "sensor",
            {"TP-CAMERA-ADVERSARIAL-PHYSICAL", "TP-MEDSENSOR-SIGNAL-SPOOFING"},
        ),
        ([{"name": "60 GHz mmWave radar"}], "sensor", {"TP-RADAR-SPOOFING"}),
        ([{"name": "CT scanner"}], "imaging_device", {"TP-IMAGING-TAMPERING"}),
        (
            [{"name": "USB", "config": {"mass_storage": "enabled"}}],
            "imaging_device",
            {"TP-USB-PORT", "TP-USB-MASS-STORAGE"},
        ),
        ([{"name": "JTAG header"}], "actuator", {"TP-HW-DEBUG-PORT"}),
    ],
)
def test_component_technologies_bring_their_rules(technologies, kind, expected):
    rules = _component_rules(technologies, kind)
    assert expected <= rules, rules


def test_ml_engine_conditions_select_lifecycle_rules():
    adaptive = _component_rules(
        [],
        "ml_engine",
        ml={
            "locked": False,
            "update_path": [],
            "task_type": "forecasting",
            "training_data": [{"source": "field", "continuous": True}],
        },
    )
    assert {"TP-ML-UNLOCKED", "TP-TRAINING-CONTINUOUS", "TP-ML-INPUT-MANIPULATION"} <= adaptive
    assert "TP-ML-EVASION-CLASSIFIER" not in adaptive
    frozen = _component_rules([], "ml_engine", ml={"task_type": "classification"})
    assert "TP-ML-EVASION-CLASSIFIER" in frozen
    assert not {"TP-ML-UNLOCKED", "TP-TRAINING-CONTINUOUS", "TP-ML-UPDATE-PATH"} & frozen
    hosted = _component_rules([], "ml_engine", ml={"task_type": "generation"}, zone="vendor cloud")
    assert {
        "TP-ML-INFERENCE-API-EXTRACTION",
        "TP-ML-INFERENCE-API-ABUSE",
        "TP-LLM-PROMPT-INJECTION-DIRECT",
        "TP-LLM-PROMPT-INJECTION-INDIRECT",
    } <= hosted


def test_update_links_are_judged_by_what_they_update_and_how():
    unsigned_model = _link_rules(
        {"name": "HTTPS", "version": "TLS 1.2"},
        {"encryption": True, "authentication": True},
        kind="update",
        source="cloud",
        target="ml_engine",
    )
    assert {"TP-MODEL-UPDATE-UNSIGNED", "TP-UPDATE-NO-ROLLBACK-PROTECTION"} <= unsigned_model
    assert "TP-CHANNEL-NO-INTEGRITY" not in unsigned_model  # superseded by the update rule
    unsigned_firmware = _link_rules(
        {"name": "OTA over BLE"}, {}, kind="update", source="app", target="actuator"
    )
    assert "TP-FIRMWARE-UPDATE-UNSIGNED" in unsigned_firmware
    assert "TP-MODEL-UPDATE-UNSIGNED" not in unsigned_firmware
    signed = _link_rules(
        {"name": "Container image pull"},
        {"integrity": True, "replay_protection": True},
        kind="update",
        source="cloud",
        target="ml_engine",
    )
    assert "TP-UPDATE-SIGNING-KEY" in signed
    assert not {"TP-MODEL-UPDATE-UNSIGNED", "TP-UPDATE-NO-ROLLBACK-PROTECTION"} & signed


def test_channels_feeding_an_ml_input_carry_atlas_techniques():
    rules = _link_rules(
        {"name": BLE}, {"encryption": True}, feeds_ml=frozenset({"inference_input"})
    )
    assert "TP-ML-INPUT-CHANNEL-UNAUTHENTICATED" in rules
    atlas = builtin().rules_by_id["TP-ML-INPUT-CHANNEL-UNAUTHENTICATED"].references.atlas
    assert "AML.T0043" in atlas
    assert "TP-ML-INPUT-CHANNEL-UNAUTHENTICATED" not in _link_rules(
        {"name": BLE}, {"encryption": True}
    )


def test_a_rule_applies_once_per_element_even_through_several_technologies():
    model = _model(
        [
            {
                "id": "c",
                "name": "C",
                "kind": "cloud",
                "technologies": [{"name": "Amazon Web Services"}, {"name": "Amazon S3"}],
            }
        ]
    )
    hits = [
        hit
        for hit in evaluate(builtin(), ElementView.of_component(model.components[0]))
        if hit.rule.id == "TP-CLOUD-ACCOUNT"
    ]
    assert len(hits) == 1 and hits[0].technology == 0
    assert "also Amazon S3" in hits[0].matched_on


def test_every_family_is_used_by_some_rule():
    pack = builtin()
    used = {
        family
        for rule in pack.rules
        for conditions in rule.applies_to
        for family in conditions.technologies
    }
    categories = {
        c
        for rule in pack.rules
        for conditions in rule.applies_to
        for c in conditions.technology_categories
    }
    unused = {f.id for f in pack.technologies if f.id not in used and f.category not in categories}
    # In-process calls are recognised only so that no network rule mistakes them for a channel.
    assert unused == {"in_process"}
