"""Matching components to known vulnerabilities: versions as advisories write them, CPE names,
vendor aliases, product names, and the matcher's answers on real advisories.

Version and range tables hold forms copied from real records (every product_version_range of
the CISA ICSMA CSAF files, CVE 5 and NVD constraint shapes); matcher behaviour is checked on
entries modelled on real advisories and, with the shared data, on the advisories themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import import_real_advisories
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk import bundled
from mdrisk.errors import InputError
from mdrisk.kb.matching.aliases import RELATED, SAME, AliasTable
from mdrisk.kb.matching.cpe import CpeError, cpe_matches, parse_cpe
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.matching.names import (
    product_alternatives,
    product_tokens,
    similarity,
    vendor_key,
)
from mdrisk.kb.matching.purl import PurlError, parse_purl
from mdrisk.kb.matching.query import ComponentQuery
from mdrisk.kb.matching.ranges import constraint_range, parse_range
from mdrisk.kb.matching.status import AFFECTED, UNAFFECTED, UNKNOWN, evaluate
from mdrisk.kb.matching.versions import compare, compare_text, parse_version
from mdrisk.kb.records import AffectedEntry, ImportBatch, Relation
from mdrisk.kb.store import ParsedFile, Store

CORPUS = Path(__file__).resolve().parent / "corpus" / "kb" / "matching"
NAMES = yaml.safe_load((CORPUS / "names.yaml").read_text("utf-8"))
ALIAS_CORPUS = sorted(p for p in (CORPUS / "aliases").glob("*.yaml") if p.name != "expected.yaml")
ALIAS_EXPECTED = yaml.safe_load((CORPUS / "aliases" / "expected.yaml").read_text("utf-8"))


# --- versions -----------------------------------------------------------------------------------

ORDERED = [  # (lower, higher): each pair as real records write them
    ("1.0-rc1", "1.0"),
    ("v4.0-rc1", "v4.0"),
    ("1.0-beta2", "1.0-rc1"),
    ("10.0.1", "10.0.1a"),
    ("10.0.1a", "10.0.1b"),
    ("0.13", "0.13c"),
    ("2.4A", "2.6A"),
    ("9.19", "9.19.2"),
    ("9.33", "9.33.1"),
    ("2.43.02", "2.43.10"),
    ("1.8.4", "1.8.4 Service Pack 01"),
    ("4.20", "4.20 SR1"),
    ("2012", "2012 R2"),
    ("2.0.9", "2.0.9-hotfix.7"),
    ("4.0.1 build 120", "4.0.1 build 121"),
    ("2023.3_Build_9342", "2023.3_Build_9400"),
    ("2023.3_Build_9342", "2023.4"),
    ("BT02", "BT06"),
    ("B.06.17", "B.06.18"),
    ("C.00.04", "C.02"),
    ("R4.1L1", "R8.0.3"),
    ("012U000040", "012U000061"),
    ("2019-07-15", "2019-07-16"),
    ("20190715", "2019-08-01"),
    ("2018-1", "2021-1"),
    ("8u191", "8u202"),
    ("3.5.12.P30", "3.5.12.P31"),
    ("5.17.1-754993421", "5.17.2"),
]
EQUAL = [
    ("1.0", "1.0.0"),
    ("v2.3.6", "2.3.6"),
    ("2019-07-15", "20190715"),
    ("R8.0.3", "8.0.3"),
    ("2.43.02", "2.43.2"),
    ("Version 1.3.2", "1.3.2"),
]


@pytest.mark.parametrize(("lower", "higher"), ORDERED)
def test_versions_order_as_their_publishers_mean(lower, higher):
    assert compare_text(lower, higher) == -1
    assert compare_text(higher, lower) == 1


@pytest.mark.parametrize(("left", "right"), EQUAL)
def test_the_same_version_written_two_ways_is_equal(left, right):
    assert compare_text(left, right) == 0


@pytest.mark.parametrize("text", NAMES["not_versions"])
def test_text_that_is_not_a_version_reads_as_none(text):
    assert parse_version(text) is None


def test_build_suffixes_and_wildcards_are_read():
    built = parse_version("2023.3_Build_9342")
    assert built is not None and built.build and not built.wildcard
    wildcard = parse_version("12.2.x.x")
    assert wildcard is not None and wildcard.wildcard
    shipped = parse_version("April 1, 2018")
    assert shipped is not None and shipped.calendar


def test_unparseable_versions_compare_as_unknown_not_as_a_match():
    assert compare_text("n/a", "1.0") is None
    verdict = evaluate(
        [{"status": "affected", "expression": "<= 2.3"}], "unaffected", "Accu-Chek Inform II"
    )
    assert verdict.status == UNKNOWN and "cannot be interpreted" in verdict.why


# --- ranges: every product_version_range form of the ICSMA CSAF files -------------------------

# form -> (a version inside, a version outside); None: there is none to give.
# "?" marks forms that cannot be interpreted: they must say why and never match silently.
CSAF_RANGES: dict[str, tuple[str | None, str | None] | str] = {
    "6.x (Wireless Battery Modules (16 | 16D38 | 17 | 17D19 | >= 20D29 | <= v20D32 | "
    ">= 22D24 | <= v22D28)": ("6.2", "8.1"),
    "8.x (Wireless Battery Modules v17 | v17D19 >= 20D29 | <= 20D32 | >= 22D24 | <= 22D28)": (
        "8.1",
        "9.0",
    ),
    "9.x (with Wireless Battery Modules >= 22D19 | <= v22D28)": ("9.4", "8.9"),
    "<  july 1 2017": ("June 2017", "August 2017"),
    "<  november 29 2017": ("November 28, 2017", "December 2017"),
    "< 012U000040": ("012U000039", "012U000040"),
    "< 1.003": ("1.002", "1.003"),
    "< 1.10": ("1.9", "1.10"),
    "< 1.11.00": ("1.10.99", "1.11"),
    "< 1.52": ("1.51", "1.52"),
    "< 1.7.0.0": ("1.6.9", "1.7"),
    "< 1.7.15": ("1.7.14", "1.7.15"),
    "< 1.7.2": ("1.7.1", "1.7.2"),
    "< 1.7.5": ("1.7.4", "1.7.5"),
    "< 1.8.4 Service Pack 01": ("1.8.4", "1.8.4 SP1"),
    "< 2.003": ("2.002", "2.003"),
    "< 2.2": ("2.1.9", "2.2"),
    "< 2.4.0": ("2.3.9", "2.4"),
    "< 2.43.02": ("2.43.01", "2.43.02"),
    "< 3.0": ("2.9", "3.0"),
    "< 3.2": ("3.1", "3.2"),
    "< 3.6.7": ("3.6.6", "3.6.7"),
    "< 3.x": ("2.9.9", "3.0.1"),
    "< 5.3": ("5.2", "5.3"),
    "< 7.2.5.7": ("7.2.5.6", "7.2.5.7"),
    "< 8.2.2": ("8.2.1", "8.2.2"),
    "< B.06.18": ("B.06.17", "B.06.18"),
    "< august 28": "?",
    "<7.6.2": ("7.6.1", "7.6.2"),
    "<= 012U000061": ("012U000061", "012U000062"),
    "<= 028U000061": ("028U000060", "028U000062"),
    "<= 1.0.0": ("1.0", "1.0.1"),
    "<= 1.0.51": ("1.0.51", "1.0.52"),
    "<= 1.20.2": ("1.20.2", "1.20.3"),
    "<= 1.54 (integrated into GE MobileLink)": ("1.54", "1.55"),
    "<= 1.70": ("1.70", "1.71"),
    "<= 11.x": ("11.9.9", "12.0"),
    "<= 12.2.1": ("12.2.1", "12.2.2"),
    "<= 12.2.1.5": ("12.2.1.5", "12.2.1.6"),
    "<= 12.2.x.x": ("12.2.7.1", "12.3"),
    "<= 2.0.14.0": ("2.0.14", "2.0.15"),
    "<= 2.0.2.2": ("2.0.2.2", "2.0.2.3"),
    "<= 2.0.3": ("2.0.3", "2.0.4"),
    "<= 2.01 (end-of-life Nov 2017)": ("2.01", "2.02"),
    "<= 2.1.0": ("2.1", "2.1.1"),
    "<= 2.1.2": ("2.1.2", "2.1.3"),
    "<= 2.2.0": ("2.2.0", "2.2.1"),
    "<= 2.2.3": ("2.2.3", "2.2.4"),
    "<= 2.24": ("2.24", "2.25"),
    "<= 2.3.0": ("2.3", "2.3.1"),
    "<= 2.3.1": ("2.3.1", "2.3.2"),
    "<= 2.3.6": ("2.3.6", "2.3.7"),
    "<= 2.36.3.3": ("2.36.3.3", "2.36.4"),
    "<= 2.4A": ("2.4A", "2.4B"),
    "<= 2.6.0": ("2.6", "2.6.1"),
    "<= 2.6A": ("2.5A", "2.7A"),
    "<= 2.7": ("2.7", "2.8"),
    "<= 2.7A": ("2.7A", "2.8A"),
    "<= 3.0": ("3.0", "3.1"),
    "<= 3.0 D15": ("3.0 D14", "3.0 D16"),
    "<= 3.0.2": ("3.0.2", "3.0.3"),
    "<= 3.01.1744": ("3.01.1744", "3.01.1745"),
    "<= 3.02.1757": ("3.02.1700", "3.02.1800"),
    "<= 3.06.1803": ("3.06.1803", "3.07"),
    "<= 3.1": ("3.1", "3.2"),
    "<= 3.2": ("3.2", "3.3"),
    "<= 3.3.0": ("3.3.0", "3.3.1"),
    "<= 3.4": ("3.4", "3.5"),
    "<= 4.0.0": ("4.0.0", "4.0.1"),
    "<= 4.1": ("4.1", "4.2"),
    "<= 4.2": ("4.2", "4.3"),
    "<= 4.33": ("4.33", "4.34"),
    "<= 4107600010.23": ("4107600010.23", "4107600010.24"),
    "<= 5.0.2": ("5.0.2", "5.0.3"),
    "<= 6.2.1": ("6.2.1", "6.2.2"),
    "<= 6.5": ("6.5", "6.6"),
    "<= 9.0.3": ("9.0.3", "9.0.4"),
    "<= 9.33": ("9.19", "9.34"),
    "<= 9.33.1": ("9.33.1", "9.33.2"),
    "<= 9.5": ("9.5", "9.6"),
    "<= B.12": ("B.12", "B.13"),
    "<= C.00.04": ("C.00.04", "C.00.05"),
    "<= D25": ("D25", "D26"),
    "<= GEH-1.1 (integrated into GE MobileLink)": ("GEH-1.1", "GEH-1.2"),
    "<= K": ("J", "L"),
    "<= L81": ("L80", "L82"),
    "<= R4.1L1": ("R4.1L1", "R4.2"),
    "<= R8.0.3": ("R8.0.3", "R8.0.4"),
    "<= S4 A.07.107": ("S4 A.07.107", "S4 A.07.108"),
    "<= U61 |<= L81": ("L81", "U62"),
    "<= VM5.0": ("VM5.0", "VM6.0"),
    "<=1.1.0.2": ("1.1.0.2", "1.1.0.3"),
    "<=11.2 on Windows 8.1 with IIS 7.5": ("11.2", "11.3"),
    "<=2.3.5": ("2.3.5", "2.3.6"),
    "<=2.6.2": ("2.6.2", "2.6.3"),
    "<=3.0.0.0": ("3.0", "3.0.0.1"),
    "<=3.2.4": ("3.2.4", "3.2.5"),
    "<=4.1.6": ("4.1.6", "4.1.7"),
    "<=5.17.1-754993421": ("5.17.1", "5.17.2"),
    "<=N": ("M.00.03", "P"),
    "<May 2018": ("April 2018", "June 2018"),
    ">= 1.0.0 | <= 1.1.1": ("1.1.0", "1.1.2"),
    ">= 1.3.4 | < 1.5.3": ("1.5.2", "1.5.3"),
    ">= 2.0": ("2.0", "1.9"),
    ">= 2.0 | <= 3.0": ("2.5", "3.1"),
    ">= 2.5 | <= 3.11": ("3.10", "2.4"),
    ">= 2003 | <= 2006": ("2005", "2007"),
    ">= 2018-1 | <= 2021-1": ("2020-3", "2021-2"),
    ">= 4.0 | <= 4.6": ("4.6", "4.7"),
    ">= 4.01 | <= 4.34": ("4.01", "4.35"),
    ">= 4.4 | <= 4.12": ("4.10", "4.3"),
    ">= 5.01 | <= 6.3.1": ("6.0", "6.3.2"),
    ">= 5.01 | <= 6.4.0": ("5.01", "6.4.1"),
    ">= 5.01 | <= 7.0.0": ("7.0", "7.0.1"),
    ">= 6.0.0 | <= 6.3.1": ("6.3.1", "5.9"),
    ">= 6.1.0 | <= 6.4.0": ("6.2", "6.0.9"),
    ">=BT02 | <= BT06": ("BT04", "BT08"),
    "A.01 <= C.0x | 4.0": ("B.02", "D.01"),
    "A10 < A11": ("A10", "A11"),
    "distributed  < april 1, 2018": ("March 2018", "May 2018"),
    "v6.x (with Wireless Battery Modules v9 | v11 | v13 | v14 | v15 | v16 | v16D38 | v17 | "
    "v17D19 | >= v20D29 | <= v20D32 | >= v22D24 | <= v22D28)": ("6.1", "8.0"),
    "v8.x (with Wireless Battery Modules v17 | v17D19 | >= v20D29 | <= v20D32 | >= v22D24 | "
    "<= v22D28)": ("8.0", "9.0"),
    "v9.x (with Wireless Battery Module >= v22D19 | <= v22D28)": ("v9.2", "v10"),
    "vers:all/*": ("0.1", None),
}

OTHER_RANGES: dict[str, tuple[str | None, str | None]] = {
    "5.0|5.1": ("5.1", "5.2"),
    "vers:generic/>=1.0|<2.0": ("1.9.9", "2.0"),
    "vers:npm/1.2.3|>=2.0.0|<5.0.0": ("1.2.3", "1.2.4"),
    "vers:semver/>=1.0.0-beta|<2.0.0": ("1.0.0-rc1", "1.0.0-alpha"),
    "all versions": ("42", None),
    "prior to 4.2": ("4.1.9", "4.2"),
    "before 2.1": ("2.0", "2.1"),
    "versions 3.0 and earlier": ("3.0", "3.0.1"),
    "1.2 through 1.9": ("1.5", "1.10"),
    "2.3.6 and  below": ("2.3.6", "2.3.7"),
    "Android-8.0 Android-8.1 Android-9": ("8.1", "10"),
    "(Release 1.3.2 1.4.0 1.4.1 1.4.3 1.4.5)": ("1.4.3", "1.4.2"),
    "9.13 | 9.19 | 9.33 | 12.1": ("9.19", "9.20"),
    "HD 16 | HD23": ("HD23", "HD24"),
    "4.X | 5.X": ("5.3", "6.0"),
    "Rev J-M | (X3/MX100 for Rev M only)": ("Rev K", "Rev N"),
    "2131 and 2141": ("2141", "2151"),
    "* (end-of-life 2011)": ("1.0", None),
    "1.1.3 MR Build 11": ("1.1.3 MR Build 11", "1.1.3"),
}


@pytest.mark.parametrize("form", sorted(CSAF_RANGES))
def test_every_csaf_version_range_form_is_read_as_published(form):
    expected = CSAF_RANGES[form]
    read = parse_range(form)
    if expected == "?":
        assert read.problem and read.contains(parse_version("1.0"), "1.0") is None
        return
    inside, outside = expected
    assert not read.problem, read.problem
    if inside is not None:
        assert read.contains(parse_version(inside), inside) is True, (form, inside)
    if outside is not None:
        assert read.contains(parse_version(outside), outside) is False, (form, outside)


@pytest.mark.parametrize("form", sorted(OTHER_RANGES))
def test_range_expressions_as_published_elsewhere(form):
    inside, outside = OTHER_RANGES[form]
    read = parse_range(form)
    assert read.contains(parse_version(inside), inside) is True, (form, inside)
    if outside is not None:
        assert read.contains(parse_version(outside), outside) is False, (form, outside)


def test_a_version_under_a_wildcard_query_is_only_sure_when_the_whole_prefix_is():
    assert parse_range("<= 5.2").contains(parse_version("5.x"), "5.x") is None
    assert parse_range("< 5.0").contains(parse_version("5.x"), "5.x") is False
    assert parse_range(">= 4.0 | <= 6.0").contains(parse_version("5.x"), "5.x") is True


def test_descriptions_and_shipping_dates_are_kept_but_never_guessed():
    for form in (
        "with wireless option (shipped between 2016-August 2018)",
        "Accu-Chek Inform II Base Unit Light",
    ):
        read = parse_range(form)
        assert read.problem
        assert read.contains(parse_version("2.1"), "2.1") is None
        assert read.contains(None, form) is True  # the identical text still matches
    assert parse_range("< august 28").contains(parse_version("3.2"), "3.2") is None


def test_every_range_form_in_the_real_advisories_is_in_the_table(shared_data):
    forms = set()

    def walk(branch: dict) -> None:
        if branch.get("category") == "product_version_range":
            forms.add(branch["name"])
        for child in branch.get("branches", []):
            walk(child)

    for path in (shared_data / "cisa-csaf-icsma").rglob("*.json"):
        for branch in json.loads(path.read_text("utf-8"))["product_tree"].get("branches", []):
            walk(branch)
    assert forms, "no CSAF files found"
    assert forms <= set(CSAF_RANGES), sorted(forms - set(CSAF_RANGES))


# --- normalised constraint dicts: CVE 5 and NVD semantics --------------------------------------

LINUX = [  # the Linux CNA's shape in the vulnrichment records
    {"status": "affected", "version": "6.8"},
    {"status": "unaffected", "version": "0", "less_than": "6.8", "version_type": "custom"},
    {
        "status": "unaffected",
        "version": "6.1.81",
        "less_than_or_equal": "6.1.*",
        "version_type": "custom",
    },
    {
        "status": "unaffected",
        "version": "6.9",
        "less_than_or_equal": "*",
        "version_type": "original_commit_for_fix",
    },
]


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("6.8", AFFECTED),
        ("6.8.3", AFFECTED),
        ("6.1.50", UNAFFECTED),
        ("6.1.90", UNAFFECTED),
        ("6.9", UNAFFECTED),
        ("6.10.2", UNAFFECTED),
    ],
)
def test_cve5_ranges_with_a_default_status(version, status):
    assert evaluate(LINUX, "affected", version).status == status


def test_cve5_version_zero_is_an_open_lower_bound_and_less_than_is_exclusive():
    chirp = [
        {"status": "affected", "version": "0", "less_than": "v1.26.0", "version_type": "custom"}
    ]
    assert evaluate(chirp, "unaffected", "1.25.9").status == AFFECTED
    assert evaluate(chirp, "unaffected", "1.26.0").status == UNAFFECTED


def test_cve5_version_with_less_than_or_equal_starts_the_range_at_version():
    venue = [
        {
            "status": "affected",
            "version": "R4",
            "less_than_or_equal": "R4.3",
            "version_type": "custom",
        }
    ]
    assert evaluate(venue, "unaffected", "R4.2").status == AFFECTED
    assert evaluate(venue, "unaffected", "R4.3").status == AFFECTED
    assert evaluate(venue, "unaffected", "R4.4").status == UNAFFECTED
    assert evaluate(venue, "unaffected", "R3.9").status == UNAFFECTED


def test_cve5_unknown_status_says_nothing_and_default_applies_when_nothing_matches():
    entries = [{"status": "unknown", "version": "1.0", "less_than": "2.0"}]
    assert evaluate(entries, "affected", "1.5").basis == "default"
    assert evaluate(entries, "unknown", "1.5").status == UNKNOWN
    assert evaluate([], "affected", "1.5").status == AFFECTED


def test_git_commit_ranges_are_unknown_never_a_match():
    git = [
        {
            "status": "affected",
            "version": "1da177e4c3f4",
            "less_than": "5343f724c912",
            "version_type": "git",
        }
    ]
    verdict = evaluate(git, "unaffected", "5.4")
    assert verdict.status == UNKNOWN and "commit" in verdict.why


@pytest.mark.parametrize(
    ("bounds", "inside", "outside"),
    [
        ({"greater_than_or_equal": "1.0", "less_than": "2.0"}, ["1.0", "1.9.9"], ["0.9", "2.0"]),
        ({"greater_than": "1.0", "less_than_or_equal": "2.0"}, ["1.0.1", "2.0"], ["1.0", "2.0.1"]),
        ({"less_than_or_equal": "3.6.6"}, ["0.1", "3.6.6"], ["3.6.7"]),
        ({"greater_than_or_equal": "4.4"}, ["4.4", "10"], ["4.3.9"]),
    ],
)
def test_nvd_start_and_end_including_and_excluding(bounds, inside, outside):
    constraint = {"status": "affected", **bounds}
    for version in inside:
        assert evaluate([constraint], "unaffected", version).status == AFFECTED, version
    for version in outside:
        assert evaluate([constraint], "unaffected", version).status == UNAFFECTED, version


def test_a_fixed_version_never_matches_even_inside_an_affected_range():
    entries = [
        {"status": "affected", "expression": "<= 9.33"},
        {"status": "unaffected", "version": "9.19"},
    ]
    assert evaluate(entries, "unaffected", "9.19").status == UNAFFECTED
    assert evaluate(entries, "unaffected", "9.13").status == AFFECTED


def test_a_query_without_version_is_unknown_unless_every_version_is_affected():
    assert (
        evaluate([{"status": "affected", "expression": "vers:all/*"}], "unaffected", None).status
        == AFFECTED
    )
    verdict = evaluate([{"status": "affected", "expression": "<= 2.3.6"}], "unaffected", None)
    assert verdict.status == UNKNOWN and "no version given" in verdict.why


def test_constraint_ranges_say_what_they_cover():
    assert constraint_range({"version": "0", "less_than": "6.8"}).intervals[0].lower is None
    assert constraint_range({"version": "*"}).everything
    assert (
        constraint_range({"version": "6.9", "less_than_or_equal": "*"}).intervals[0].upper is None
    )
    assert constraint_range({"version": "9.13 | 9.19"}).contains(parse_version("9.19"))


# --- CPE ------------------------------------------------------------------------------------------


def test_cpe_attributes_escapes_and_derived_names():
    cpe = parse_cpe(r"cpe:2.3:a:becton_dickinson:alaris\:pc_unit:9.19:sp1:*:*:*:*:*:*")
    assert cpe.vendor == "becton_dickinson" and cpe.vendor_name == "becton dickinson"
    assert cpe.product_name == "alaris:pc unit"
    assert cpe.version_text == "9.19 sp1"
    old = parse_cpe("cpe:/a:offis:dcmtk:3.6.6")
    assert (old.vendor, old.product, old.version, old.update) == ("offis", "dcmtk", "3.6.6", "*")


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        (
            "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*",
            True,
        ),
        (
            "cpe:2.3:a:offis:dcmtk:3.6.*:*:*:*:*:*:*:*",
            "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*",
            True,
        ),
        (
            "cpe:2.3:a:offis:dcmtk:3.6.?:*:*:*:*:*:*:*",
            "cpe:2.3:a:offis:dcmtk:3.7.0:*:*:*:*:*:*:*",
            False,
        ),
        (
            "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:-:*:*:*",
            "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:-:*:*:*",
            True,
        ),
        (
            "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:-:*:*:*",
            "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:*:*:*:*",
            False,
        ),
        (
            "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:offis:dicom:3.6.6:*:*:*:*:*:*:*",
            False,
        ),
    ],
)
def test_cpe_name_matching_with_any_and_na(pattern, name, expected):
    assert cpe_matches(parse_cpe(pattern), parse_cpe(name)) is expected


@pytest.mark.parametrize("case", NAMES["bad_cpes"], ids=lambda case: case["text"] or "empty")
def test_malformed_cpes_are_refused_with_a_reason(case):
    with pytest.raises(CpeError) as caught:
        parse_cpe(case["text"])
    assert case["message"] in str(caught.value)


# --- purl -----------------------------------------------------------------------------------------


def test_package_urls_are_read_into_parts():
    purl = parse_purl("pkg:nuget/Newtonsoft.Json@9.0.1")
    assert (purl.type, purl.namespace, purl.name, purl.version) == (
        "nuget",
        "",
        "Newtonsoft.Json",
        "9.0.1",
    )
    github = parse_purl("pkg:github/wolfssl/wolfssl@v4.8.1?arch=x86#src")
    assert github.key == ("github", "wolfssl", "wolfssl") and github.vendor_hint == "wolfssl"
    assert parse_purl("pkg:pypi/Py_DICOM").key == parse_purl("pkg:pypi/py-dicom").key


@pytest.mark.parametrize("case", NAMES["bad_purls"], ids=lambda case: case["text"])
def test_malformed_package_urls_are_refused_with_a_reason(case):
    with pytest.raises(PurlError) as caught:
        parse_purl(case["text"])
    assert case["message"] in str(caught.value)


# --- vendor aliases and product names -------------------------------------------------------------

ALIASES = bundled.vendor_aliases()


@pytest.mark.parametrize(
    ("written", "company"),
    [
        ("BD", "bd"),
        ("Becton, Dickinson and Company (BD)", "bd"),
        ("Becton Dickinson & Co", "bd"),
        ("becton_dickinson", "bd"),
        ("Philips", "philips"),
        ("Koninklijke Philips N.V.", "philips"),
        ("Philips Healthcare", "philips"),
        ("Phillips", "philips"),
        ("GE", "ge_healthcare"),
        ("GE Healthcare", "ge_healthcare"),
        ("General Electric (GE)", "ge_healthcare"),
        ("GE HealthCare", "ge_healthcare"),
        ("B. Braun Melsungen AG", "b_braun"),
        ("B. Braun", "b_braun"),
        ("B. Braun Medical Inc.", "b_braun"),
        ("bbraun", "b_braun"),
        ("Hillrom", "hillrom"),
        ("Hill-Rom", "hillrom"),
        ("Baxter (Hillrom)", "hillrom"),
        ("Siemens Healthineers (Subsidiary of Siemens)", "siemens_healthineers"),
        ("Natus Medical, Inc. (Natus)", "natus"),
        ("Natus Medical Inc", "natus"),
        ("Carestream", "carestream"),
        ("Dräger", "draeger"),
        ("Drager", "draeger"),
        ("Innokas YhtymÃ¤ Oy", "innokas"),
        ("Innokas YhtymÃƒÂ¤ Oy", "innokas"),
        ("SOOIL Developments Co, Ltd.", "sooil"),
        ("Medtronic", "medtronic"),
    ],
)
def test_vendor_names_resolve_to_one_company(written, company):
    assert ALIASES.resolve(written) == frozenset({company})


def test_joint_advisories_name_every_vendor():
    assert ALIASES.resolve(
        "ENEA, Green Hills Software, ITRON, IP Infusion, and Wind River"
    ) == frozenset({"enea", "green_hills", "itron", "ip_infusion", "wind_river"})
    assert {"bd", "carefusion"} <= ALIASES.resolve("CareFusion, Becton, Dickinson and Company (BD)")
    assert ALIASES.resolve("Acme Widgets Inc.") == frozenset({"?acmewidgets"})
    assert ALIASES.resolve("n/a") == frozenset()


def test_owned_and_acquired_companies_are_related_not_the_same():
    assert ALIASES.link(ALIASES.resolve("Baxter"), ALIASES.resolve("Hillrom")).kind == RELATED
    assert ALIASES.link(ALIASES.resolve("Welch Allyn"), ALIASES.resolve("Baxter")).kind == RELATED
    assert ALIASES.link(ALIASES.resolve("BD"), ALIASES.resolve("Becton Dickinson")).kind == SAME
    assert ALIASES.link(ALIASES.resolve("Philips"), ALIASES.resolve("GE")) is None
    # two companies under one owner are not each other's
    assert ALIASES.link(ALIASES.resolve("Welch Allyn"), ALIASES.resolve("Mortara")) is None


def test_the_alias_table_covers_every_vendor_of_the_real_advisories(shared_data):
    unknown = set()
    for path in (shared_data / "cisa-csaf-icsma").rglob("*.json"):
        tree = json.loads(path.read_text("utf-8"))["product_tree"]
        for branch in tree.get("branches", []):
            ids = ALIASES.resolve(branch["name"])
            unknown |= {i for i in ids if i.startswith("?")}
    assert unknown <= {"?eli"}, sorted(unknown)  # ELI is a product line named as a vendor


@pytest.mark.parametrize("path", ALIAS_CORPUS, ids=lambda path: path.name)
def test_malformed_alias_tables_are_refused_naming_file_and_record(path):
    expected = ALIAS_EXPECTED[path.name]
    with pytest.raises(InputError) as caught:
        AliasTable.load(path)
    assert caught.value.file == str(path)
    problem = caught.value.problems[0]
    assert expected["message"] in problem.message
    assert problem.field == expected["field"]


def test_alias_corpus_is_fully_described():
    assert sorted(p.name for p in ALIAS_CORPUS) == sorted(ALIAS_EXPECTED)


def test_product_names_lose_trademarks_noise_words_and_spacing_of_model_numbers():
    assert product_tokens("Alaris™ PC Unit firmware") == ("alaris", "pc", "unit")
    assert product_tokens("IntelliVue MX 40") == product_tokens("IntelliVue MX40")
    assert product_tokens("Discovery XR656+") == ("discovery", "xr656", "plus")
    assert vendor_key("Hill-Rom Inc.") == vendor_key("Hillrom")
    assert "PICiX" in product_alternatives("Patient Information Center iX (PICiX)")
    assert product_alternatives("Vivid products, not including EchoPAC") == ("Vivid products",)


def test_two_different_model_numbers_never_look_alike():
    def weight(token: str) -> float:
        return 1.0

    assert (
        similarity(("alaris", "8015", "pc", "unit"), ("alaris", "8000", "pc", "unit"), weight).score
        == 0
    )
    assert (
        similarity(("alaris", "pc", "unit"), ("alaris", "8015", "pc", "unit"), weight).score > 0.8
    )
    siblings = similarity(("mylife", "cloud"), ("mylife", "app"), weight)
    assert siblings.siblings and siblings.score < 0.6


# --- properties -----------------------------------------------------------------------------------

version_like = st.one_of(
    st.from_regex(
        r"\A[vVrR]?\d{1,4}(\.\d{1,4}){0,4}([a-cA-C]|[-.](rc|beta|sp|build )\d{1,3}"
        r"|\.x)?\Z"
    ),
    st.from_regex(r"\A(BT|B\.|C\.|MMT-|R)?\d{1,3}(\.\d{1,3}){0,2}\Z"),
    st.from_regex(r"\A(19|20)\d\d-[01]\d-[0-3]\d\Z"),
    st.sampled_from([a for pair in ORDERED + EQUAL for a in pair]),
)
version_text = st.one_of(st.text(max_size=30), version_like)
parseable = version_like.map(parse_version).filter(lambda v: v is not None)
PROPERTY = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@given(st.one_of(version_text, st.none(), st.integers(), st.lists(st.integers(), max_size=3)))
@PROPERTY
def test_parse_version_never_raises(text):
    parse_version(text)
    parse_range(text)


@given(st.text(max_size=60))
@PROPERTY
def test_parse_range_never_raises(text):
    read = parse_range(text)
    read.contains(parse_version("1.0"), "1.0")


@given(parseable, parseable, parseable)
@PROPERTY
def test_comparison_is_a_total_preorder(a, b, c):
    assert compare(a, a) == 0
    assert compare(a, b) == -compare(b, a)
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@given(parseable, parseable)
@PROPERTY
def test_a_version_below_less_than_x_never_compares_at_or_above_x(version, bound):
    read = parse_range(f"< {bound.raw}")
    if read.contains(version) is True:
        assert compare(version, bound) < 0


@given(st.text(max_size=80))
@PROPERTY
def test_cpe_parsing_raises_only_cpe_errors(text):
    try:
        parse_cpe("cpe:2.3:" + text)
    except CpeError:
        pass


@given(st.text(max_size=80))
@PROPERTY
def test_purl_parsing_raises_only_purl_errors(text):
    try:
        parse_purl("pkg:" + text)
    except PurlError:
        pass


@given(st.text(max_size=200))
@PROPERTY
def test_alias_tables_raise_only_input_errors(text):
    try:
        AliasTable.from_text(text, "fuzz.yaml")
    except InputError as error:
        assert error.file == "fuzz.yaml"


# --- the matcher on entries modelled on real advisories -------------------------------------------


def _entry(
    vuln: str,
    vendor: str,
    product: str,
    *versions: dict,
    default: str = "unaffected",
    cpe: str | None = None,
    purl: str | None = None,
) -> AffectedEntry:
    return AffectedEntry(vuln, vendor, product, tuple(versions), default, cpe, purl)


def _affected(**kind: str) -> dict:
    return {"status": "affected", **kind}


MODEL_ENTRIES = [
    _entry(
        "CVE-2020-25165",
        "Becton, Dickinson and Company (BD)",
        "Alaris PC Unit Model 8015",
        _affected(expression="<= 9.33.1"),
    ),
    _entry(
        "CVE-2019-11479",
        "Becton, Dickinson and Company (BD)",
        "Alaris PC Unit",
        _affected(version="9.13 | 9.19 | 9.33 | 12.1"),
    ),
    _entry(
        "CVE-2016-8375",
        "Becton, Dickinson and Company (BD)",
        "Alaris 8000 PC unit",
        _affected(expression="vers:all/*"),
    ),
    _entry(
        "CVE-2020-27256",
        "SOOIL Developments Co, Ltd.",
        "Dana Diabecare RS",
        _affected(expression="< 3.0"),
    ),
    _entry(
        "CVE-2021-27410",
        "Hillrom",
        "Welch Allyn Connex Spot Monitor (CSM)",
        _affected(expression="< 1.52"),
    ),
    _entry("CVE-2018-8863", "Philips", "EncoreAnywhere", _affected(expression="<= 2.36.3.3")),
    _entry(
        "CVE-2017-14004", "Abbott Laboratories", "Accent MRI", _affected(expression="< august 28")
    ),
    _entry(
        "CVE-2022-2119",
        "offis",
        "dcmtk",
        {"status": "affected", "less_than": "3.6.7"},
        cpe="cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*",
    ),
    _entry(
        "CVE-2099-0001",
        "",
        "example-lib",
        {"status": "affected", "less_than": "2.0"},
        purl="pkg:pypi/example-lib",
    ),
    _entry(
        "CVE-2020-10598",
        "Becton, Dickinson and Company (BD)",
        "Pyxis MedStation ES System",
        _affected(version="1.6.1"),
    ),
]


@pytest.fixture(scope="module")
def model_matcher() -> Matcher:
    store = Store.in_memory()
    batch = ImportBatch(
        "test",
        "test:model",
        affected=MODEL_ENTRIES,
        relations=[Relation("CVE-2020-25165", "described_in", "ICSMA-20-317-01")],
    )
    store.write([ParsedFile(Path("model.json"), "test", "0" * 64, [batch])])
    return Matcher.from_store(store, bundled.vendor_aliases())


def _ids(matches) -> list[str]:
    return [m.id for m in matches]


def test_vendor_alias_product_variant_and_version_range_match_with_the_reason(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="BD", product="Alaris PC Unit", version="9.19")
    )
    assert _ids(found)[:1] == ["CVE-2019-11479"] and found[0].confidence == 1.0
    by_id = {m.id: m for m in found}
    reason = by_id["CVE-2020-25165"].reason
    assert "'BD' = 'Becton, Dickinson and Company (BD)' (alias)" in reason
    assert "'Alaris PC Unit' matches 'Alaris PC Unit Model 8015'" in reason
    assert "9.19 within '<= 9.33.1'" in reason and "ICSMA-20-317-01" in reason
    assert all(0 < m.confidence <= 1 for m in found)
    assert [m.confidence for m in found] == sorted((m.confidence for m in found), reverse=True)


def test_a_fixed_version_does_not_match(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="SOOIL", product="Dana Diabecare RS", version="3.0")
    )
    assert found == []
    assert _ids(
        model_matcher.match(
            ComponentQuery(vendor="SOOIL", product="Dana Diabecare RS", version="2.9")
        )
    ) == ["CVE-2020-27256"]


def test_a_query_without_version_matches_with_lower_confidence_and_says_so(model_matcher):
    found = model_matcher.match(ComponentQuery(vendor="SOOIL", product="Dana Diabecare RS"))
    assert _ids(found) == ["CVE-2020-27256"]
    assert found[0].confidence <= 0.6 and "no version given" in found[0].reason


def test_an_uninterpretable_published_version_matches_only_with_low_confidence(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="Abbott", product="Accent MRI", version="3.2")
    )
    assert _ids(found) == ["CVE-2017-14004"]
    assert found[0].confidence < 0.5 and "cannot be interpreted" in found[0].reason


def test_vendor_must_agree(model_matcher):
    assert (
        model_matcher.match(
            ComponentQuery(vendor="Philips", product="Alaris PC Unit", version="9.19")
        )
        == []
    )


def test_a_distinctive_product_name_is_enough_without_vendor(model_matcher):
    found = model_matcher.match(ComponentQuery(product="EncoreAnywhere", version="2.36"))
    assert _ids(found) == ["CVE-2018-8863"] and "no vendor given" in found[0].reason
    assert model_matcher.match(ComponentQuery(product="PC Unit", version="9.19")) == []


def test_a_different_model_number_does_not_match(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="BD", product="Alaris 8015 PC Unit", version="9.33.1")
    )
    assert "CVE-2016-8375" not in _ids(found)  # that one is the Alaris 8000


def test_related_companies_match_with_slightly_lower_confidence(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="Welch Allyn", product="Connex Spot Monitor", version="1.51")
    )
    assert _ids(found) == ["CVE-2021-27410"]
    assert found[0].confidence == pytest.approx(0.9) and "related" in found[0].reason


def test_cpe_purl_and_free_text_queries(model_matcher):
    cpe = model_matcher.match(ComponentQuery(cpe="cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*"))
    assert _ids(cpe) == ["CVE-2022-2119"] and "CPE" in cpe[0].reason
    assert (
        model_matcher.match(ComponentQuery(cpe="cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*")) == []
    )
    purl = model_matcher.match(ComponentQuery(purl="pkg:pypi/Example_Lib@1.9"))
    assert _ids(purl) == ["CVE-2099-0001"]
    text = model_matcher.match(ComponentQuery(text="Dana Diabecare RS firmware 2.9"))
    assert _ids(text) == ["CVE-2020-27256"]
    assert model_matcher.match(ComponentQuery(text="Dana Diabecare RS firmware 3.1")) == []


def test_bad_cpe_or_purl_in_a_query_is_an_input_error_naming_the_field(model_matcher):
    with pytest.raises(InputError) as caught:
        model_matcher.match(ComponentQuery(cpe="cpe:2.3:a:offis"))
    assert caught.value.problems[0].field == "cpe"
    with pytest.raises(InputError) as caught:
        model_matcher.match(ComponentQuery(purl="not a purl"))
    assert caught.value.problems[0].field == "purl"


def test_one_answer_per_vulnerability_keeping_the_best(model_matcher):
    found = model_matcher.match(
        ComponentQuery(vendor="BD", product="Alaris PC Unit", version="9.33")
    )
    assert len(_ids(found)) == len(set(_ids(found)))


# --- the matcher on the real advisories -----------------------------------------------------------


@pytest.fixture(scope="module")
def real_matcher(shared_data) -> Matcher:
    store = import_real_advisories(Store.in_memory(), shared_data)
    return Matcher.from_store(store, bundled.vendor_aliases())


def test_real_advisories_alaris_pc_unit(real_matcher):
    found = real_matcher.match(
        ComponentQuery(vendor="BD", product="Alaris PC Unit", version="9.19")
    )
    assert {"CVE-2019-11479", "CVE-2020-25165"} <= set(_ids(found))
    assert found[0].confidence == 1.0


def test_real_advisories_a_fixed_dcmtk_does_not_match(real_matcher):
    affected = real_matcher.match(ComponentQuery(vendor="OFFIS", product="DCMTK", version="3.6.6"))
    assert {"CVE-2022-2119", "CVE-2022-2120", "CVE-2022-2121"} <= set(_ids(affected))
    fixed = real_matcher.match(ComponentQuery(vendor="OFFIS", product="DCMTK", version="3.6.7"))
    assert not {"CVE-2022-2119", "CVE-2022-2120", "CVE-2022-2121"} & set(_ids(fixed))


def test_real_advisories_welch_allyn_under_baxter_and_hillrom(real_matcher):
    found = real_matcher.match(
        ComponentQuery(vendor="Welch Allyn", product="Connex Spot Monitor", version="1.51")
    )
    assert {"CVE-2021-27408", "CVE-2021-27410"} <= set(_ids(found))


def test_real_advisories_free_text(real_matcher):
    found = real_matcher.match(ComponentQuery(text="SOOIL Dana Diabecare RS firmware 2.9"))
    assert "CVE-2020-27256" in _ids(found)
    assert real_matcher.match(ComponentQuery(text="SOOIL Dana Diabecare RS firmware 3.0")) == []


def test_kb_match_json_prints_id_confidence_and_reason(tmp_path, shared_data):
    from mdrisk.cli import main

    runner = CliRunner()
    store = tmp_path / "kb.sqlite"
    imported = runner.invoke(
        main, ["kb", "import", str(shared_data / "cisa-csaf-icsma"), "--store", str(store)]
    )
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(
        main,
        [
            "kb",
            "match",
            "--vendor",
            "BD",
            "--product",
            "Alaris PC Unit",
            "--version",
            "9.19",
            "--json",
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer and {"id", "confidence", "reason"} <= set(answer[0])
    bad = runner.invoke(main, ["kb", "match", "--cpe", "cpe:2.3:a:x", "--store", str(store)])
    assert bad.exit_code == 2 and "cpe" in bad.output
