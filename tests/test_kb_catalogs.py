"""Threat catalogues (CWE, CAPEC, ATT&CK Enterprise and ICS, ATLAS) and the enrichment chain:
what the analyst finds in the knowledge base after importing MITRE's files, the chain
CVE -> CWE -> CAPEC -> ATT&CK technique -> mitigation, and how a broken or hostile catalogue is
refused (file and record named, nothing written).

Real data: ../shared/data/mitre-* (the ``shared_data`` fixture). Counts are recomputed here
from the raw files with xml.etree, json and yaml, independently of the importers. The corpus
under tests/corpus/kb/catalogs is hand-made.
"""

from __future__ import annotations

import copy
import json
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.kb.enrich import (
    VulnerabilityEnrichment,
    chain_for_weakness,
    describe,
    enrich_vulnerability,
)
from mdrisk.kb.importers.atlas import AtlasImporter
from mdrisk.kb.importers.attack import AttackImporter
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.importers.capec import CapecImporter
from mdrisk.kb.importers.cwe import CweImporter
from mdrisk.kb.importers.registry import all_importers, detect, read_head
from mdrisk.kb.importing import ImportRefused, import_paths
from mdrisk.kb.records import (
    ADVISORY,
    EPSS,
    KEV,
    REL_ADVISORY,
    REL_CWE,
    VULNERABILITY,
    ImportBatch,
    Record,
    Relation,
)
from mdrisk.kb.store import ParsedFile, Store

CORPUS = Path(__file__).parent / "corpus" / "kb" / "catalogs"
VALID = CORPUS / "valid"
MALFORMED = CORPUS / "malformed"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (MALFORMED / "expected.yaml").read_text("utf-8")
)
MALFORMED_FILES = sorted(p for p in MALFORMED.iterdir() if p.name != "expected.yaml")
IMPORTERS: dict[str, type[Importer]] = {
    "cwe": CweImporter,
    "capec": CapecImporter,
    "attack": AttackImporter,
    "atlas": AtlasImporter,
}
CWE_NS = "{http://cwe.mitre.org/cwe-7}"

CWE_XML = "mitre-cwe/cwec_v4.14.xml"
CAPEC_JSON = "mitre-capec/stix-capec-2.1-assembled.json"
ENTERPRISE_JSON = "mitre-attack-enterprise/enterprise-attack-18.1-stix20-assembled.json"
ICS_JSON = "mitre-attack-ics/ics-attack-18.1.json"
ATLAS_YAML = "mitre-atlas/ATLAS.yaml"
CATALOGS = (CWE_XML, CAPEC_JSON, ENTERPRISE_JSON, ICS_JSON, ATLAS_YAML)


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def _import(store: Store, *paths: Path) -> None:
    import_paths(store, list(paths))


def _valid_store() -> Store:
    store = Store.in_memory()
    _import(store, VALID)
    return store


# --- the real catalogues, read independently ----------------------------------------------


def _live(obj: dict[str, Any]) -> bool:
    return (
        not obj.get("revoked")
        and not obj.get("x_mitre_deprecated")
        and obj.get("x_capec_status") not in ("Deprecated", "Obsolete")
    )


def _external_id(obj: dict[str, Any], *sources: str) -> str | None:
    return next(
        (
            ref["external_id"]
            for ref in obj.get("external_references", [])
            if ref.get("source_name") in sources and "external_id" in ref
        ),
        None,
    )


def _bundle(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text("utf-8"))["objects"]


def _attack_mitigations(objects: list[dict[str, Any]], technique: str) -> set[str]:
    """ATT&CK ids of live mitigations with a live 'mitigates' relationship to a technique."""
    by_stix = {o["id"]: o for o in objects}
    target = next(
        o["id"]
        for o in objects
        if o["type"] == "attack-pattern"
        and _live(o)
        and _external_id(o, "mitre-attack") == technique
    )
    return {
        _external_id(by_stix[r["source_ref"]], "mitre-attack")
        for r in objects
        if r["type"] == "relationship"
        and r["relationship_type"] == "mitigates"
        and _live(r)
        and r["target_ref"] == target
        and _live(by_stix[r["source_ref"]])
    }


