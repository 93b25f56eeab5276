"""Attack scenarios as an analyst checks them: every way in is covered, every step follows
from the one before, every id and every hop exists, and the order says what to fix first."""

from __future__ import annotations

import json
import re
import string
import xml.etree.ElementTree as ET
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, PROJECT_ROOT, example_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.scenarios import STEP_ORDER, AttackScenario
from mdrisk.assessment.threats import CvssScore
from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.kb.matching.query import ComponentQuery, VulnMatch
from mdrisk.model import load_model, load_model_text
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.markdown import render_markdown
from mdrisk.scenarios.data import (
    profiles_from_text,
    rules_from_text,
)
from mdrisk.scenarios.exploitability import read_vector
from mdrisk.scenarios.generate import ScenarioLimit, generate_scenarios, with_scenarios

PACK = bundled.technology_pack()
PROFILES = bundled.attacker_profiles()
RULES = bundled.scenario_rules()
DATA = PROJECT_ROOT / "src" / "mdrisk" / "data"
PROFILES_FILE = DATA / "attacker-profiles.yaml"
RULES_FILE = DATA / "scenario-rules.yaml"
BGMS = EXAMPLES / "bgms.yaml"
RETINOPATHY = EXAMPLES / "retinopathy.yaml"
CREATED = "2030-01-01T00:00:00Z"


@cache
def _assessed(path: Path) -> Assessment:
    """With the pack attached as threats (``--kb`` without a store), so TH ids are cited."""
    return assess(load_model(path), created=CREATED, knowledge=KnowledgeInputs(PACK))


def _assessed_text(text: str, name: str, knowledge: KnowledgeInputs | None = None) -> Assessment:
    return assess(
        load_model_text(text, name), created=CREATED, knowledge=knowledge or KnowledgeInputs(PACK)
    )


# --- the real catalogs, read straight from the public files ---------------------------------


@pytest.fixture(scope="session")
def catalog_ids(shared_data: Path) -> set[str]:
    ids: set[str] = set()
    for _, element in ET.iterparse(shared_data / "mitre-cwe" / "cwec_v4.14.xml"):
        if element.tag.endswith("}Weakness"):
            ids.add(f"CWE-{element.get('ID')}")
        element.clear()
    for relative in (
        "mitre-capec/stix-capec-2.1-assembled.json",
        "mitre-attack-ics/ics-attack-18.1.json",
        "mitre-attack-enterprise/enterprise-attack-18.1-stix20-assembled.json",
    ):
        bundle = json.loads((shared_data / relative).read_text(encoding="utf-8"))
        for item in bundle["objects"]:
            if (
                item.get("type") != "attack-pattern"
                or item.get("revoked")
                or item.get("x_mitre_deprecated")
            ):
                continue
            for reference in item.get("external_references", []):
                if reference.get("source_name") in ("capec", "mitre-attack", "mitre-ics-attack"):
                    identifier = reference.get("external_id", "")
                    ids.add(identifier if not identifier.isdigit() else f"CAPEC-{identifier}")
    return ids | atlas_techniques(shared_data)


def atlas_techniques(shared_data: Path) -> set[str]:
    atlas = yaml.load(
        (shared_data / "mitre-atlas" / "ATLAS.yaml").read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )
    return {
        item["id"]
        for matrix in atlas["matrices"]
        for item in matrix.get("techniques", [])
        if not item.get("deprecated")
    }


# --- every reference device -----------------------------------------------------------------


