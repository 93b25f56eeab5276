"""Importing vulnerability and SBOM files: what the analyst finds in the knowledge base
afterwards, and how a broken file is refused (file and record named, nothing written).

Real data: CISA CSAF medical advisories, CVE 5 records with CISA vulnrichment, the KEV catalog
and two medical-device SBOMs (../shared/data). NVD and EPSS have no real file there; their
fixtures under tests/corpus/kb/ are hand-written. Counts are recomputed here from the raw files
with the json/csv modules, independently of the importers.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.kb.importers.base import HEAD_BYTES, Importer
from mdrisk.kb.importers.csaf import CsafImporter
from mdrisk.kb.importers.cve5 import Cve5Importer
from mdrisk.kb.importers.cyclonedx import CycloneDxImporter
from mdrisk.kb.importers.epss import EpssImporter
from mdrisk.kb.importers.kev import KevImporter
from mdrisk.kb.importers.nvd import NvdImporter
from mdrisk.kb.importers.registry import detect, read_head
from mdrisk.kb.importing import ImportRefused, import_paths
from mdrisk.kb.records import AffectedEntry
from mdrisk.kb.store import Store

CORPUS = Path(__file__).parent / "corpus" / "kb"
MALFORMED = CORPUS / "vulns" / "malformed"
VALID = CORPUS / "vulns" / "valid"
NVD_FIXTURE = CORPUS / "nvd" / "nvd-cves-handwritten.json"
EPSS_FIXTURE = CORPUS / "epss" / "epss_scores-handwritten.csv"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (MALFORMED / "expected.yaml").read_text("utf-8")
)
OURS: tuple[type[Importer], ...] = (
    CsafImporter,
    Cve5Importer,
    CycloneDxImporter,
    EpssImporter,
    KevImporter,
    NvdImporter,
)
IMPORTER_BY_PREFIX = {
    "csaf": CsafImporter,
    "cve5": Cve5Importer,
    "cyclonedx": CycloneDxImporter,
    "epss": EpssImporter,
    "kev": KevImporter,
    "nvd": NvdImporter,
}


# --- the real data, read independently ------------------------------------------------------


def _csaf_files(data: Path) -> list[Path]:
    return sorted((data / "cisa-csaf-icsma").glob("*/*.json"))


def _cve_files(data: Path) -> list[Path]:
    return sorted((data / "cve-records-vulnrichment" / "records").glob("*.json"))


def _sbom_files(data: Path) -> list[Path]:
    return sorted((data / "medical-device-sboms").glob("*.cdx.json"))


def _kev_files(data: Path) -> list[Path]:
    folder = data / "cisa-kev"
    return [
        folder / "known_exploited_vulnerabilities.json",
        folder / "known_exploited_vulnerabilities.csv",
    ]


def _our_folders(data: Path) -> list[Path]:
    return [
        data / "cisa-csaf-icsma",
        data / "cve-records-vulnrichment",
        data / "cisa-kev",
        data / "medical-device-sboms",
    ]


def _csaf_leaves(branch: dict, path: tuple[str, ...] = ()):
    """(names on the way down, category, product id) of every product in a branch."""
    names = path + (branch["name"],)
    if "product" in branch:
        yield names, branch["category"], branch["product"]["product_id"]
    for child in branch.get("branches", []):
        yield from _csaf_leaves(child, names)


@pytest.fixture(scope="session")
def real_store(shared_data: Path) -> Store:
    """Every real file of our formats plus the NVD and EPSS fixtures, imported once."""
    store = Store.in_memory()
    import_paths(store, _our_folders(shared_data) + [NVD_FIXTURE, EPSS_FIXTURE])
    return store


def _entries(store: Store, vuln_id: str, product: str) -> list[AffectedEntry]:
    return [entry for entry in store.affected(vuln_id) if entry.product == product]


# --- recognising files by content ------------------------------------------------------------


def test_each_real_file_is_recognised_by_its_content(shared_data, tmp_path):
    expected = (
        [(path, "csaf") for path in _csaf_files(shared_data)]
        + [(path, "cve5") for path in _cve_files(shared_data)]
        + [(path, "kev") for path in _kev_files(shared_data)]
        + [(path, "cyclonedx") for path in _sbom_files(shared_data)]
    )
    assert len(expected) == 124 + 230 + 2 + 2
    for path, name in expected:
        claimed = [importer.name for importer in OURS if importer.sniff(read_head(path), path)]
        assert claimed == [name], path
    renamed = tmp_path / "no-extension"
    shutil.copy(_cve_files(shared_data)[0], renamed)
    assert detect(renamed) is Cve5Importer


def test_files_of_other_formats_are_not_claimed(shared_data):
    ours = {
        *_csaf_files(shared_data),
        *_cve_files(shared_data),
        *_kev_files(shared_data),
        *_sbom_files(shared_data),
    }
    others = [
        path for path in sorted(shared_data.rglob("*")) if path.is_file() and path not in ours
    ]
    names = {path.name for path in others}
    assert {
        "known_exploited_vulnerabilities_schema.json",
        "index.csv",
        "SOURCE.md",
        "CISA_ICS_ADV_Master.csv",
        "ai-ml-enabled-devices-enriched.json",
        "ai-ml-enabled-devices-xml.xml",
        "maude_wide_sample.json",
        "1000.csv",
        "cwec_v4.14.xml",
        "ATLAS.yaml",
        "ics-attack-18.1.json",
    } <= names
    for path in others:
        head = read_head(path)
        assert not [importer.name for importer in OURS if importer.sniff(head, path)], path


def test_a_truncated_head_is_still_recognised(shared_data):
    samples = [
        (_csaf_files(shared_data)[0], CsafImporter),
        (_cve_files(shared_data)[0], Cve5Importer),
        (_sbom_files(shared_data)[0], CycloneDxImporter),
        (NVD_FIXTURE, NvdImporter),
        (EPSS_FIXTURE, EpssImporter),
    ]
    samples += [(path, KevImporter) for path in _kev_files(shared_data)]
    for path, importer in samples:
        head = read_head(path)[:1500]
        assert [i for i in OURS if i.sniff(head, path)] == [importer], path


def test_a_sbom_whose_keys_are_sorted_is_recognised_beyond_the_head(shared_data):
    # the real SBOMs list "bomFormat" after 64 KiB of components
    path = _sbom_files(shared_data)[0]
    assert '"bomFormat"' not in read_head(path)[: HEAD_BYTES // 2]
    assert detect(path) is CycloneDxImporter


# --- CVE 5 records ---------------------------------------------------------------------------


def test_every_cve_record_becomes_one_vulnerability(shared_data, real_store):
    files = _cve_files(shared_data)
    assert len(files) == 230
    from_cve5 = {
        r.id for r in real_store.records("vulnerability") if r.source_key.startswith("cve5:")
    }
    assert from_cve5 == {
        json.loads(path.read_text("utf-8"))["cveMetadata"]["cveId"] for path in files
    }


def test_cwes_and_cvss_vectors_agree_with_the_published_index(shared_data, real_store):
    index = shared_data / "cve-records-vulnrichment" / "index.csv"
    with index.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 230
    for row in rows:
        (record,) = [
            r for r in real_store.get(row["cve_id"]) if r.source_key == f"cve5:{row['cve_id']}"
        ]
        indexed = set(filter(None, row["cwe"].split(";")))  # the index reads cweId only
        raw = (
            shared_data / "cve-records-vulnrichment" / "records" / f"{row['cve_id']}.json"
        ).read_text("utf-8")
        written = set(re.findall(r'"description": "(CWE-\d+)[ :]', raw))
        assert indexed <= set(record.data["cwes"]) <= indexed | written, row["cve_id"]
        vectors = {score["vector"] for score in record.data["cvss"]}
        assert vectors == set(filter(None, row["cvss_vectors"].split(";"))), row["cve_id"]
        links = {rel.dst for rel in real_store.relations(src=row["cve_id"], rel="has_weakness")}
        assert set(record.data["cwes"]) <= links


def test_odd_published_versions_are_kept_as_published(real_store):
    android = _entries(real_store, "CVE-2020-0022", "Android")
    assert android[0].vendor == "n/a"
    assert android[0].versions == (
        {
            "status": "affected",
            "raw": "Android-8.0 Android-8.1 Android-9 Android-10",
            "version": "Android-8.0 Android-8.1 Android-9 Android-10",
        },
    )
    assert android[0].default_status == "unknown"  # the record gives no defaultStatus
    cpes = {entry.cpe for entry in real_store.affected("CVE-2020-0022") if entry.cpe}
    assert "cpe:2.3:o:google:android:10.0:-:*:*:*:*:*:*" in cpes  # from the CISA ADP


def test_ranges_keep_their_bounds_and_version_type(real_store):
    (zephyr,) = _entries(real_store, "CVE-2024-6442", "Zephyr")
    assert zephyr.versions[0] == {
        "status": "affected",
        "version": "*",
        "less_than_or_equal": "3.6",
        "version_type": "git",
        "raw": "*",
    }
    windows = _entries(real_store, "CVE-2023-21739", "Windows 10 Version 1809")
    assert {entry.cpe for entry in windows} == {
        f"cpe:2.3:o:microsoft:windows_10_1809:10.0.17763.3887:*:*:*:*:*:{arch}:*"
        for arch in ("x86", "x64", "arm64")
    }  # one entry per CPE of the item
    assert windows[0].versions[0]["less_than"] == "10.0.17763.3887"


def test_unknown_version_statuses_say_nothing_and_are_left_out(shared_data):
    for path in _cve_files(shared_data):
        record = json.loads(path.read_text("utf-8"))
        published = {
            (v["version"], v["status"])
            for container in [record["containers"]["cna"], *record["containers"].get("adp", [])]
            for item in container.get("affected", [])
            for v in item.get("versions", [])
        }
        (batch,) = Cve5Importer().parse(path)
        stored = {(c["raw"], c["status"]) for entry in batch.affected for c in entry.versions}
        assert stored == {
            (version, status) for version, status in published if status != "unknown"
        }, path.name


def test_cisa_ssvc_decisions_are_kept(real_store):
    (record,) = [
        r
        for r in real_store.get("CVE-2018-10631")
        if r.kind == "vulnerability" and r.source_key.startswith("cve5:")
    ]
    assert record.data["ssvc"]["Exploitation"] == "none"
    assert record.data["ssvc"]["Technical Impact"] == "total"


# --- CSAF advisories -------------------------------------------------------------------------


def test_every_advisory_and_every_cve_it_names_is_imported(shared_data, real_store):
    files = _csaf_files(shared_data)
    documents = [json.loads(path.read_text("utf-8")) for path in files]
    assert len(documents) == 124
    cves = {v["cve"] for d in documents for v in d.get("vulnerabilities", [])}
    # SOURCE.md says 428, but counts the 144-file snapshot (2023-24 kept aside); the 124
    # files here name 377
    assert len(cves) == 377
    advisories = {r.id for r in real_store.records("advisory")}
    assert advisories == {d["document"]["tracking"]["id"] for d in documents}
    from_csaf = {
        r.id for r in real_store.records("vulnerability") if r.source_key.startswith("csaf:")
    }
    assert from_csaf == cves
    described = {(rel.src, rel.dst) for rel in real_store.relations(rel="described_in")}
    assert described == {
        (v["cve"], d["document"]["tracking"]["id"]) for d in documents for v in d["vulnerabilities"]
    }


def test_no_affected_product_or_version_form_is_dropped(shared_data, real_store):
    checked = 0
    for path in _csaf_files(shared_data):
        document = json.loads(path.read_text("utf-8"))
        leaves = {}
        for branch in document["product_tree"]["branches"]:
            for names, category, product_id in _csaf_leaves(branch):
                leaves[product_id] = (names[0], names[-2], names[-1], category)
        for vulnerability in document["vulnerabilities"]:
            stored = list(real_store.affected(vulnerability["cve"]))
            for product_id in vulnerability["product_status"]["known_affected"]:
                vendor, product, version, category = leaves[product_id]
                key = "expression" if category == "product_version_range" else None
                matching = [
                    c
                    for entry in stored
                    if (entry.vendor, entry.product) == (vendor, product)
                    for c in entry.versions
                    if c["raw"] == version and c["status"] == "affected"
                ]
                assert matching, (path.name, vulnerability["cve"], product_id)
                if key:
                    assert all(key in c for c in matching)
                checked += 1
    assert checked > 1000


def test_the_sooil_insulin_pump_entry_is_exactly_as_published(real_store):
    assert AffectedEntry(
        "CVE-2020-27256",
        "SOOIL Developments Co, Ltd.",
        "Dana Diabecare RS",
        ({"status": "affected", "expression": "< 3.0", "raw": "< 3.0"},),
        "unaffected",
    ) in list(real_store.affected("CVE-2020-27256"))
    (record,) = [r for r in real_store.get("CVE-2020-27256") if r.source_key.startswith("csaf:")]
    assert record.data["cwes"] == ["CWE-798"]
    assert record.data["cvss"][0]["vector"] == "CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"
    assert record.data["advisory"] == "ICSMA-21-012-01"


@pytest.mark.parametrize(
    "cve, vendor, product, constraint",
    [
        ("CVE-2019-10964", "Medtronic", "MiniMed 508 pump", {"expression": "vers:all/*"}),
        (
            "CVE-2019-13517",
            "Becton, Dickinson and Company (BD)",
            "Pyxis ES",
            {"expression": ">= 1.3.4 | < 1.5.3"},
        ),
        (
            "CVE-2021-32966",
            "Philips",
            "Interoperability Solution XDS",
            {"expression": ">= 2018-1 | <= 2021-1"},
        ),
        (
            "CVE-2019-10959",
            "Becton, Dickinson and Company (BD)",
            "Alaris Gateway Workstation Alaris GS",
            {"expression": "2.3.6 and  below"},
        ),
        ("CVE-2020-25175", "GE Healthcare", "Alaris PC Unit", {"expression": "vers:all/*"}),
        ("CVE-2020-12016", "Baxter", "ExactaMix EM1200", {"expression": "1.1 | 1.2 | 1.4 | 1.5"}),
        ("CVE-2020-14485", "OpenClinic GA", "OpenClinic GA", {"version": "5.89.05b"}),
        (
            "CVE-2019-10962",
            "Becton, Dickinson and Company (BD)",
            "Alaris Gateway Workstation",
            {"version": "1.1.3 Build 10"},
        ),
        (
            "CVE-2017-12701",
            "BMC Medical, 3B Medical",
            "Luna CPAP Machine",
            {"expression": "<  july 1 2017"},
        ),
    ],
)
def test_real_version_forms_are_stored_for_the_matcher(
    real_store, cve, vendor, product, constraint
):
    entries = [e for e in _entries(real_store, cve, product) if e.vendor == vendor]
    (value,) = constraint.values()
    assert {"status": "affected", **constraint, "raw": value} in entries[0].versions


# --- NVD (hand-written fixture) --------------------------------------------------------------


def test_nvd_configurations_become_version_ranges(real_store):
    log4j = _entries(real_store, "CVE-2021-44228", "log4j")
    assert {
        "status": "affected",
        "greater_than_or_equal": "2.13.0",
        "less_than": "2.15.0",
        "raw": "versionStartIncluding 2.13.0, versionEndExcluding 2.15.0",
    } in [entry.versions[0] for entry in log4j]
    assert {"status": "affected", "version": "2.0-beta9", "raw": "2.0:beta9"} in [
        entry.versions[0] for entry in log4j
    ]
    assert all(entry.default_status == "unaffected" for entry in log4j)


def test_nvd_platforms_and_negated_nodes_are_not_vulnerable(real_store):
    products = {entry.product for entry in real_store.affected("CVE-2019-10964") if entry.cpe}
    assert "minimed_508_firmware" in products and "minimed_508" not in products
    anydana = _entries(real_store, "CVE-2020-27256", "anydana-a")
    assert [entry.versions for entry in anydana] == [
        ({"status": "affected", "less_than": "3.0", "raw": "versionEndExcluding 3.0"},)
    ]


def test_nvd_placeholder_weaknesses_name_no_cwe(real_store):
    (record,) = [r for r in real_store.get("CVE-2020-27256") if r.source_key.startswith("nvd:")]
    assert record.data["cwes"] == ["CWE-798"]
    (log4j,) = [r for r in real_store.get("CVE-2021-44228") if r.source_key.startswith("nvd:")]
    assert log4j.data["kev_date_added"] == "2021-12-10"


# --- KEV and EPSS ----------------------------------------------------------------------------


def test_kev_json_and_csv_give_the_same_catalog(shared_data):
    json_path, csv_path = _kev_files(shared_data)
    catalog = json.loads(json_path.read_text("utf-8"))
    assert catalog["count"] == len(catalog["vulnerabilities"]) == 1404
    (from_json,) = KevImporter().parse(json_path)
    (from_csv,) = KevImporter().parse(csv_path)
    assert len(from_json.records) == 1404
    assert from_json.records == from_csv.records
    assert from_json.source_key == from_csv.source_key
    digests = []
    for order in ([json_path, csv_path], [csv_path, json_path]):
        store = Store.in_memory()
        for path in order:
            import_paths(store, [path])
        digests.append((store.counts(), [r for r in store.records("kev")]))
    assert digests[0] == digests[1]


def test_kev_records_carry_what_cisa_published(real_store):
    (record,) = [r for r in real_store.get("CVE-2017-0144") if r.kind == "kev"]
    assert "ICSMA-18-058-02" in {rel.dst for rel in real_store.relations("CVE-2017-0144")}
    assert record.data["vendor"] == "Microsoft" and record.data["date_added"] == "2022-02-10"
    assert record.data["ransomware"] == "Known"


def test_epss_scores_are_read_with_their_date(real_store):
    scores = {r.id: r.data for r in real_store.records("epss")}
    assert len(scores) == 8
    assert scores["CVE-2020-27256"] == {
        "epss": 0.00054,
        "percentile": 0.2269,
        "date": "2024-10-24",
        "model_version": "v2023.03.01",
    }


# --- CycloneDX SBOMs -------------------------------------------------------------------------


def _count_components(components: list[dict]) -> int:
    return sum(1 + _count_components(c.get("components", [])) for c in components)


def test_every_sbom_component_is_imported(shared_data, real_store):
    by_sbom = Counter(r.source_key for r in real_store.records("sbom_component"))
    for path in _sbom_files(shared_data):
        bom = json.loads(path.read_text("utf-8"))
        assert by_sbom[f"cyclonedx:{bom['serialNumber']}"] == _count_components(bom["components"])
    assert sorted(by_sbom.values()) == [55, 65]


def test_a_sbom_component_keeps_its_identifiers_and_support_properties(real_store):
    wolfssl = [r.data for r in real_store.records("sbom_component") if r.data["name"] == "WolfSSL"]
    assert len(wolfssl) == 2  # in both SBOMs
    assert wolfssl[0]["version"] == "4.8.1"
    assert wolfssl[0]["cpe"] == "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*"
    assert wolfssl[0]["vendor"] == "wolfSSL"
    assert wolfssl[0]["properties"]["Level of Support"] == "Actively maintained"


# --- rarer forms (hand-made, valid) ----------------------------------------------------------


def test_cve5_changes_split_a_range_and_each_cpe_gets_an_entry():
    (batch,) = Cve5Importer().parse(VALID / "cve5-changes-and-cpes.json")
    gateway = [entry for entry in batch.affected if entry.product == "Gateway"]
    assert len(gateway) == 2  # two CPEs
    assert [
        (c["status"], c.get("version") or c.get("greater_than_or_equal"), c["less_than"])
        for c in gateway[0].versions
    ] == [("affected", "1.0", "1.4.2"), ("unaffected", "1.4.2", "2.0"), ("affected", "2.0", "3.0")]
    (package,) = [entry for entry in batch.affected if entry.purl]
    assert package.product == "example-dicom" and package.purl == "pkg:pypi/example-dicom"
    record = batch.records[0].data
    assert record["cwes"] == ["CWE-306", "CWE-319"]  # the ADP's CWE is read from its text
    assert record["ssvc"]["Automatable"] == "yes"


def test_csaf_fixed_versions_families_relationships_and_a_vulnerability_without_cve():
    (batch,) = CsafImporter().parse(VALID / "csaf-rare-forms.json")
    pump = next(e for e in batch.affected if e.product == "Pump")
    assert pump.default_status == "unaffected"
    assert {"status": "unaffected", "version": "1.3.3", "raw": "1.3.3"} in pump.versions
    assert {"status": "affected", "expression": "5.0|5.1", "raw": "5.0|5.1"} in pump.versions
    assert {
        "status": "affected",
        "version": "2023.3_Build_9342 SP1",
        "raw": "2023.3_Build_9342 SP1",
    } in pump.versions
    assert {
        "status": "unaffected",
        "expression": "vers:generic/>=1.0|<2.0",
        "raw": "vers:generic/>=1.0|<2.0",
    } in pump.versions
    gateway = [e for e in batch.affected if e.product == "Gateway"]
    assert {e.vuln_id for e in gateway} == {"CVE-2024-0011", "EXMA-24-002-01#2"}
    assert all(e.versions == () and e.default_status == "affected" for e in gateway)
    hub = next(e for e in batch.affected if e.cpe)
    assert (hub.vendor, hub.product, hub.versions[0]["version"]) == (
        "example_medical",
        "hub",
        "4.2",
    )
    without_cve = next(r for r in batch.records if r.id == "EXMA-24-002-01#2")
    assert without_cve.data["cve"] is None
    assert without_cve.data["ids"] == [{"system_name": "Example PSIRT", "text": "EX-PSIRT-2024-07"}]
    assert without_cve.data["under_investigation"] == ["example_medical hub 4.2"]


def test_nested_sbom_components_know_their_parent():
    (batch,) = CycloneDxImporter().parse(VALID / "cyclonedx-1.6-nested.cdx.json")
    records = {r.id: r.data for r in batch.records}
    assert records["tls"]["parent"] == "fw"
    assert records["rtos"]["vendor"] == "Amazon" and records["rtos"]["licenses"] == ["MIT"]
    assert {"fatfs@R0.15", "fatfs@R0.15#2"} <= set(records)


# --- repeated imports ------------------------------------------------------------------------


def test_importing_the_same_folders_twice_changes_nothing(shared_data, tmp_path):
    with Store.open(tmp_path / "kb.sqlite") as store:
        first = import_paths(store, _our_folders(shared_data))
        digest = store.content_digest()
        assert first.documents_changed > 0
        second = import_paths(store, _our_folders(shared_data))
        assert second.documents_changed == 0 and not second.imported
        assert len(second.unchanged) == len(first.imported)
        assert store.content_digest() == digest


# --- malformed, truncated and hostile files --------------------------------------------------


def _corpus() -> list[str]:
    return sorted(path.name for path in MALFORMED.iterdir() if path.name != "expected.yaml")


def test_every_malformed_file_has_an_expectation():
    assert _corpus() == sorted(EXPECTED)
    assert {name.split("-")[0] for name in EXPECTED} == set(IMPORTER_BY_PREFIX)


@pytest.mark.parametrize("name", _corpus())
def test_a_malformed_file_is_refused_naming_file_and_record(name):
    path = MALFORMED / name
    expected = EXPECTED[name]
    assert detect(path) is IMPORTER_BY_PREFIX[name.split("-")[0]]  # refused by its parser
    store = Store.in_memory()
    import_paths(store, [VALID])
    digest = store.content_digest()
    with pytest.raises(ImportRefused) as refused:
        import_paths(store, [VALID / "csaf-rare-forms.json", path])
    (error,) = refused.value.errors
    assert error.file == str(path)
    (problem,) = error.problems
    assert expected["message"] in problem.message
    if "field" in expected:
        assert problem.field == expected["field"]
    if "line" in expected:
        assert problem.line == expected["line"]
    assert name in str(refused.value)
    assert store.content_digest() == digest


def test_a_truncated_real_file_names_the_record_it_broke_off_in(shared_data, tmp_path):
    csaf = (shared_data / "cisa-csaf-icsma/2021/icsma-21-012-01.json").read_text("utf-8")
    kev = _kev_files(shared_data)[0].read_text("utf-8")
    cut_kev = kev[: kev.index('"cveID": "CVE-2024-8068"') + 200]
    for name, text, record in [
        ("csaf.json", csaf[: len(csaf) // 2], "ICSMA-21-012-01"),
        ("kev.json", cut_kev, "CVE-2024-8068"),
    ]:
        path = tmp_path / name
        path.write_text(text, "utf-8")
        with pytest.raises(ImportRefused) as refused:
            import_paths(Store.in_memory(), [path])
        (problem,) = refused.value.errors[0].problems
        assert problem.field == record and "ends too early" in problem.message


def test_a_rejected_cve_is_kept_without_affected_products():
    from mdrisk.kb.importers.cve5 import record_batch

    batch = record_batch(
        {
            "dataType": "CVE_RECORD",
            "dataVersion": "5.1",
            "cveMetadata": {"cveId": "CVE-2024-0099", "state": "REJECTED"},
            "containers": {
                "cna": {
                    "providerMetadata": {"orgId": "x", "shortName": "example"},
                    "rejectedReasons": [{"lang": "en", "value": "Duplicate."}],
                }
            },
        }
    )
    assert batch.records[0].data["state"] == "REJECTED"
    assert batch.records[0].data["description"] == "Duplicate."
    assert batch.affected == [] and batch.relations == []


# --- fuzzing: mutated real files are refused, never crash ------------------------------------


def _seeds(data: Path) -> list[tuple[type[Importer], str, bytes]]:
    kev_csv = _kev_files(data)[1].read_bytes().splitlines(keepends=True)
    kev_json = json.loads(_kev_files(data)[0].read_text("utf-8"))
    kev_json["vulnerabilities"] = kev_json["vulnerabilities"][:15]
    return [
        (Cve5Importer, ".json", (_cve_files(data)[2]).read_bytes()),  # CVE-2020-0022
        (Cve5Importer, ".json", (VALID / "cve5-changes-and-cpes.json").read_bytes()),
        (CsafImporter, ".json", (data / "cisa-csaf-icsma/2021/icsma-21-012-01.json").read_bytes()),
        (CsafImporter, ".json", (VALID / "csaf-rare-forms.json").read_bytes()),
        (NvdImporter, ".json", NVD_FIXTURE.read_bytes()),
        (KevImporter, ".json", json.dumps(kev_json).encode()),
        (KevImporter, ".csv", b"".join(kev_csv[:15])),
        (EpssImporter, ".csv", EPSS_FIXTURE.read_bytes()),
        (CycloneDxImporter, ".json", (VALID / "cyclonedx-1.6-nested.cdx.json").read_bytes()),
    ]


@pytest.fixture(scope="module")
def seeds(shared_data):
    found = _seeds(shared_data)
    with tempfile.TemporaryDirectory() as folder:
        yield found, Path(folder)


def _parse_or_refuse(importer: type[Importer], content: bytes, folder: Path, suffix: str):
    path = folder / f"mutated{suffix}"
    path.write_bytes(content)
    try:
        importer().parse(path)
    except InputError as error:
        assert error.file == str(path) and error.problems


def test_the_fuzzing_seeds_import_cleanly(seeds):
    found, folder = seeds
    for importer, suffix, content in found:
        path = folder / f"seed{suffix}"
        path.write_bytes(content)
        assert importer().parse(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_byte_mutations_are_refused_or_read_never_crash(seeds, data):
    found, folder = seeds
    importer, suffix, content = data.draw(st.sampled_from(found))
    position = data.draw(st.integers(0, len(content)))
    action = data.draw(st.sampled_from(["truncate", "flip", "delete", "insert", "repeat"]))
    if action == "truncate":
        content = content[:position]
    elif action == "flip":
        content = (
            content[:position] + bytes([data.draw(st.integers(0, 255))]) + content[position + 1 :]
        )
    elif action == "delete":
        content = content[:position] + content[position + data.draw(st.integers(1, 200)) :]
    elif action == "insert":
        content = (
            content[:position] + data.draw(st.binary(min_size=1, max_size=40)) + content[position:]
        )
    else:
        content = content[:position] + content[position : position + 300] * 3 + content[position:]
    _parse_or_refuse(importer, content, folder, suffix)


_JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.just("CVE-2020-27256"),
    st.just("CSAFPID-9999"),
    st.just(""),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
)


def _locations(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON value."""
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((value, key))
            _locations(child, found)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((value, index))
            _locations(child, found)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_json_with_wrong_types_or_missing_fields_is_refused_never_crashes(seeds, data):
    found, folder = seeds
    importer, suffix, content = data.draw(
        st.sampled_from([seed for seed in found if seed[1] == ".json"])
    )
    document = json.loads(content)
    for _ in range(data.draw(st.integers(1, 3))):
        locations = _locations(document, [])
        if not locations:
            break
        container, key = data.draw(st.sampled_from(locations))
        if data.draw(st.booleans()) and isinstance(container, dict):
            del container[key]
        else:
            container[key] = data.draw(_JSON_VALUES)
    _parse_or_refuse(importer, json.dumps(document).encode(), folder, suffix)


