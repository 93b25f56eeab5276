"""Components as analysts write them (issue 13): release names, git-range records, the
confidence cut-off and the knowledge base's coverage.

The affected entries copy the shapes of the shared CVE records (cve-records-vulnrichment):
Zephyr's CNA writes "git" ranges with release numbers, Apple writes "iOS and iPadOS" with
"less than" bounds, Microsoft one product per Windows feature update with build ranges.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment.threats import KbHoldings
from mdrisk.cli import main
from mdrisk.kb.importing import import_paths
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.matching.query import ComponentQuery
from mdrisk.kb.matching.ranges import constraint_range
from mdrisk.kb.matching.versions import parse_version
from mdrisk.kb.records import AffectedEntry
from mdrisk.kb.store import Store
from mdrisk.model import load_model
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.markdown import render_markdown


def _git(upper: str, lower: str = "*") -> dict:
    return {
        "status": "affected",
        "version": lower,
        "less_than_or_equal": upper,
        "version_type": "git",
    }


def _below(upper: str, lower: str = "10.0.0") -> dict:
    return {"status": "affected", "version": lower, "less_than": upper, "version_type": "custom"}


ENTRIES = [
    AffectedEntry("CVE-2024-1638", "zephyrproject-rtos", "Zephyr", (_git("3.5"),), "unaffected"),
    AffectedEntry("CVE-2024-3077", "zephyrproject-rtos", "Zephyr", (_git("3.6"),), "unaffected"),
    AffectedEntry("CVE-2024-3332", "zephyrproject-rtos", "Zephyr", (_git("3.6"),), "unaffected"),
    AffectedEntry("CVE-2024-6442", "zephyrproject-rtos", "Zephyr", (_git("3.6"),), "unaffected"),
    AffectedEntry("CVE-2024-6444", "zephyrproject-rtos", "Zephyr", (_git("3.6"),), "unaffected"),
    AffectedEntry(
        "CVE-2023-4258", "zephyrproject-rtos", "Zephyr", (_git("3.4", "1.14"),), "unaffected"
    ),
    AffectedEntry("CVE-2024-23250", "Apple", "iOS and iPadOS", (_below("17.4", "0"),), "unknown"),
    AffectedEntry("CVE-2024-44191", "Apple", "iOS and iPadOS", (_below("17.7", "0"),), "unknown"),
    AffectedEntry("CVE-2024-44124", "Apple", "iOS and iPadOS", (_below("18", "0"),), "unknown"),
    AffectedEntry(
        "CVE-2023-21739",
        "Microsoft",
        "Windows 10 Version 21H2",
        (_below("10.0.19044.2486"),),
        "unknown",
    ),
    AffectedEntry(
        "CVE-2023-21739",
        "Microsoft",
        "Windows 10 Version 22H2",
        (_below("10.0.19045.2486"),),
        "unknown",
    ),
    AffectedEntry(
        "CVE-2099-0022",
        "Microsoft",
        "Windows 10 Version 22H2",
        (_below("10.0.19045.3000"),),
        "unknown",
    ),
    # a Linux-style record: commit ranges and, for the same product, release ranges
    AffectedEntry(
        "CVE-2024-26889",
        "Linux",
        "Linux",
        (
            {
                "status": "affected",
                "version": "1da177e4c3f4",
                "less_than": "0b7015132878",
                "version_type": "git",
            },
        ),
        "unaffected",
    ),
    AffectedEntry(
        "CVE-2024-26889",
        "Linux",
        "Linux",
        (
            {"status": "affected", "version": "6.6"},
            {"status": "unaffected", "version": "0", "less_than": "6.6"},
        ),
        "affected",
    ),
    # the record lists only 5.66 and says nothing of other versions
    AffectedEntry(
        "CVE-2023-27349", "bluez", "bluez", ({"status": "affected", "version": "-"},), "unknown"
    ),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ENTRIES, bundled.vendor_aliases())


def _ids(matches, at_least: float = 0.5) -> set[str]:
    return {m.id for m in matches if m.confidence >= at_least}


ZEPHYR = {
    "CVE-2024-1638",
    "CVE-2024-3077",
    "CVE-2024-3332",
    "CVE-2024-6442",
    "CVE-2024-6444",
    "CVE-2023-4258",
}


@pytest.mark.parametrize(
    "query",
    [
        ComponentQuery(vendor="Zephyr Project", product="Zephyr", version="3.2.0"),
        ComponentQuery(product="Zephyr", version="v3.2.0"),
        ComponentQuery(text="Zephyr RTOS 3.2.0"),
    ],
    ids=["vendor-product", "tag", "text"],
)
def test_zephyr_3_2_0_matches_its_git_range_records_through_their_release_numbers(matcher, query):
    found = matcher.match(query)
    assert _ids(found) == ZEPHYR
    assert not any("commit ids cannot be ordered" in m.reason for m in found)


def test_zephyr_past_the_last_affected_release_matches_none_of_them(matcher):
    assert _ids(matcher.match(ComponentQuery(product="Zephyr", version="3.7.0")), 0) == set()


def test_commit_ids_alone_still_cannot_be_ordered():
    found = constraint_range(
        {"status": "affected", "version": "1da177e4c3f4", "less_than": "0b7015132878"}
    )
    assert found.problem == "commit ids cannot be ordered"


def test_a_record_with_commit_and_release_ranges_is_decided_by_the_release_ranges(matcher):
    affected = matcher.match(ComponentQuery(vendor="Linux", product="Linux", version="6.6.1"))
    assert _ids(affected) == {"CVE-2024-26889"}
    before = matcher.match(ComponentQuery(vendor="Linux", product="Linux", version="6.1"))
    assert "CVE-2024-26889" not in {m.id for m in before}  # not even as possible


@pytest.mark.parametrize(
    "query",
    [
        ComponentQuery(vendor="Apple", product="iPhone OS", version="17.4"),
        ComponentQuery(vendor="Apple", product="iOS", version="17.4"),
        ComponentQuery(product="iOS", version="17.4"),
        ComponentQuery(text="iOS 17.4"),
        ComponentQuery(cpe="cpe:2.3:o:apple:iphone_os:17.4:*:*:*:*:*:*:*"),
    ],
    ids=["iphone-os", "ios", "no-vendor", "text", "cpe"],
)
def test_ios_17_4_as_the_example_writes_it_matches_what_17_4_still_has(matcher, query):
    found = matcher.match(query)
    assert _ids(found) == {"CVE-2024-44191", "CVE-2024-44124"}  # 23250 is fixed in 17.4
    assert all(m.confidence == 1.0 for m in found)


@pytest.mark.parametrize(
    "query",
    [
        ComponentQuery(vendor="Microsoft", product="Windows 10", version="21H2"),
        ComponentQuery(vendor="Microsoft", product="Windows 10 21H2"),
        ComponentQuery(text="Windows 10 21H2"),
        ComponentQuery(cpe="cpe:2.3:o:microsoft:windows_10:21h2:*:*:*:*:*:*:*"),
        ComponentQuery(vendor="Microsoft", product="Windows 10", version="10.0.19044.2364"),
    ],
    ids=["version", "product", "text", "cpe", "build"],
)
def test_windows_10_21h2_matches_the_21h2_records_and_not_another_feature_update(matcher, query):
    found = matcher.match(query)
    assert _ids(found, 0) == {"CVE-2023-21739"}
    assert all("22H2" not in m.product for m in found)
    assert "19044" in found[0].reason


def test_a_patched_21h2_build_is_not_matched(matcher):
    query = ComponentQuery(vendor="Microsoft", product="Windows 10", version="10.0.19044.2500")
    assert matcher.match(query) == []


def test_vendor_build_in_brackets_is_read_as_a_build():
    version = parse_version(" 2023.3 (Build 9342)")
    assert version is not None and version.build == ((1, 9342, ""),)


def test_an_ecosystem_range_follows_the_ecosystem_s_rules():
    pypi = {"status": "affected", "version": "1.0", "less_than": "2.0rc1", "version_type": "python"}
    found = constraint_range(pypi)
    assert found.contains(parse_version("2.0a1"), "2.0a1") is True  # PEP 440: a1 < rc1
    assert found.contains(parse_version("2.0"), "2.0") is False


# --- the cut-off and the coverage ----------------------------------------------------------


@pytest.fixture(scope="module")
def cve_store(shared_data, tmp_path_factory):
    """The shared CVE JSON 5 records (230, no NVD data) in a store."""
    records = shared_data / "cve-records-vulnrichment" / "records"
    if not records.is_dir():
        pytest.skip("shared CVE records not present")
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    with Store.open(path) as store:
        import_paths(store, [records])
    return path


def _kb_match(store, *args: str) -> str:
    result = CliRunner().invoke(main, ["kb", "match", "--store", str(store), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_candidate_below_the_cut_off_is_listed_as_possible_with_its_reason(cve_store):
    # BlueZ's CNA lists 5.66 only; CISA's ADP entry says "-": nothing says 5.64 is safe
    output = _kb_match(cve_store, "--vendor", "BlueZ", "--product", "BlueZ", "--version", "5.64")
    possible = output.split("possible, needs review", 1)[1]
    assert "CVE-2023-27349" in possible and "names no version" in possible
    assert "230 vulnerability records" in output and "coverage: covered" in output


def test_kb_match_json_marks_the_possible_ones(cve_store):
    output = _kb_match(
        cve_store, "--vendor", "BlueZ", "--product", "BlueZ", "--version", "5.64", "--json"
    )
    assert {(m["id"], m["status"]) for m in json.loads(output)} == {
        ("CVE-2023-27349", "possible, needs review")
    }


def test_kb_match_says_not_covered_where_no_record_names_the_component(cve_store):
    output = _kb_match(cve_store, "--vendor", "Example Sensors", "--product", "CGM firmware")
    assert "NOT COVERED" in output and "no known vulnerabilities" not in output
    assert "no full CVE feed (no NVD data)" in output


def test_kb_match_on_the_shared_records_finds_the_three_reported_misses(cve_store):
    zephyr = _kb_match(cve_store, "--text", "Zephyr 3.2.0")
    ios = _kb_match(cve_store, "--vendor", "Apple", "--product", "iPhone OS", "--version", "17.4")
    windows = _kb_match(cve_store, "--vendor", "Microsoft", "--product", "Windows 10 21H2")
    assert all(cve in zephyr.split("possible")[0] for cve in ZEPHYR)
    assert "CVE-2024-44191" in ios and "CVE-2024-23250" not in ios
    assert {"CVE-2023-21739", "CVE-2023-24948", "CVE-2024-21306"} <= set(
        re.findall(r"CVE-\d+-\d+", windows)
    )


def test_the_report_says_not_covered_never_none_for_a_component_outside_coverage():
    loaded = load_model(EXAMPLES / "bgms.yaml")
    matcher = Matcher(ENTRIES, bundled.vendor_aliases())
    knowledge = KnowledgeInputs(bundled.technology_pack(), matcher, holdings=KbHoldings())
    assessment = assess(loaded, created="2026-01-01T00:00:00Z", knowledge=knowledge)
    coverage = {(c.element, c.technology): c for c in assessment.vulnerability_coverage.components}
    assert coverage[("phone_app", "iOS 16.7")].covered
    pump = coverage[("insulin_pump", "Insulin pump firmware 2.9")]
    assert not pump.covered and pump.matched == 0
    report = render_markdown(assessment)
    anomalies = report.split("## Unresolved anomalies", 1)[1]
    assert "Not covered by the knowledge base" in anomalies
    assert re.search(r"Not covered by the knowledge base[^\n]*insulin_pump", anomalies)
    assert "No known vulnerabilities matched the device" not in anomalies


def test_an_assessment_written_before_coverage_loads_and_says_coverage_is_unknown():
    loaded = load_model(EXAMPLES / "bgms.yaml")
    knowledge = KnowledgeInputs(bundled.technology_pack(), Matcher([], bundled.vendor_aliases()))
    assessment = assess(loaded, created="2026-01-01T00:00:00Z", knowledge=knowledge)
    data = assessment.model_dump(mode="json")
    data.pop("vulnerability_coverage")
    for threat in data["threats"]:
        threat.pop("possible_vulnerabilities")
    old = type(assessment).model_validate(data)
    assert old.vulnerability_coverage is None
    assert "does not record which of them the knowledge base covers" in render_markdown(old)


class _Snapshot:
    def __init__(self, importer: str, documents: int) -> None:
        self.importer, self.documents, self.imported = importer, documents, "2026-01-01"


class _Holder:
    def __init__(self, *snapshots: _Snapshot) -> None:
        self._snapshots = list(snapshots)

    def snapshots(self) -> list:
        return self._snapshots

    def counts(self) -> dict[str, int]:
        return {"vulnerability": sum(s.documents for s in self._snapshots)}


def test_only_a_full_nvd_feed_makes_every_product_covered():
    from mdrisk.kb.holdings import holdings_of

    assert not holdings_of(_Holder(_Snapshot("cve5", 230))).comprehensive
    assert not holdings_of(_Holder(_Snapshot("nvd", 12))).comprehensive
    full = holdings_of(_Holder(_Snapshot("nvd", 120_000), _Snapshot("nvd", 130_000)))
    assert full.comprehensive and "a full CVE feed (NVD)" in full.summary()