def _applicable(assessment: Assessment, element: str) -> bool:
    """A threat on the element that can create false data: a pack rule of an exploit family
    that injects something, or a known vulnerability."""
    rules = bundled.scenario_rules()
    for threat in assessment.threats:
        if threat.element != element:
            continue
        if threat.vulnerabilities:
            return True
        for finding in threat.pack_rules:
            if any(
                f.category is None and f.injections
                for f in rules.families_of_rule.get(finding.rule, [])
            ):
                return True
    return False


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_every_fdi_point_with_an_applicable_threat_has_a_scenario(model_path):
    assessment = _assessed(model_path)
    assert assessment.scenarios
    with_loss = {s.fdi_point for s in assessment.loss_scenarios}
    covered = {point for s in assessment.scenarios for point in s.fdi_points}
    missing = [
        p.id
        for p in assessment.fdi_points
        if p.id in with_loss and _applicable(assessment, p.element) and p.id not in covered
    ]
    assert not missing


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_steps_run_from_access_to_loss_in_order(model_path):
    for scenario in _assessed(model_path).scenarios:
        kinds = tuple(step.kind for step in scenario.steps)
        if scenario.category == "inversion":
            # Disclosure of training data changes no control action.
            assert scenario.uca is None
            assert kinds == tuple(k for k in STEP_ORDER if k != "uca")
        else:
            assert kinds == STEP_ORDER, scenario.id
        assert all(step.text.strip() for step in scenario.steps)


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_every_cited_id_resolves_in_the_assessment_the_pack_or_the_real_catalogs(
    model_path, catalog_ids
):
    assessment = _assessed(model_path)
    known = assessment.known_ids()
    pack_rules = set(PACK.pack.rules_by_id)
    resolvable = known | pack_rules | catalog_ids
    unresolved = []
    for s in assessment.scenarios:
        own = [
            s.element,
            s.ml_engine,
            *s.hazards,
            *s.losses,
            *s.fdi_points,
            *s.loss_scenarios,
            *s.threats,
            *([s.uca] if s.uca else []),
        ]
        unresolved += [f"{s.id}: {i}" for i in own if i not in known]
        unresolved += [f"{s.id}: {i}" for i in s.references.pack_rules if i not in pack_rules]
        unresolved += [f"{s.id}: {i}" for i in s.references.catalog_ids() if i not in catalog_ids]
        for step in s.steps:
            unresolved += [f"{s.id} {step.kind}: {i}" for i in step.ids if i not in resolvable]
        assert not s.references.cve  # no store: no known vulnerabilities
    assert not unresolved, unresolved[:20]


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_without_a_store_every_catalog_id_cited_is_one_the_pack_cites(model_path):
    pack_ids = {i for rule in PACK.pack.rules for i in rule.references.all_ids()}
    for s in _assessed(model_path).scenarios:
        assert set(s.references.catalog_ids()) <= pack_ids, s.id
        cited = {i for step in s.steps for i in step.ids}
        assert set(s.references.all_ids()) <= cited  # the exploit step names them all


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_every_path_is_in_the_control_structure_and_ends_at_the_unsafe_controller(model_path):
    assessment = _assessed(model_path)
    components = {c.id for c in assessment.device.components}
    links = {link.id: link for link in assessment.device.links}
    ucas = {u.id: u for u in assessment.ucas}
    loss_scenarios = {ls.id: ls for ls in assessment.loss_scenarios}
    for s in assessment.scenarios:
        path = s.path
        assert path[0] == s.element and s.ml_engine in path
        for index, hop in enumerate(path):
            if hop in links:
                link = links[hop]
                assert index == 0 or path[index - 1] == link.source, (s.id, hop)
                assert index == len(path) - 1 or path[index + 1] == link.target, (s.id, hop)
            else:
                assert hop in components, (s.id, hop)
                if 0 < index:
                    assert path[index - 1] in links, (s.id, hop)
        if s.uca is not None:
            assert path[-1] == ucas[s.uca].controller
            # From the engine on, the path is one of its loss-scenario classes' own routes.
            assert any(
                path[path.index(s.ml_engine) :]
                == loss_scenarios[i].path[loss_scenarios[i].path.index(s.ml_engine) :]
                for i in s.loss_scenarios
            )
            # Every UCA of the class is one of its loss scenarios'; the representative too.
            assert {loss_scenarios[i].uca for i in s.loss_scenarios} == set(s.ucas)
            assert s.uca in s.ucas
            assert all(s.hazards[0] in loss_scenarios[i].hazards for i in s.loss_scenarios)
        else:
            assert path[-1] == s.ml_engine


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_ranked_by_severity_times_exploitability_and_scores_add_up_from_their_parts(model_path):
    scenarios = _assessed(model_path).scenarios
    ids = [s.id for s in scenarios]
    assert len(set(ids)) == len(ids) and all(i.startswith("SC-") for i in ids)
    severities = ("negligible", "minor", "serious", "critical", "catastrophic")
    ranks = [
        round(s.exploitability.score * (severities.index(s.severity or "negligible") + 1) / 5, 6)
        for s in scenarios
    ]
    assert ranks == sorted(ranks, reverse=True)
    weights = bundled.scenario_rules().scoring.weights
    for s in scenarios:
        parts = s.exploitability.parts
        total = (
            weights["reach"] * parts.reach
            + weights["skill"] * parts.skill
            + weights["ease"] * parts.ease
            + weights["known_exploited"] * bool(parts.known_exploited)
            + weights["epss"] * (parts.epss or 0)
            + weights["protections_missing"] * (parts.protections_missing or 0)
            + weights["hops"] * parts.hop_factor
        )
        assert s.exploitability.score == pytest.approx(total, abs=1e-4)
        assert 0 <= s.exploitability.score <= 1


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_scenarios_are_deduplicated(model_path):
    keys = Counter(
        (s.category, s.element, s.exploit_family, s.attacker, tuple(s.hazards), s.ml_engine)
        for s in _assessed(model_path).scenarios
    )
    assert keys.most_common(1)[0][1] == 1