# --- the command line ------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_kb_import_on_the_command_line(shared_data, tmp_path):
    store = tmp_path / "kb.sqlite"
    folders = [str(folder) for folder in _our_folders(shared_data)]
    result = run("kb", "import", *folders, "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "imported 124 file(s) as csaf" in result.output
    assert "imported 230 file(s) as cve5" in result.output
    again = run("kb", "import", *folders, "--store", str(store))
    assert again.exit_code == 0
    assert "0 document(s) written" in again.output


def test_kb_import_refuses_a_broken_file_with_exit_2_and_writes_nothing(tmp_path):
    store = tmp_path / "kb.sqlite"
    assert run("kb", "import", str(VALID), "--store", str(store)).exit_code == 0
    with Store.open(store) as opened:
        digest = opened.content_digest()
    broken = MALFORMED / "csaf-undefined-product.json"
    result = run("kb", "import", str(NVD_FIXTURE), str(broken), "--store", str(store))
    assert result.exit_code == 2
    assert str(broken) in result.stderr
    assert "vulnerabilities[0] (CVE-2024-0002).product_status.known_affected[1]" in result.stderr
    assert "Traceback" not in result.output
    with Store.open(store) as opened:
        assert opened.content_digest() == digest
        assert not opened.has("CVE-2024-0003")  # the good NVD file was not written either


def test_kb_import_names_a_file_of_no_known_format(tmp_path):
    stray = tmp_path / "notes.json"
    stray.write_text('{"hello": "world"}', "utf-8")
    result = run("kb", "import", str(stray), "--store", str(tmp_path / "kb.sqlite"))
    assert result.exit_code == 2
    assert "notes.json" in result.stderr and "not a format" in result.stderr