@pytest.fixture(scope="module")
def catalog_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base holding the five catalogues, imported through the CLI."""
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    result = CliRunner().invoke(
        main, ["kb", "import", *(str(shared_data / c) for c in CATALOGS), "--store", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture()
def store(catalog_store: Path):
    with Store.open(catalog_store) as opened:
        yield opened


@pytest.mark.shared_data
def test_every_cwe_weakness_and_category_is_imported(shared_data: Path, store: Store):
    root = ElementTree.parse(shared_data / CWE_XML).getroot()
    weaknesses = {f"CWE-{w.get('ID')}" for w in root.iter(f"{CWE_NS}Weakness")}
    categories = {f"CWE-{c.get('ID')}" for c in root.iter(f"{CWE_NS}Category")}
    records = list(store.records("weakness"))
    assert {r.id for r in records if r.data["entry_type"] == "weakness"} == weaknesses
    assert {r.id for r in records if r.data["entry_type"] == "category"} == categories
    assert len(weaknesses) == 963 and len(categories) == 409  # as SOURCE.md counts them


@pytest.mark.shared_data
def test_cwe_287_reads_as_in_the_catalogue(store: Store):
    (record,) = store.get("CWE-287")
    assert record.data["name"] == "Improper Authentication"
    assert record.data["abstraction"] == "Class"
    assert record.data["likelihood"] == "High"
    assert record.data["primary_parent"] == "CWE-284"
    assert "Libraries or Frameworks" in {
        m["strategy"] for m in record.data["potential_mitigations"]
    }
    assert {"CAPEC-114", "CAPEC-115", "CAPEC-94"} <= set(record.data["capecs"])


@pytest.mark.shared_data
def test_live_capec_patterns_are_imported_and_deprecated_ones_left_out(
    shared_data: Path, store: Store
):
    objects = _bundle(shared_data / CAPEC_JSON)
    live = {_external_id(o, "capec") for o in objects if o["type"] == "attack-pattern" and _live(o)}
    retired = {
        _external_id(o, "capec") for o in objects if o["type"] == "attack-pattern" and not _live(o)
    }
    assert len(live) == 558 and len(retired) == 57
    assert {r.id for r in store.records("attack_pattern")} == live
    assert not any(store.has(capec) for capec in retired)
    live_stix = {o["id"] for o in objects if o["type"] == "attack-pattern" and _live(o)}
    mitigating = {
        r["source_ref"]
        for r in objects
        if r["type"] == "relationship" and r["target_ref"] in live_stix
    }
    capec_mitigations = {
        r.id for r in store.records("mitigation") if r.data["framework"] == "capec"
    }
    assert capec_mitigations == mitigating


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("catalog", "framework"), [(ENTERPRISE_JSON, "attack-enterprise"), (ICS_JSON, "attack-ics")]
)
def test_live_attack_techniques_tactics_and_mitigations_are_imported(
    shared_data: Path, store: Store, catalog: str, framework: str
):
    objects = _bundle(shared_data / catalog)

    def live_ids(kind: str) -> set[str]:
        return {
            _external_id(o, "mitre-attack", "mitre-ics-attack")
            for o in objects
            if o["type"] == kind and _live(o)
        } - {None}

    for stix_type, kind in (
        ("attack-pattern", "technique"),
        ("x-mitre-tactic", "tactic"),
        ("course-of-action", "mitigation"),
    ):
        stored = {r.id for r in store.records(kind) if r.data["framework"] == framework}
        assert stored == live_ids(stix_type), kind
    expected = {ENTERPRISE_JSON: 691, ICS_JSON: 83}[catalog]  # as SOURCE.md counts them
    assert len(live_ids("attack-pattern")) == expected


@pytest.mark.shared_data
def test_every_atlas_entry_is_imported(shared_data: Path, store: Store):
    atlas = yaml.safe_load((shared_data / ATLAS_YAML).read_text("utf-8"))
    matrix = atlas["matrices"][0]
    for key, kind in (
        ("techniques", "technique"),
        ("tactics", "tactic"),
        ("mitigations", "mitigation"),
    ):
        stored = {r.id for r in store.records(kind) if r.data["framework"] == "atlas"}
        assert stored == {item["id"] for item in matrix[key]}, kind
    assert {r.id for r in store.records("case_study")} == {c["id"] for c in atlas["case-studies"]}
    assert len(matrix["techniques"]) == 170  # 101 techniques + 69 sub-techniques


@pytest.mark.shared_data
def test_atlas_mitigations_link_to_the_techniques_they_name(shared_data: Path, store: Store):
    matrix = yaml.safe_load((shared_data / ATLAS_YAML).read_text("utf-8"))["matrices"][0]
    named = {
        m["id"]
        for m in matrix["mitigations"]
        if any(isinstance(use, dict) and use.get("id") == "AML.T0043" for use in m["techniques"])
    }
    assert {r.dst for r in store.relations(src="AML.T0043", rel="mitigated_by")} == named
    assert [r.dst for r in store.relations(src="AML.T0043.003", rel="child_of")] == ["AML.T0043"]
    # ATLAS 5.6 indents two technique uses of AML.T0052.001 into 'ml-lifecycle'; kept.
    assert {r.dst for r in store.relations(src="AML.T0052.001", rel="mitigated_by")} >= {
        "AML.M0018",
        "AML.M0034",
    }


# --- the chain, hand-checked on the real data ---------------------------------------------


@pytest.mark.shared_data
def test_improper_authentication_leads_to_authentication_abuse_and_its_mitigations(
    shared_data: Path, store: Store
):
    chain = chain_for_weakness(store, "CWE-287")
    capecs = {c.id: c for c in chain.capecs}
    techniques = {t.id: t for t in chain.techniques}
    mitigations = {m.id: m for m in chain.mitigations}
    # CWE-287 -> CAPEC-114 Authentication Abuse -> T1548 Abuse Elevation Control Mechanism
    #         -> M1026 Privileged Account Management
    assert capecs["CAPEC-114"].name == "Authentication Abuse"
    assert capecs["CAPEC-114"].via == ("CWE-287",)
    assert techniques["T1548"].name == "Abuse Elevation Control Mechanism"
    assert "CAPEC-114" in techniques["T1548"].via
    assert mitigations["M1026"].name == "Privileged Account Management"
    assert "T1548" in mitigations["M1026"].via
    # CWE-287 -> CAPEC-94 Adversary in the Middle -> T1557 -> M1041 Encrypt Sensitive Information
    assert techniques["T1557"].via == ("CAPEC-94",)
    assert mitigations["M1041"].name == "Encrypt Sensitive Information"
    # The technique's mitigations are exactly ATT&CK's live 'mitigates' relationships.
    enterprise = _bundle(shared_data / ENTERPRISE_JSON)
    assert {m for m, entry in mitigations.items() if "T1548" in entry.via} == _attack_mitigations(
        enterprise, "T1548"
    )


@pytest.mark.shared_data
def test_the_capecs_of_a_weakness_are_what_cwe_and_capec_both_say(shared_data: Path, store: Store):
    root = ElementTree.parse(shared_data / CWE_XML).getroot()
    weakness = next(w for w in root.iter(f"{CWE_NS}Weakness") if w.get("ID") == "287")
    from_cwe = {
        f"CAPEC-{p.get('CAPEC_ID')}" for p in weakness.iter(f"{CWE_NS}Related_Attack_Pattern")
    }
    from_capec = {
        _external_id(o, "capec")
        for o in _bundle(shared_data / CAPEC_JSON)
        if o["type"] == "attack-pattern"
        and _live(o)
        and any(r.get("external_id") == "CWE-287" for r in o["external_references"])
    }
    assert {c.id for c in chain_for_weakness(store, "cwe-287").capecs} == from_cwe | from_capec


@pytest.mark.shared_data
def test_a_weakness_without_attack_patterns_borrows_its_research_parents(store: Store):
    # CWE-787 Out-of-bounds Write has no CAPEC of its own; CWE-119 (its parent) has.
    chain = chain_for_weakness(store, "CWE-787")
    weaknesses = {w.id: w for w in chain.weaknesses}
    assert weaknesses["CWE-119"].via == ("CWE-787",)
    assert chain.capecs and all(c.via == ("CWE-119",) for c in chain.capecs)
    assert chain_for_weakness(store, "CWE-787", inherit=False).capecs == ()


@pytest.mark.shared_data
def test_an_ics_technique_shows_its_tactic_and_mitigations(shared_data: Path, store: Store):
    shown = describe(store, "t0830")
    assert shown is not None and shown["id"] == "T0830"
    assert shown["name"] == "Adversary-in-the-Middle" and shown["framework"] == "attack-ics"
    assert [(t["id"], t["name"]) for t in shown["tactics"]] == [("TA0100", "Collection")]
    assert {m["id"] for m in shown["mitigations"]} == _attack_mitigations(
        _bundle(shared_data / ICS_JSON), "T0830"
    )
    assert "M0802" in {m["id"] for m in shown["mitigations"]}  # Communication Authenticity


@pytest.mark.shared_data
def test_a_sub_technique_names_its_parent(store: Store):
    shown = describe(store, "T1557.002")
    assert shown["parent"]["id"] == "T1557" and shown["name"] == "ARP Cache Poisoning"
    assert "T1557.002" in {t["id"] for t in describe(store, "T1557")["subtechniques"]}


# --- repeatable, recognisable ----------------------------------------------------------------


@pytest.mark.shared_data
def test_importing_the_catalogues_again_changes_nothing(shared_data: Path, catalog_store: Path):
    with Store.open(catalog_store) as opened:
        before = opened.content_digest()
    result = CliRunner().invoke(
        main,
        ["kb", "import", *(str(shared_data / c) for c in CATALOGS), "--store", str(catalog_store)],
    )
    assert result.exit_code == 0, result.output
    assert "unchanged: 5 file(s)" in result.output and "0 document(s) written" in result.output
    with Store.open(catalog_store) as opened:
        assert opened.content_digest() == before


@pytest.mark.shared_data
@pytest.mark.parametrize("catalog", [CWE_XML, CAPEC_JSON, ICS_JSON, ATLAS_YAML])
def test_parsing_is_deterministic(shared_data: Path, catalog: str):
    importer = detect(shared_data / catalog)
    assert importer().parse(shared_data / catalog) == importer().parse(shared_data / catalog)


@pytest.mark.shared_data
@pytest.mark.parametrize("catalog", CATALOGS)
def test_each_catalogue_is_recognised_by_exactly_one_importer(shared_data: Path, catalog: str):
    path = shared_data / catalog
    head = read_head(path)
    claimed = [i.name for i in all_importers() if i.sniff(head, path)]
    expected = {CWE_XML: "cwe", CAPEC_JSON: "capec", ATLAS_YAML: "atlas"}.get(catalog, "attack")
    assert claimed == [expected]


@pytest.mark.shared_data
@pytest.mark.parametrize("view", ["1000.csv", "699.csv", "1194.csv"])
def test_the_cwe_csv_views_are_deliberately_not_imported(shared_data: Path, view: str):
    # They repeat the XML catalogue of the same release; a folder import skips them.
    assert detect(shared_data / "mitre-cwe" / view) is None


@pytest.mark.shared_data
def test_kb_show_prints_a_weakness_and_a_technique(catalog_store: Path):
    runner = CliRunner()
    shown = runner.invoke(main, ["kb", "show", "CWE-287", "--store", str(catalog_store)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("CWE-287  (weakness)")
    assert "name: Improper Authentication" in shown.output
    assert (
        '"id": "CAPEC-22", "kind": "attack_pattern", "name": "Exploiting Trust in Client"'
        in shown.output
    )
    shown = runner.invoke(main, ["kb", "show", "T0830", "--json", "--store", str(catalog_store)])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["name"] == "Adversary-in-the-Middle" and data["kinds"] == ["technique"]
    missing = runner.invoke(main, ["kb", "show", "CWE-99999", "--store", str(catalog_store)])
    assert missing.exit_code == 2 and "not in the knowledge base" in missing.output


# --- the whole shared-data folder, CVEs included ----------------------------------------------


@pytest.fixture(scope="module")
def everything_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb-all") / "kb.sqlite"
    result = CliRunner().invoke(main, ["kb", "import", str(shared_data), "--store", str(path)])
    assert result.exit_code == 0, result.output
    for view in ("1000.csv", "699.csv", "1194.csv"):
        assert f"mitre-cwe/{view}: not a knowledge-base format" in result.output
    return path


@pytest.mark.shared_data
def test_a_ble_ecg_monitor_cve_is_enriched_end_to_end(everything_store: Path):
    with Store.open(everything_store) as opened:
        enrichment = enrich_vulnerability(opened, "cve-2024-32368")
    # Agasta Sanketlife ECG monitor: CWE-276 Incorrect Default Permissions (CISA ADP)
    assert enrichment.id == "CVE-2024-32368" and enrichment.kev is False
    assert [c.id for c in enrichment.cwes] == ["CWE-276"]
    assert enrichment.cvss_vectors("3.1") == ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N"]
    capecs = {c.id: c for c in enrichment.capecs}
    assert capecs["CAPEC-1"].via == ("CWE-276",)
    techniques = {t.id: t for t in enrichment.techniques}
    assert techniques["T1574.010"].via == ("CAPEC-1",)  # Services File Permissions Weakness
    assert "M1018" in {m.id for m in enrichment.mitigations}  # User Account Management


@pytest.mark.shared_data
def test_a_known_exploited_cve_carries_its_kev_dates(everything_store: Path):
    with Store.open(everything_store) as opened:
        enrichment = enrich_vulnerability(opened, "CVE-2021-44228")
        shown = describe(opened, "CVE-2021-44228")
    assert enrichment.kev and enrichment.kev_date_added == "2021-12-10"
    assert enrichment.kev_due_date == "2021-12-24"
    assert {"CWE-20", "CWE-502"} <= {c.id for c in enrichment.cwes}
    assert shown["kev"]["date_added"] == "2021-12-10" and shown["capecs"]


@pytest.mark.shared_data
def test_a_csaf_advisory_cve_names_its_advisory(everything_store: Path):
    with Store.open(everything_store) as opened:
        relation = opened.relations(rel=REL_ADVISORY)[0]
        enrichment = enrich_vulnerability(opened, relation.src)
    assert relation.dst in {a.id for a in enrichment.advisories}
    assert all(a.title for a in enrichment.advisories)


# --- the hand-made corpus: valid files ----------------------------------------------------


def test_stix_2_0_and_2_1_bundles_both_import():
    store = _valid_store()
    t1548 = store.get("T1548")[0].data
    assert t1548["framework"] == "attack-enterprise"
    assert t1548["tactics"] == ["TA0004", "TA0005"]
    assert t1548["tactic_names"] == ["Privilege Escalation", "Defense Evasion"]
    t0830 = store.get("T0830")[0].data
    assert t0830["framework"] == "attack-ics" and t0830["tactics"] == ["TA0100"]
    assert [r.dst for r in store.relations(src="T0830")] == ["M0802"]


def test_revoked_and_deprecated_objects_are_left_out_and_counted():
    attack, capec = AttackImporter(), CapecImporter()
    attack_batch = attack.parse(VALID / "attack-enterprise-mini-stix20.json")[0]
    capec_batch = capec.parse(VALID / "capec-mini.json")[0]
    assert "T1088" not in {r.id for r in attack_batch.records}  # revoked
    assert "T1174" not in {r.id for r in attack_batch.records}  # a deprecated mitigation
    # A revoked relationship and one from a deprecated mitigation are left out too.
    assert {r.dst for r in attack_batch.relations if r.src == "T1548"} == {"M1026"}
    assert attack.skipped == {
        "revoked or deprecated attack-pattern objects": 1,
        "revoked or deprecated course-of-action objects": 1,
    }
    assert "CAPEC-409" not in {r.id for r in capec_batch.records}
    assert capec.skipped["deprecated or obsolete attack patterns"] == 1


def test_attack_and_capec_bundles_are_told_apart():
    claims = {
        path.name: [i.name for i in all_importers() if i.sniff(read_head(path), path)]
        for path in VALID.iterdir()
    }
    assert claims == {
        "atlas-mini.yaml": ["atlas"],
        "capec-mini.json": ["capec"],
        "attack-enterprise-mini-stix20.json": ["attack"],
        "attack-ics-mini-stix21.json": ["attack"],
        "cwe-mini.xml": ["cwe"],
    }


def test_a_capec_pattern_keeps_its_links_and_summary():
    store = _valid_store()
    data = store.get("CAPEC-114")[0].data
    assert data["cwes"] == ["CWE-287"] and data["techniques"] == ["T1548"]
    assert data["execution_flow"] == [
        {"phase": "Explore", "steps": ["Find the login"]},
        {"phase": "Exploit", "steps": ["Abuse it"]},
    ]
    assert data["skills_required"] == {"Low": "Knows the protocol."}
    assert [r.dst for r in store.relations(src="CAPEC-115", rel="child_of")] == ["CAPEC-114"]
    (mitigation,) = [r for r in store.records("mitigation") if r.data["framework"] == "capec"]
    assert mitigation.data["name"] == "Use strong, vetted authentication."
    assert mitigation.data["label"] == "coa-114-0"


def test_cwe_categories_are_weakness_entries_with_members():
    store = _valid_store()
    category = store.get("CWE-1211")[0].data
    assert category["entry_type"] == "category" and category["members"] == ["CWE-287", "CWE-306"]
    assert store.get("CWE-306")[0].data["categories"] == ["CWE-1211"]
    assert store.get("CWE-71")[0].data["status"] == "Deprecated"  # kept: old CVEs cite it
    assert store.get("CWE-287")[0].data["extended_description"] == "Written for the test corpus."


# --- enrichment on records written directly -----------------------------------------------

CVE = "CVE-2099-0306"


def _store_with_a_cve() -> Store:
    store = _valid_store()
    batch = ImportBatch(
        "test",
        "test:cve",
        records=[
            Record(
                VULNERABILITY,
                CVE,
                {
                    "description": "Missing authentication on the pump's BLE service.",
                    "published": "2099-01-02",
                    "cwes": ["CWE-306"],
                    "cvss": [
                        {
                            "version": "3.1",
                            "vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "score": 8.8,
                            "source": "cna",
                        },
                        {
                            "version": "4.0",
                            "vector": "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/"
                            "VA:H/SC:N/SI:N/SA:N",
                            "score": 8.7,
                            "source": "cna",
                        },
                    ],
                },
            ),
            Record(
                KEV,
                CVE,
                {
                    "date_added": "2099-02-01",
                    "due_date": "2099-02-22",
                    "ransomware": "Known",
                    "required_action": "Apply the update.",
                    "cwes": ["CWE-306"],
                },
            ),
            Record(
                ADVISORY,
                "ICSMA-99-001-01",
                {"title": "Test Pump", "url": "https://example.org/a", "published": "2099-01-02"},
            ),
        ],
        relations=[
            Relation(CVE, REL_CWE, "CWE-306"),
            Relation(CVE, REL_ADVISORY, "ICSMA-99-001-01"),
        ],
    )
    scores = [
        ImportBatch(
            "test",
            f"test:epss:{day}",
            records=[Record(EPSS, CVE, {"epss": value, "percentile": percentile, "date": day})],
        )
        for day, value, percentile in (("2099-03-01", 0.1, 0.5), ("2099-03-02", 0.2, 0.6))
    ]
    store.write([ParsedFile(Path("test"), "test", "sha", [batch, *scores])])
    return store


def test_a_cve_is_enriched_with_kev_epss_cvss_and_the_whole_chain():
    enrichment = enrich_vulnerability(_store_with_a_cve(), CVE.lower())
    assert isinstance(enrichment, VulnerabilityEnrichment)
    assert enrichment.kev and enrichment.kev_date_added == "2099-02-01"
    assert enrichment.kev_ransomware == "Known" and enrichment.kev_due_date == "2099-02-22"
    assert (enrichment.epss, enrichment.epss_percentile, enrichment.epss_date) == (
        0.2,
        0.6,
        "2099-03-02",
    )  # the latest score
    assert enrichment.cvss_vectors("3") == ["CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]
    assert enrichment.cvss_vectors("4.0")[0].startswith("CVSS:4.0/AV:A")
    # CWE-306 has no attack pattern of its own: it borrows those of CWE-287, its parent.
    assert [(c.id, c.via) for c in enrichment.cwes] == [("CWE-287", ("CWE-306",)), ("CWE-306", ())]
    assert [(c.id, c.via) for c in enrichment.capecs] == [
        ("CAPEC-114", ("CWE-287",)),
        ("CAPEC-115", ("CWE-287",)),
    ]
    assert [(t.id, t.via) for t in enrichment.techniques] == [("T1548", ("CAPEC-114",))]
    mitigations = {m.id: m.via for m in enrichment.mitigations}
    assert mitigations["M1026"] == ("T1548",)
    assert mitigations["course-of-action--20000000-0000-4000-8000-000000000001"] == ("CAPEC-114",)
    assert [(a.id, a.title) for a in enrichment.advisories] == [("ICSMA-99-001-01", "Test Pump")]
    assert json.loads(enrichment.model_dump_json())["kev"] is True


def test_an_unknown_cve_is_enriched_with_nothing():
    enrichment = enrich_vulnerability(_valid_store(), "CVE-2099-9999")
    assert enrichment.sources == () and not enrichment.kev and enrichment.epss is None
    assert enrichment.cwes == () and enrichment.techniques == ()


def test_describe_a_cve_a_weakness_a_pattern_a_technique_and_a_mitigation():
    store = _store_with_a_cve()
    cve = describe(store, CVE)
    assert cve["kinds"] == ["epss", "kev", "vulnerability"]
    assert cve["kev"]["date_added"] == "2099-02-01" and cve["epss"]["epss"] == 0.2
    assert {c["id"] for c in cve["capecs"]} == {"CAPEC-114", "CAPEC-115"}
    weakness = describe(store, "cwe-287")
    assert [p["id"] for p in weakness["parents"]] == ["CWE-284"]
    assert [c["id"] for c in weakness["children"]] == ["CWE-306"]
    assert describe(store, "CWE-306")["vulnerabilities"] == [CVE]
    pattern = describe(store, "CAPEC-114")
    assert [c["id"] for c in pattern["cwes"]] == ["CWE-287"]
    assert [t["id"] for t in pattern["techniques"]] == ["T1548"]
    assert {m["id"] for m in pattern["mitigations"]} >= {"M1026"}
    technique = describe(store, "t1548")
    assert [t["name"] for t in technique["tactics"]] == ["Privilege Escalation", "Defense Evasion"]
    assert [s["id"] for s in technique["subtechniques"]] == ["T1548.002"]
    assert [c["id"] for c in technique["capecs"]] == ["CAPEC-114"]
    assert describe(store, "T1548.002")["parent"]["id"] == "T1548"
    assert [m["id"] for m in describe(store, "M1026")["mitigates"]] == ["T1548", "T1548.002"]
    assert [t["id"] for t in describe(store, "TA0004")["techniques"]] == ["T1548", "T1548.002"]
    atlas = describe(store, "aml.t0043")
    assert [c["id"] for c in atlas["case_studies"]] == ["AML.CS0000"]  # via AML.T0043.003
    assert [m["id"] for m in atlas["mitigations"]] == ["AML.M0015"]
    assert describe(store, "NOT-AN-ID") is None
    json.dumps([describe(store, i) for i in (CVE, "CWE-287", "T1548", "AML.CS0000")])


# --- the hand-made corpus: malformed and hostile files ------------------------------------


def test_the_corpus_is_large_enough_and_fully_described():
    assert len(MALFORMED_FILES) >= 40
    assert sorted(EXPECTED) == _ids(MALFORMED_FILES)


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=_ids(MALFORMED_FILES))
def test_a_broken_catalogue_is_refused_naming_file_and_record(path: Path):
    expected = EXPECTED[path.name]
    importer = detect(path)
    assert importer is IMPORTERS[expected["importer"]], "recognised from its first bytes"
    with pytest.raises(InputError) as caught:
        importer().parse(path)
    error = caught.value
    assert error.file == str(path)
    (problem,) = error.problems
    assert expected["message"] in problem.message
    assert problem.field == expected.get("record", "")
    assert problem.line == expected.get("line")
    assert expected["fix"] in problem.fix and problem.fix
    assert "root:" not in str(error)  # nothing of /etc/passwd was read


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=_ids(MALFORMED_FILES))
def test_a_refused_file_leaves_the_store_unchanged(path: Path):
    store = _valid_store()
    before = store.content_digest()
    with pytest.raises(ImportRefused) as caught:
        import_paths(store, [VALID / "capec-mini.json", path])
    assert [error.file for error in caught.value.errors] == [str(path)]
    assert store.content_digest() == before


def test_the_cli_refuses_a_hostile_file_with_exit_2_and_no_traceback(tmp_path: Path):
    store = tmp_path / "kb.sqlite"
    result = CliRunner().invoke(
        main,
        ["kb", "import", str(VALID), str(MALFORMED / "cwe-xxe-file.xml"), "--store", str(store)],
    )
    assert result.exit_code == 2
    assert "cwe-xxe-file.xml:2: document type: a DOCTYPE declaration refused" in result.output
    assert "Traceback" not in result.output and "nothing was imported" in result.output
    with Store.open(store) as opened:
        assert opened.snapshots() == []


# --- fuzzing ------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "CWE-287",
            "CAPEC-114",
            "T1548",
            "AML.T0043",
            "attack-pattern--",
            "<b>x</b>",
            "<![x[",
            "revoked",
        ]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replace(value: Any, path: tuple, new: Any, delete: bool) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    holder = copied
    for key in path[:-1]:
        holder = holder[key]
    if delete:
        del holder[path[-1]]
    else:
        holder[path[-1]] = new
    return copied


def _parses_or_refuses(importer: type[Importer], suffix: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(content)
        try:
            batches = importer().parse(path)
        except InputError as error:
            assert error.file == str(path) and error.problems
            return
    for batch in batches:  # what parses must be storable
        json.dumps([r.data for r in batch.records])
        assert all(isinstance(r.id, str) and r.id for r in batch.records)
        assert all(isinstance(x, str) for r in batch.relations for x in (r.src, r.rel, r.dst))


_STRUCTURED: list[tuple[str, type[Importer], Callable[[str], Any], Callable[[Any], str]]] = [
    ("capec-mini.json", CapecImporter, json.loads, json.dumps),
    ("attack-enterprise-mini-stix20.json", AttackImporter, json.loads, json.dumps),
    ("attack-ics-mini-stix21.json", AttackImporter, json.loads, json.dumps),
    (
        "atlas-mini.yaml",
        AtlasImporter,
        lambda text: yaml.load(text, Loader=yaml.BaseLoader),
        lambda data: yaml.safe_dump(data, sort_keys=False),
    ),
]


@pytest.mark.parametrize(
    ("name", "importer", "load", "dump"), _STRUCTURED, ids=[s[0] for s in _STRUCTURED]
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_record_is_imported_or_refused_never_crashes(name, importer, load, dump, data):
    original = load((VALID / name).read_text("utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(original)
        path = data.draw(st.sampled_from(paths))
        delete = bool(path) and data.draw(st.booleans())
        original = _replace(original, path, data.draw(_VALUES), delete)
    _parses_or_refuses(importer, Path(name).suffix, dump(original).encode("utf-8"))


_ALL_VALID = sorted(VALID.iterdir())


@pytest.mark.parametrize("path", _ALL_VALID, ids=_ids(_ALL_VALID))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_bytes_are_imported_or_refused_never_crash(path: Path, data):
    content = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(content)))
        action = data.draw(st.sampled_from(["truncate", "insert", "replace", "delete"]))
        chunk = data.draw(
            st.binary(min_size=1, max_size=8)
            | st.sampled_from(
                [
                    b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
                    b"&a;",
                    b"*a",
                    b"&a [",
                    b"{",
                    b"]",
                    b"\x00",
                    b"\xff",
                    b'"',
                    b"NaN",
                ]
            )
        )
        if action == "truncate":
            content = content[:at]
        elif action == "insert":
            content[at:at] = chunk
        elif action == "replace":
            content[at : at + len(chunk)] = chunk
        else:
            del content[at : at + 8]
    _parses_or_refuses(detect(path), path.suffix, bytes(content))