def test_one_element_feeding_four_inputs_gives_one_scenario_per_hazard_listing_all_four():
    assessment = _assessed(BGMS)
    app_points = {
        p.id
        for p in assessment.fdi_points
        if p.element == "phone_app" and p.target == "inference_input"
    }
    assert len(app_points) == 4  # cgm_glucose, fingerstick_glucose, carb_entry, insulin_on_board
    rooted = [
        s
        for s in assessment.scenarios
        if s.element == "phone_app"
        and s.exploit_family == "host_compromise"
        and s.attacker == "physical"
    ]
    # One class per hazard, each listing every UCA through which the rooted phone reaches it.
    assert rooted and len({tuple(s.hazards) for s in rooted}) == len(rooted)
    for s in rooted:
        assert set(s.fdi_points) == app_points
        assert s.ml_inputs == [
            "carb_entry",
            "cgm_glucose",
            "fingerstick_glucose",
            "insulin_on_board",
        ]
        assert len(s.ucas) >= 1 and s.uca in s.ucas
        linked = [ls for ls in assessment.loss_scenarios if ls.id in s.loss_scenarios]
        assert {p for ls in linked for p in ls.fdi_points} >= app_points
        assert all(s.hazards[0] in ls.hazards for ls in linked)
        assert {"TP-MOBILE-ROOTED", "TP-ANDROID-SIDELOADING"} <= set(s.references.pack_rules)


def test_two_runs_give_the_same_scenarios_and_the_same_canonical_json():
    from mdrisk.report.writers import writer_for

    first = assess(load_model(BGMS), created=CREATED, knowledge=KnowledgeInputs(PACK))
    second = assess(load_model(BGMS), created=CREATED, knowledge=KnowledgeInputs(PACK))
    assert first.scenarios == second.scenarios
    assert generate_scenarios(first, PACK.pack, profiles=PROFILES, rules=RULES) == first.scenarios
    writer = writer_for("json")
    assert writer.render(first) == writer.render(second)


def test_without_kb_the_scenarios_use_the_pack_but_cite_no_threat_ids():
    plain = assess(load_model(BGMS), created=CREATED)
    assert plain.threats == [] and plain.scenarios
    assert all(s.threats == [] for s in plain.scenarios)
    with_kb = _assessed(BGMS)
    strip = {"threats": [], "steps": None}
    assert [s.model_copy(update=strip) for s in plain.scenarios] == [
        s.model_copy(update=strip) for s in with_kb.scenarios
    ]


# --- what the analyst expects on the glucose device -----------------------------------------


def _of(assessment: Assessment, category: str) -> list[AttackScenario]:
    return [s for s in assessment.scenarios if s.category == category]


def test_the_just_works_cgm_link_is_taken_over_from_radio_range():
    radio = [
        s
        for s in _assessed(BGMS).scenarios
        if s.element == "cgm_to_app" and s.exploit_family == "radio_link_takeover"
    ]
    assert radio and {s.attacker for s in radio} == {"adjacent_radio"}
    assert "TP-BLE-LEGACY-JUSTWORKS" in radio[0].references.pack_rules
    assert "CAPEC-94" in radio[0].references.capec
    # Encrypted with integrity but neither authenticated nor replay-protected: 2 of 3 missing.
    assert radio[0].exploitability.parts.protections_missing == pytest.approx(2 / 3, abs=1e-3)
    # Raised readings over the taken-over link: more insulin than glucose calls for (H-1).
    overdose = next(s for s in radio if s.hazards == ["H-1"])
    assert overdose.injection in {"spoof", "bias"}
    assert overdose.severity == "catastrophic"


def test_jamming_only_withholds_or_delays_it_never_forges():
    jammed = [s for s in _assessed(BGMS).scenarios if s.exploit_family == "radio_jamming"]
    assert jammed
    assert {s.injection for s in jammed} <= {"suppress", "delay"}
    # Jamming removes or delays readings: each class it stands for is a suppressed, delayed
    # or frozen signal, whichever way that pushes the controller (fewer carbs seen raise
    # the low alert; missing glucose withholds the suspension).
    classes = {ls.id: ls for ls in _assessed(BGMS).loss_scenarios}
    manipulations = {classes[i].manipulation for s in jammed for i in s.loss_scenarios}
    assert manipulations <= {"suppress", "delay", "freeze"}


