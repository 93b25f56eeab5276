"""Threats attached to a device: what the analyst expects on each reference device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, example_models

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.threats import ElementThreat
from mdrisk.cli import main
from mdrisk.kb.attach import attach_threats, query_for
from mdrisk.kb.matching.query import ComponentQuery, VulnMatch
from mdrisk.kb.records import AffectedEntry, ImportBatch, Record
from mdrisk.kb.store import ParsedFile, Store
from mdrisk.model import load_model
from mdrisk.model.schema import Technology
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.markdown import render_markdown

BGMS = EXAMPLES / "bgms.yaml"
DANA_ADVISORY = Path("cisa-csaf-icsma") / "2021" / "icsma-21-012-01.json"
PACK = bundled.technology_pack()


def _assess(model_path: Path, knowledge: KnowledgeInputs | None = None) -> Assessment:
    return assess(
        load_model(model_path),
        created="2000-01-01T00:00:00Z",
        knowledge=knowledge or KnowledgeInputs(PACK),
    )


def _on(assessment: Assessment, element: str) -> list[ElementThreat]:
    return [t for t in assessment.threats if t.element == element]


def _rules(threats: list[ElementThreat]) -> set[str]:
    return {finding.rule for threat in threats for finding in threat.pack_rules}


def _cited(threats: list[ElementThreat], catalog: str) -> set[str]:
    return {i for threat in threats for i in getattr(threat.references, catalog)}


# --- the pack alone, no store --------------------------------------------------------------


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_without_a_store_the_channels_into_ml_engines_get_pack_findings(model_path):
    assessment = _assess(model_path)
    assert assessment.threats
    kinds = {c.id: c.kind.value for c in assessment.device.components}
    links = {link.id: link for link in assessment.device.links}
    expected = set()
    for point in assessment.fdi_points:
        link = links.get(point.element)
        if link is None or link.channel.technology is None:
            continue
        shield = link.channel.protections
        recognised = [
            f for f in PACK.pack.families_of(link.channel.technology) if f.id != "in_process"
        ]
        # From a sensor or imaging device, or a recognised channel missing a protection.
        if kinds[link.source] in ("sensor", "imaging_device") or (
            recognised and not (shield.authentication and shield.integrity)
        ):
            expected.add(link.id)
    assert expected
    assert not [element for element in sorted(expected) if not _rules(_on(assessment, element))]
    for engine in (c for c in assessment.device.components if c.ml is not None):
        assert _cited(_on(assessment, engine.id), "atlas"), engine.id


def test_bgms_cgm_link_with_just_works_is_tied_to_mitm_weaknesses_and_atlas():
    assessment = _assess(BGMS)
    threats = _on(assessment, "cgm_to_app")
    assert "TP-BLE-LEGACY-JUSTWORKS" in _rules(threats)
    assert {"CWE-287", "CWE-322"} <= _cited(threats, "cwe")
    assert "CAPEC-94" in _cited(threats, "capec")
    assert {"T0830", "T0860"} <= _cited(threats, "attack_ics")
    assert {"AML.T0043", "AML.T0043.003"} <= _cited(threats, "atlas")
    assert threats[0].technology == "Bluetooth Low Energy 4.2"
    assert (
        threats[0].fdi_points
        == [p.id for p in assessment.fdi_points if p.element == "cgm_to_app"]
        != []
    )


def test_bgms_unsigned_model_update_is_tied_to_atlas_poisoning_and_supply_chain():
    threats = _on(_assess(BGMS), "cloud_to_forecaster")
    assert "TP-MODEL-UPDATE-UNSIGNED" in _rules(threats)
    assert {"AML.T0010.003", "AML.T0018.000", "AML.T0076"} <= _cited(threats, "atlas")
    assert {"CWE-494", "CWE-347"} <= _cited(threats, "cwe")
    forecaster = _on(_assess(BGMS), "forecaster")
    assert {"TP-TRAINING-CONTINUOUS", "TP-MODEL-FILE-ON-DEVICE"} <= _rules(forecaster)
    assert "AML.T0020" in _cited(forecaster, "atlas")


def test_bone_density_plain_dicom_and_hl7_are_flagged_and_the_signed_update_is_not():
    assessment = _assess(EXAMPLES / "bone-density.yaml")
    assert {"TP-DICOM-CLEARTEXT", "TP-DICOM-AE-TITLE-ONLY"} <= _rules(
        _on(assessment, "ct_to_router")
    )
    assert "TP-HL7V2-MLLP-CLEARTEXT" in _rules(_on(assessment, "engine_to_ehr"))
    update = _rules(_on(assessment, "cloud_to_engine"))
    assert "TP-UPDATE-SIGNING-KEY" in update and "TP-MODEL-UPDATE-UNSIGNED" not in update
    assert "TP-WINDOWS-UNSUPPORTED" in _rules(_on(assessment, "ct_scanner"))


def test_threat_ids_are_stable_and_follow_the_model_order():
    assessment = _assess(BGMS)
    ids = [t.id for t in assessment.threats]
    assert len(set(ids)) == len(ids) and all(i.startswith("TH-") for i in ids)
    order = [c.id for c in assessment.device.components] + [
        link.id for link in assessment.device.links
    ]
    positions = [order.index(t.element) for t in assessment.threats]
    assert positions == sorted(positions)
    assert _assess(BGMS).threats == assessment.threats


def test_without_kb_inputs_the_threats_section_is_empty():
    assert assess(load_model(BGMS), created="x").threats == []


# --- vulnerabilities from a store ----------------------------------------------------------


def _store_with_dana(shared_data: Path) -> Store:
    store = Store.in_memory()
    try:
        from mdrisk.kb.importing import import_paths

        import_paths(store, [shared_data / DANA_ADVISORY])
    except ImportError:  # pragma: no cover - importers are written alongside
        pytest.skip("no CSAF importer")
    return store


def _knowledge(store: Store) -> KnowledgeInputs:
    matching = pytest.importorskip("mdrisk.kb.matching.matcher")
    enrich = pytest.importorskip("mdrisk.kb.enrich")
    return KnowledgeInputs(
        PACK,
        matching.Matcher.from_store(store, bundled.vendor_aliases()),
        lambda cve: enrich.enrich_vulnerability(store, cve),
    )


def _with_pump_firmware(tmp_path: Path, version: str) -> Path:
    text = BGMS.read_text(encoding="utf-8")
    old = 'product: Dana Diabecare RS\n        version: "2.9"'
    assert old in text
    path = tmp_path / f"bgms-{version}.yaml"
    path.write_text(
        text.replace(old, f'product: Dana Diabecare RS\n        version: "{version}"'),
        encoding="utf-8",
    )
    return path


def test_the_pump_firmware_in_the_field_has_the_dana_advisory_cves(shared_data):
    store = _store_with_dana(shared_data)
    pump = _on(_assess(BGMS, _knowledge(store)), "insulin_pump")
    found = {v.id: v for t in pump for v in t.vulnerabilities}
    assert {
        "CVE-2020-27256",
        "CVE-2020-27258",
        "CVE-2020-27264",
        "CVE-2020-27266",
        "CVE-2020-27268",
        "CVE-2020-27269",
        "CVE-2020-27270",
        "CVE-2020-27272",
        "CVE-2020-27276",
    } <= set(found)
    hardcoded = found["CVE-2020-27256"]
    assert hardcoded.confidence >= 0.9 and "2.9" in hardcoded.reason
    assert "CWE-798" in hardcoded.references.cwe
    assert hardcoded.cvss and hardcoded.cvss[0].vector.startswith("CVSS:3.0/")
    owner = next(t for t in pump if t.vulnerabilities)
    assert owner.technology == "Insulin pump firmware 2.9"
    assert "CWE-798" in owner.references.cwe


def test_the_fixed_pump_firmware_has_none_of_them(shared_data, tmp_path):
    store = _store_with_dana(shared_data)
    fixed = _assess(_with_pump_firmware(tmp_path, "3.0"), _knowledge(store))
    assert not [v for t in fixed.threats for v in t.vulnerabilities]
    assert _rules(_on(fixed, "insulin_pump"))  # the pack still speaks


def test_every_id_cited_in_threats_resolves_in_pack_store_or_assessment(shared_data):
    store = _store_with_dana(shared_data)
    assessment = _assess(BGMS, _knowledge(store))
    pack_ids = {rule.id for rule in PACK.pack.rules} | {
        i
        for rule in PACK.pack.rules
        for i in rule.references.all_ids() + rule.mitigations.all_ids()
    }
    known = assessment.known_ids()
    unresolved = []
    for threat in assessment.threats:
        assert threat.element in known and set(threat.fdi_points) <= known
        cited = threat.references.all_ids() + [f.rule for f in threat.pack_rules]
        cited += [
            i
            for f in threat.pack_rules
            for i in f.mitigations.attack_ics
            + f.mitigations.attack_enterprise
            + f.mitigations.atlas
        ]
        cited += [v.id for v in threat.vulnerabilities]
        unresolved += [
            i
            for i in cited
            if i not in pack_ids and not store.has(i) and not store.relations(dst=i)
        ]
    assert not unresolved


# --- attach_threats with a stand-in matcher --------------------------------------------------


class _CannedMatcher:
    def __init__(self, answers: dict[str, list[VulnMatch]]) -> None:
        self.answers = answers
        self.asked: list[ComponentQuery] = []

    def match(self, query: ComponentQuery) -> list[VulnMatch]:
        self.asked.append(query)
        return self.answers.get(query.product or "", [])


def test_matches_are_filtered_deduplicated_sorted_and_enriched_once():
    matcher = _CannedMatcher(
        {
            "Dana Diabecare RS": [
                VulnMatch("CVE-2020-9", 0.7, "name only"),
                VulnMatch("CVE-2020-10", 0.95, "exact", source="ICSMA-21-012-01"),
                VulnMatch("CVE-2020-9", 0.9, "exact"),
                VulnMatch("CVE-2019-1", 0.2, "weak guess"),
            ]
        }
    )
    enriched: list[str] = []

    def enricher(cve: str) -> dict:
        enriched.append(cve)
        return {
            "kev": True,
            "epss": 0.123456789,
            "cvss": [
                {
                    "version": "3.1",
                    "vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "score": 8.8,
                }
            ],
            "cwes": [{"id": "CWE-798", "name": "hard-coded"}],
            "capecs": [{"id": "CAPEC-70"}],
            "techniques": [{"id": "T0891"}, "T1078"],
            "description": "mentions CWE-79 in passing",
        }

    model = load_model(BGMS).model
    threats = attach_threats(model, PACK.pack, matcher, enricher)
    pump = next(t for t in threats if t.element == "insulin_pump" and t.vulnerabilities)
    assert [v.id for v in pump.vulnerabilities] == ["CVE-2020-10", "CVE-2020-9"]
    assert pump.vulnerabilities[1].reason == "exact"
    # below the cut-off: kept as possible, with its reason, never dropped silently
    assert [(v.id, v.reason) for v in pump.possible_vulnerabilities] == [
        ("CVE-2019-1", "weak guess")
    ]
    assert sorted(enriched) == ["CVE-2019-1", "CVE-2020-10", "CVE-2020-9"]
    first = pump.vulnerabilities[0]
    assert first.kev is True and first.epss == 0.12346
    assert first.cvss[0].base_score == 8.8 and first.cvss[0].version == "3.1"
    assert first.references.cwe == ["CWE-798"]  # not the CWE-79 of the free text
    assert first.references.attack_ics == ["T0891"]
    assert first.references.attack_enterprise == ["T1078"]
    # Technologies naming no maker, product or package are never asked about.
    assert all(q.vendor or q.product or q.cpe or q.purl for q in matcher.asked)
    assert not any(q.product == "Bluetooth Low Energy" for q in matcher.asked)


def test_an_enricher_that_knows_nothing_leaves_kev_and_epss_unknown():
    matcher = _CannedMatcher({"Dana Diabecare RS": [VulnMatch("CVE-2020-27256", 1.0, "x")]})
    threats = attach_threats(load_model(BGMS).model, PACK.pack, matcher, lambda cve: None)
    known = [v for t in threats for v in t.vulnerabilities]
    assert known and known[0].kev is None and known[0].epss is None and known[0].cvss == []


def test_a_technology_is_asked_about_by_its_product_or_name():
    assert query_for(Technology(name="Bluetooth Low Energy", version="4.2")) is None
    query = query_for(Technology(name="DCMTK", vendor="OFFIS", version="3.6.6"))
    assert query == ComponentQuery(vendor="OFFIS", product="DCMTK", version="3.6.6")


# --- the command ---------------------------------------------------------------------------


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_analyze_with_a_store_named_where_there_is_none_says_so_and_creates_none(tmp_path):
    store_path = tmp_path / "kb.sqlite"
    result = _run(
        "analyze",
        str(BGMS),
        "--kb",
        "--store",
        str(store_path),
        "--out",
        str(tmp_path / "out"),
        "--no-svg",
    )
    assert result.exit_code == 2
    assert f"no knowledge base at {store_path}" in result.output
    assert not store_path.exists() and not (tmp_path / "out").exists()


def test_analyze_with_kb_and_an_empty_store_still_finds_threats(tmp_path):
    store_path = tmp_path / "kb.sqlite"
    Store.open(store_path).close()
    result = _run(
        "analyze",
        str(BGMS),
        "--kb",
        "--store",
        str(store_path),
        "--out",
        str(tmp_path / "out"),
        "--no-svg",
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "assessment.json").read_text(encoding="utf-8"))
    assert len(data["threats"]) >= 20
    assert [s["source"] for s in data["provenance"]["kb_snapshots"]] == [
        "technology-pack/mdrisk/data/technology-pack.yaml"
    ]
    assert "threats:" in result.output and "technology-pack rules only" in result.output
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "## Threats and known vulnerabilities" in report
    assert "TP-BLE-LEGACY-JUSTWORKS" in report


def test_two_kb_runs_differ_only_in_the_creation_time(tmp_path):
    Store.open(tmp_path / "none.sqlite").close()
    outputs = []
    for name in ("a", "b"):
        result = _run(
            "analyze",
            str(BGMS),
            "--kb",
            "--store",
            str(tmp_path / "none.sqlite"),
            "--out",
            str(tmp_path / name),
            "--no-svg",
        )
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name / "assessment.json").read_bytes().splitlines())
    differing = [a for a, b in zip(*outputs, strict=True) if a != b]
    assert all(b'"created"' in line for line in differing)


def test_analyze_with_a_store_lists_its_snapshots_and_the_pump_cves(shared_data, tmp_path):
    pytest.importorskip("mdrisk.kb.matching.matcher")
    store_path = tmp_path / "kb.sqlite"
    with Store.open(store_path) as store:
        from mdrisk.kb.importing import import_paths

        import_paths(store, [shared_data / DANA_ADVISORY])
    result = _run(
        "analyze", str(BGMS), "--store", str(store_path), "--out", str(tmp_path / "out"), "--no-svg"
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "assessment.json").read_text(encoding="utf-8"))
    snapshots = {s["source"]: s for s in data["provenance"]["kb_snapshots"]}
    assert snapshots["csaf/icsma-21-012-01.json"]["imported"]
    assert "technology-pack/mdrisk/data/technology-pack.yaml" in snapshots
    cves = {
        v["id"]
        for t in data["threats"]
        if t["element"] == "insulin_pump"
        for v in t["vulnerabilities"]
    }
    assert "CVE-2020-27256" in cves
    assert "CVE-2020-27256" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_markdown_escapes_text_from_the_store_in_the_threats_section():
    hostile = VulnMatch("CVE-2099-1", 1.0, "matched <script>|x| `code`")
    threats = attach_threats(
        load_model(BGMS).model, PACK.pack, _CannedMatcher({"Dana Diabecare RS": [hostile]})
    )
    assessment = _assess(BGMS).model_copy(update={"threats": threats})
    report = render_markdown(assessment)
    assert "\\<script\\>\\|x\\| \\`code\\`" in report
    assert "<script>" not in report


def test_a_hand_built_store_row_matches_like_an_imported_one():
    # Guards the store path without the CSAF importer: one affected row written directly.
    matching = pytest.importorskip("mdrisk.kb.matching.matcher")
    store = Store.in_memory()
    batch = ImportBatch(
        "test",
        "test:dana",
        [Record("vulnerability", "CVE-2020-27256", {})],
        [
            AffectedEntry(
                "CVE-2020-27256",
                "SOOIL Developments Co, Ltd.",
                "Dana Diabecare RS",
                ({"status": "affected", "expression": "< 3.0", "raw": "< 3.0"},),
                "unaffected",
            )
        ],
    )
    store.write([ParsedFile(Path("dana.json"), "test", "0" * 64, [batch])])
    threats = attach_threats(
        load_model(BGMS).model,
        PACK.pack,
        matching.Matcher.from_store(store, bundled.vendor_aliases()),
    )
    assert {v.id for t in threats for v in t.vulnerabilities} == {"CVE-2020-27256"}