def test_bgms_forecaster_has_evasion_poisoning_and_model_update_scenarios():
    assessment = _assessed(BGMS)
    evasion = [s for s in _of(assessment, "evasion") if s.ml_engine == "forecaster"]
    # Crafted values enter as far upstream as each attacker reaches: at the sensor worn on
    # the body, at the person entering carbs.
    assert {(s.attacker, s.element) for s in evasion} >= {
        ("physical", "cgm_sensor"),
        ("insider", "patient_user"),
    }
    assert all("AML.T0043" in s.references.atlas for s in evasion)
    poisoning = [
        s for s in _of(assessment, "poisoning") if s.exploit_family == "training_data_poisoning"
    ]
    assert poisoning and all("cloud_platform" in s.path for s in poisoning)
    assert {"data_contributor", "insider", "supply_chain"} <= {s.attacker for s in poisoning}
    uploads = [s for s in poisoning if s.element == "app_to_cloud"]
    assert uploads and uploads[0].path[:2] == ["app_to_cloud", "cloud_platform"]
    assert all("AML.T0020" in s.references.atlas for s in poisoning)
    update = _of(assessment, "model_update")
    assert {"cloud_to_forecaster", "cloud_platform"} <= {s.element for s in update}
    unsigned = [s for s in update if "TP-MODEL-UPDATE-UNSIGNED" in s.references.pack_rules]
    assert unsigned and all("AML.T0018" in s.references.atlas for s in unsigned)


def test_retinopathy_cloud_model_can_be_copied_inverted_and_exhausted_through_its_api():
    assessment = _assessed(RETINOPATHY)
    categories = {s.category for s in assessment.scenarios if s.ml_engine == "dr_engine"}
    assert {"extraction", "inversion", "resource_exhaustion", "evasion"} <= categories
    inversion = _of(assessment, "inversion")
    assert inversion and all(s.attacker == "api_user" for s in inversion)
    assert inversion[0].hazards == ["H-5"] and inversion[0].losses == ["L-3"]
    assert {"AML.T0024.000", "AML.T0024.001"} & set(inversion[0].references.atlas)
    assert "AML.T0024.002" not in inversion[0].references.atlas  # that is extraction
    extraction = _of(assessment, "extraction")
    assert all("AML.T0024.002" in s.references.atlas for s in extraction)
    exhaustion = _of(assessment, "resource_exhaustion")
    assert all({"AML.T0029", "AML.T0034"} <= set(s.references.atlas) for s in exhaustion)
    assert {s.injection for s in exhaustion} <= {"suppress", "delay"}


def test_no_reference_device_has_an_llm_so_none_has_prompt_injection():
    for model_path in example_models():
        assert not _of(_assessed(model_path), "prompt_injection")


def test_ai_scenarios_cite_atlas_ids_that_exist_in_the_real_atlas(shared_data):
    real = atlas_techniques(shared_data)
    for model_path in example_models():
        for s in _assessed(model_path).scenarios:
            assert set(s.references.atlas) <= real, s.id
            if s.category not in ("fdi", "model_update", "poisoning"):
                assert s.references.atlas, s.id


# --- an LLM component: prompt injection ----------------------------------------------------

LLM_DEVICE = """
schema_version: 1
device: {name: Medication advice assistant}
components:
  - {id: patient, name: Patient, kind: controlled_process}
  - id: clinician
    name: Prescriber
    kind: human
    process_model:
      - {name: medication_plan, from_signals: [draft_advice]}
  - id: portal
    name: Clinician portal
    kind: app
    zone: hospital LAN
    technologies: [{name: Web portal}]
  - id: ehr
    name: Hospital EHR
    kind: ehr
    zone: hospital data centre
    technologies: [{name: HL7 FHIR, version: R4}]
  - id: assistant
    name: Drafting assistant
    kind: ml_engine
    zone: vendor cloud
    technologies: [{name: Llama 3 large language model}]
    ml:
      task: Draft medication advice from the question and the patient's record
      task_type: generation
      inputs: [{signal: question}, {signal: patient_record}]
      outputs: [draft_advice]
links:
  - {id: clinician_to_portal, from: clinician, to: portal, kind: data, carries: [question],
     channel: {technology: {name: Keyboard entry}}}
  - {id: portal_to_assistant, from: portal, to: assistant, kind: data, carries: [question],
     channel: {technology: {name: HTTPS}, protections: {authentication: true,
               encryption: true, integrity: true}}}
  - {id: patient_to_ehr, from: patient, to: ehr, kind: feedback, carries: [patient_record]}
  - {id: ehr_to_assistant, from: ehr, to: assistant, kind: data, carries: [patient_record],
     channel: {technology: {name: HL7 FHIR R4 REST}, protections: {authentication: true,
               encryption: true, integrity: true}}}
  - {id: assistant_to_clinician, from: assistant, to: clinician, kind: data,
     carries: [draft_advice], channel: {technology: {name: HTTPS}}}
  - id: clinician_to_patient
    from: clinician
    to: patient
    kind: control_action
    carries:
      - {name: prescribe, hazards: [H-1]}
losses:
  - {id: L-1, description: Harm from a wrong or missed medication, severity: serious}
  - {id: L-2, description: Disclosure of the patient's records, severity: minor}
hazards:
  - {id: H-1, description: A medication unsuitable for the patient is prescribed, losses: [L-1]}
  - {id: H-2, description: Records reach someone not caring for the patient, losses: [L-2]}
"""


def test_a_language_model_gets_direct_and_indirect_prompt_injection():
    assessment = _assessed_text(LLM_DEVICE, "llm-device.yaml")
    injected = _of(assessment, "prompt_injection")
    direct = [s for s in injected if s.exploit_family == "direct_prompt_injection"]
    indirect = [s for s in injected if s.exploit_family == "indirect_prompt_injection"]
    assert {"clinician"} <= {s.element for s in direct}
    assert all("AML.T0051.000" in s.references.atlas for s in direct)
    # Indirect: through the records the model reads, never a person's own words.
    assert {"ehr"} <= {s.element for s in indirect}
    people = {"clinician", "clinician_to_portal", "patient"}
    assert not {s.element for s in indirect} & people
    assert all("AML.T0051.001" in s.references.atlas for s in indirect)
    assert all(s.uca and s.hazards == ["H-1"] for s in injected)
    assert {s.injection for s in injected} <= {"spoof", "bias", "suppress"}


# --- ranking: known exploitation counts ---------------------------------------------------

TWIN_SENSORS = """
schema_version: 1
device: {name: Twin sensor monitor}
components:
  - {id: body, name: Patient, kind: controlled_process}
  - id: sensor_a
    name: Sensor A
    kind: sensor
    zone: on-body
    technologies: [{name: Sensor firmware, vendor: Acme, product: Alpha sensor, version: "1.0"}]
  - id: sensor_b
    name: Sensor B
    kind: sensor
    zone: on-body
    technologies: [{name: Sensor firmware, vendor: Acme, product: Beta sensor, version: "1.0"}]
  - id: model
    name: Risk model
    kind: ml_engine
    zone: on-body
    ml:
      task: Score deterioration risk
      task_type: regression
      inputs: [{signal: reading_a}, {signal: reading_b}]
      outputs: [risk_score]
  - id: controller
    name: Dosing controller
    kind: controller
    zone: on-body
    process_model:
      - {name: risk, from_signals: [risk_score]}
  - {id: pump, name: Pump, kind: actuator, zone: on-body}
links:
  - {id: body_to_a, from: body, to: sensor_a, kind: feedback, carries: [signal_a]}
  - {id: body_to_b, from: body, to: sensor_b, kind: feedback, carries: [signal_b]}
  - {id: a_to_model, from: sensor_a, to: model, kind: data, carries: [reading_a],
     channel: {in_process: true}}
  - {id: b_to_model, from: sensor_b, to: model, kind: data, carries: [reading_b],
     channel: {in_process: true}}
  - {id: model_to_controller, from: model, to: controller, kind: data, carries: [risk_score]}
  - id: controller_to_pump
    from: controller
    to: pump
    kind: control_action
    carries: [{name: dose, hazards: [H-1]}]
  - {id: pump_to_body, from: pump, to: body, kind: control_action, carries: [drug]}
losses:
  - {id: L-1, description: Patient harmed, severity: serious}
hazards:
  - {id: H-1, description: Wrong dose delivered, losses: [L-1]}
"""


class _CannedMatcher:
    def __init__(self, answers: dict[str, list[VulnMatch]]) -> None:
        self.answers = answers

    def match(self, query: ComponentQuery) -> list[VulnMatch]:
        return self.answers.get(query.product or "", [])


def test_a_known_exploited_vulnerability_ranks_above_an_otherwise_equal_one():
    matcher = _CannedMatcher(
        {
            "Alpha sensor": [VulnMatch("CVE-2099-1001", 1.0, "test")],
            "Beta sensor": [VulnMatch("CVE-2099-1002", 1.0, "test")],
        }
    )

    def enricher(cve: str) -> dict:
        return {
            "kev": cve == "CVE-2099-1001",
            "epss": 0.2,
            "cvss": [
                {
                    "version": "3.1",
                    "score": 8.8,
                    "vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                }
            ],
            "cwes": [{"id": "CWE-287"}],
        }

    assessment = _assessed_text(
        TWIN_SENSORS, "twins.yaml", KnowledgeInputs(PACK, matcher, enricher)
    )
    known = [s for s in assessment.scenarios if s.references.cve]
    listed = {tuple(s.hazards): s for s in known if s.references.cve == ["CVE-2099-1001"]}
    unlisted = {tuple(s.hazards): s for s in known if s.references.cve == ["CVE-2099-1002"]}
    assert listed and listed.keys() == unlisted.keys()
    rank = {s.id: i for i, s in enumerate(assessment.scenarios)}
    kev_weight = bundled.scenario_rules().scoring.weights["known_exploited"]
    for uca, kev_scenario in listed.items():
        other = unlisted[uca]
        assert rank[kev_scenario.id] < rank[other.id]
        assert kev_scenario.exploitability.parts.known_exploited is True
        assert other.exploitability.parts.known_exploited is False
        assert kev_scenario.exploitability.score - other.exploitability.score == pytest.approx(
            kev_weight, abs=1e-4
        )
        assert kev_scenario.exploit_family == other.exploit_family == "cve/CWE-287/adjacent"
        assert kev_scenario.exploitability.parts.ease_source.startswith("CVSS 3.1")
        assert kev_scenario.attacker == "adjacent_radio"


def test_a_vulnerability_that_only_discloses_injects_nothing():
    matcher = _CannedMatcher({"Alpha sensor": [VulnMatch("CVE-2099-2001", 1.0, "test")]})

    def enricher(cve: str) -> dict:
        return {
            "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]
        }

    assessment = _assessed_text(
        TWIN_SENSORS, "twins.yaml", KnowledgeInputs(PACK, matcher, enricher)
    )
    assert assessment.threats and not [s for s in assessment.scenarios if s.references.cve]


def test_the_pump_advisory_cves_become_radio_scenarios_that_resolve_in_the_store(shared_data):
    from mdrisk.kb.enrich import enrich_vulnerability
    from mdrisk.kb.importing import import_paths
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.store import Store

    store = Store.in_memory()
    import_paths(store, [shared_data / "cisa-csaf-icsma" / "2021" / "icsma-21-012-01.json"])
    knowledge = KnowledgeInputs(
        PACK,
        Matcher.from_store(store, bundled.vendor_aliases()),
        lambda cve: enrich_vulnerability(store, cve),
    )
    assessment = assess(load_model(BGMS), created=CREATED, knowledge=knowledge)
    pump = [s for s in assessment.scenarios if s.references.cve]
    assert pump and {s.element for s in pump} == {"insulin_pump"}
    assert all(store.has(cve) for s in pump for cve in s.references.cve)
    assert all(set(s.threats) <= assessment.known_ids() and s.threats for s in pump)
    assert "adjacent_radio" in {s.attacker for s in pump}
    assert all(s.exploitability.parts.ease_source.startswith("CVSS") for s in pump)


def test_past_the_limit_the_lowest_ranked_are_counted_in_a_check_not_listed():
    full = _assessed(BGMS)
    cut = with_scenarios(
        full.model_copy(update={"scenarios": []}),
        PACK.pack,
        profiles=PROFILES,
        rules=RULES,
        limit=ScenarioLimit(5),
    )
    assert cut.scenarios == full.scenarios[:5]
    truncated = [c for c in cut.checks if c.rule == "attack-scenarios-truncated"]
    assert len(truncated) == 1 and truncated[0].id not in {c.id for c in full.checks}
    assert truncated[0].message.startswith(f"{len(full.scenarios) - 5} further")
    assert not [c for c in full.checks if c.rule == "attack-scenarios-truncated"]


@pytest.mark.parametrize(
    "vector,version,ease,where",
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 1.0, "N"),
        ("CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.0", 0.7294, "A"),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H", "3.1", 0.0312, "P"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 0.9997, "N"),
        ("CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", None, "A"),
    ],
)
def test_cvss_exploitability_follows_the_published_formulas(vector, version, ease, where):
    reading = read_vector(CvssScore(version=version, vector=vector))
    assert reading is not None and reading.access_vector == where
    assert reading.exploitability == (None if ease is None else pytest.approx(ease, abs=1e-4))


@settings(max_examples=200, deadline=None)
@given(
    vector=st.text(alphabet="CVS:/AVNLPHRUICSaun0123456789.", max_size=60),
    version=st.sampled_from(["2.0", "3.0", "3.1", "4.0", "", "9"]),
)
def test_any_vector_text_is_read_or_ignored_never_crashes(vector, version):
    reading = read_vector(CvssScore(version=version, vector=vector))
    assert reading is None or reading.exploitability is None or 0 <= reading.exploitability <= 1


# --- the data files ------------------------------------------------------------------------


def test_every_pack_rule_belongs_to_an_exploit_family_and_every_family_rule_exists():
    rules = bundled.scenario_rules()
    assert set(PACK.pack.rules_by_id) == set(rules.families_of_rule)


def test_family_atlas_techniques_exist_and_resolve_through_the_pack(shared_data):
    real = atlas_techniques(shared_data)
    in_pack = {i for rule in PACK.pack.rules for i in rule.references.atlas}
    for family in bundled.scenario_rules().families:
        for technique in family.atlas:
            assert technique in real, (family.id, technique)
            assert any(i == technique or i.startswith(technique + ".") for i in in_pack)


def test_templates_use_only_the_placeholders_the_generator_fills():
    allowed = {"signals", "aim", "element", "engine", "sources", "action"}
    rules = bundled.scenario_rules()
    texts = [f.injection for f in rules.families if f.injection]
    texts += [u.aim for u in rules.uca_types.values()] + list(rules.injection_kinds.values())
    for text in texts:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert names <= allowed, text


def test_every_profile_is_used_by_some_family():
    used = {a for family in bundled.scenario_rules().families for a in family.attackers}
    assert used == set(bundled.attacker_profiles().by_id)


def _broken(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


PROFILE_CASES = [
    (
        "reach_score: 0.7",
        "reach_score: 1.7",
        "profiles[adjacent_radio].reach_score",
        "less than or equal",
    ),
    ("        why: a radio link\n", "", "profiles[adjacent_radio].reaches[0].why", "missing"),
    (
        "zone: 'cloud|internet'",
        "zone: 'cloud|(internet'",
        "profiles[internet].reaches[0].zone",
        "regular expression",
    ),
    (
        "access_vector: adjacent",
        "access_vector: nearby",
        "profiles[adjacent_radio].access_vector",
        "adjacent",
    ),
    (
        "  - id: network\n",
        "  - id: adjacent_radio\n",
        "profiles[adjacent_radio].id",
        "defined twice",
    ),
    (
        "        in_process: false\n        why: an IP network channel",
        "        inprocess: false\n        why: an IP network channel",
        "profiles[network].reaches[0].inprocess",
        "unknown field",
    ),
]


@pytest.mark.parametrize("old,new,field,words", PROFILE_CASES, ids=lambda v: str(v)[:30])
def test_a_broken_profile_file_is_refused_naming_line_and_field(old, new, field, words):
    text = _broken(PROFILES_FILE.read_text(encoding="utf-8"), old, new)
    with pytest.raises(InputError) as refused:
        profiles_from_text(text, "profiles.yaml")
    assert refused.value.file == "profiles.yaml"
    matching = [p for p in refused.value.problems if words in p.message + " " + p.fix]
    assert matching and all(p.line for p in refused.value.problems), str(refused.value)
    assert any(p.field == field for p in matching), str(refused.value)


RULE_CASES = [
    (
        "attackers: [adjacent_radio]\n    injections: [suppress, delay]",
        "attackers: [adjacent_radios]\n    injections: [suppress, delay]",
        "families[radio_jamming].attackers[0]",
        "unknown attacker profile",
    ),
    ("    hops: 0.05", "    hops: 0.5", "scoring.weights", "add up to"),
    (
        "  wrong_duration:\n    kinds: [freeze]\n    aim: keeps {action} going too long or ends "
        "it too soon\n",
        "",
        "uca_types",
        "wrong_duration",
    ),
    (
        "    category: evasion\n    engine_entry: upstream_inputs",
        "    category: evasion\n    engine_entry: null",
        "families[adversarial_input].engine_entry",
        "needs an engine_entry",
    ),
    (
        "id: radio_jamming\n    title: Jam the radio link\n    category: null",
        "id: radio_jamming\n    title: Jam the radio link\n    category: fdi",
        "families[radio_jamming].category",
        "leave category null",
    ),
    (
        "injections: [suppress, delay]\n    ease: 0.9",
        "injections: [suppress, squash]\n    ease: 0.9",
        "families[radio_jamming].injections[1]",
        "spoof",
    ),
    ("rules: [TP-WIRELESS-JAMMING]", "rules: [jamming]", "families[radio_jamming].rules[0]", "TP-"),
]


@pytest.mark.parametrize("old,new,field,words", RULE_CASES, ids=lambda v: str(v)[:30])
def test_a_broken_rules_file_is_refused_naming_line_and_field(old, new, field, words):
    text = _broken(RULES_FILE.read_text(encoding="utf-8"), old, new)
    with pytest.raises(InputError) as refused:
        rules_from_text(text, "rules.yaml", bundled.attacker_profiles())
    matching = [p for p in refused.value.problems if words in p.message + " " + p.fix]
    assert matching and all(p.line for p in refused.value.problems), str(refused.value)
    assert any(p.field == field for p in matching), str(refused.value)


def test_a_file_that_is_not_a_mapping_is_refused():
    with pytest.raises(InputError, match="mapping"):
        profiles_from_text("- just\n- a list\n", "list.yaml")
    with pytest.raises(InputError):
        rules_from_text("{broken", "broken.yaml", bundled.attacker_profiles())


_LINES = {
    "profiles": PROFILES_FILE.read_text(encoding="utf-8").splitlines(keepends=True),
    "rules": RULES_FILE.read_text(encoding="utf-8").splitlines(keepends=True),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(["profiles", "rules"]),
    where=st.floats(0, 1, exclude_max=True),
    junk=st.text(alphabet=string.printable, max_size=30),
)
def test_any_mangled_line_loads_or_is_refused_with_a_located_error(which, where, junk):
    lines = list(_LINES[which])
    line = int(where * len(lines))
    lines[line] = (
        re.sub(r":\s.*", lambda _: ": " + junk, lines[line]) if ":" in lines[line] else junk + "\n"
    )
    text = "".join(lines)
    try:
        if which == "profiles":
            profiles_from_text(text, "mangled.yaml")
        else:
            rules_from_text(text, "mangled.yaml", bundled.attacker_profiles())
    except InputError as error:
        assert error.problems and error.file == "mangled.yaml"


# --- the command and the report -------------------------------------------------------------


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_scenarios_command_prints_the_top_ranked_as_json():
    result = _run("scenarios", "bgms", "--top", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["id"] for s in data] == [s.id for s in _assessed(BGMS).scenarios[:3]]
    assert set(data[0]["exploitability"]["parts"]) >= {"reach", "ease", "hops"}


def test_the_scenarios_command_prints_a_table_and_the_counts(tmp_path):
    from mdrisk.kb.store import Store

    Store.open(tmp_path / "no.db").close()  # an empty store: technology-pack rules only
    result = _run("scenarios", str(RETINOPATHY), "--kb", "--store", str(tmp_path / "no.db"))
    assert result.exit_code == 0, result.output
    assert "SC-1" in result.output and "attack scenarios (" in result.output
    assert "inversion" in result.output


def test_the_scenarios_command_refuses_a_bad_model_with_status_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\ndevice: {}\n", encoding="utf-8")
    assert _run("scenarios", str(bad)).exit_code == 2


def test_analyze_prints_the_scenario_count_and_the_report_lists_them(tmp_path):
    result = _run("analyze", str(BGMS), "--out", str(tmp_path / "out"), "--no-svg")
    assert result.exit_code == 0, result.output
    count = int(re.search(r"attack scenarios: (\d+)", result.output).group(1))
    data = json.loads((tmp_path / "out" / "assessment.json").read_text(encoding="utf-8"))
    assert count == len(data["scenarios"]) > 0
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "## Attack scenarios" in report and f"### {data['scenarios'][0]['id']}:" in report


def test_the_report_escapes_model_text_inside_scenarios():
    hostile = BGMS.read_text(encoding="utf-8").replace(
        "description: More insulin is delivered than the patient's glucose calls for "
        "(hypoglycaemia)",
        'description: "More insulin <script>|x| `code` [link](http://x)"',
    )
    assessment = _assessed_text(hostile, "hostile.yaml")
    assert any("H-1" in s.hazards for s in assessment.scenarios[:10])
    report = render_markdown(assessment)
    section = report[report.index("## Attack scenarios") :]
    assert "<script>" not in section and "\\<script\\>\\|x\\| \\`code\\`" in section
