"""The threat landscape of AI-enabled medical devices, as an analyst reads it.

Real data (../shared/data): FDA's AI-enabled device list, the Babic et al. MAUDE extract,
CISA's medical advisories (CSAF and the ICS Advisory Project table) and KEV. Every key count
the tool reports is recomputed here straight from the raw files with xml.etree, csv and
json, independently of the importers. The openFDA records under tests/corpus/landscape/ are
hand-written (no bulk openFDA file is available offline); openFDA sync is tested against a
server on 127.0.0.1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import statistics
import threading
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk import bundled
from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.kb.sync.client import HttpClient
from mdrisk.kb.sync.errors import SyncError
from mdrisk.landscape.analysis import analyse
from mdrisk.landscape.analysis.results import Landscape
from mdrisk.landscape.importers.babic_devices import BabicDevicesImporter
from mdrisk.landscape.importers.base import LandscapeImporter
from mdrisk.landscape.importers.fda_ai_csv import FdaAiCsvImporter
from mdrisk.landscape.importers.fda_ai_json import FdaAiJsonImporter
from mdrisk.landscape.importers.fda_ai_xml import FdaAiXmlImporter
from mdrisk.landscape.importers.ics_table import IcsTableImporter
from mdrisk.landscape.importers.maude_rows import MaudeRowsImporter
from mdrisk.landscape.importers.openfda_clearance import OpenFdaClearanceImporter
from mdrisk.landscape.importers.openfda_event import OpenFdaEventImporter
from mdrisk.landscape.importers.openfda_recall import OpenFdaRecallImporter
from mdrisk.landscape.keywords import Classifier, rules_from_text
from mdrisk.landscape.sources import load_corpus
from mdrisk.landscape.submission import parse_submission
from mdrisk.landscape.sync import OpenFdaSync, product_code_searches, slug

CORPUS = Path(__file__).parent / "corpus" / "landscape"
VALID = CORPUS / "valid"
MALFORMED = CORPUS / "malformed"
OPENFDA = CORPUS / "openfda"
EXPECTED = yaml.safe_load((MALFORMED / "expected.yaml").read_text("utf-8"))
RULES = bundled.landscape_keywords().rules
CLASSIFIER = Classifier(RULES)
HYPERLINK_TEXT = re.compile(r'"([A-Z]+\d{6}(?:/S\d+)?)"\)$')
CVE = re.compile(r"CVE-\d{4}-\d{4,}")


def importer_for(name: str) -> LandscapeImporter:
    if name.startswith("fda-ai-enriched"):
        return FdaAiJsonImporter()
    if name.startswith("fda-ai"):
        return FdaAiXmlImporter() if name.endswith(".xml") else FdaAiCsvImporter()
    prefixes = {
        "maude-rows": MaudeRowsImporter,
        "babic-devices": BabicDevicesImporter,
        "ics-table": IcsTableImporter,
        "openfda-event": OpenFdaEventImporter,
        "openfda-recall": OpenFdaRecallImporter,
        "openfda-510k": OpenFdaClearanceImporter,
    }
    return next(importer() for prefix, importer in prefixes.items() if name.startswith(prefix))


def analysed(data: Path, openfda: list[Path] | None = None) -> Landscape:
    return analyse(load_corpus(data, openfda), RULES, bundled.vendor_aliases())


# --- the real data, read a second way -------------------------------------------------------


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Landscape:
    return analysed(shared_data)


def raw_ai_list(data: Path) -> list[dict[str, str]]:
    root = ET.parse(data / "fda-ai-enabled-devices" / "ai-ml-enabled-devices-xml.xml").getroot()
    rows = []
    for row in root.iter("row"):
        number = HYPERLINK_TEXT.search(row.findtext("Submission_number").strip()).group(1)
        rows.append(
            {
                "number": number,
                "date": row.findtext("Date_of_final_decision"),
                "panel": row.findtext("Panel"),
            }
        )
    return rows


def raw_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def raw_csaf(data: Path) -> list[dict]:
    return [
        json.loads(path.read_text("utf-8"))
        for path in sorted((data / "cisa-csaf-icsma").glob("*/*.json"))
    ]


def raw_icsma_rows(data: Path) -> list[dict[str, str]]:
    return [
        row
        for row in raw_csv(data / "ics-advisory-project" / "CISA_ICS_ADV_Master.csv")
        if row["ICS-CERT_Number"].startswith("ICSMA")
    ]


def icsma_base(number: str) -> str:
    return re.match(r"ICSMA-\d\d-\d{3}-\d\d", number.upper()).group(0)


def test_ai_devices_per_year_are_the_xml_rows_per_decision_year(real, shared_data):
    rows = raw_ai_list(shared_data)
    per_year = Counter(int(row["date"][-4:]) for row in rows)
    assert {row.year: row.devices for row in real.devices_by_year if row.devices} == per_year
    assert real.headline.ai_devices == len(rows) == 1357
    enriched = json.loads(
        (shared_data / "fda-ai-enabled-devices" / "ai-ml-enabled-devices-enriched.json").read_text(
            "utf-8"
        )
    )
    assert Counter(entry["year"] for entry in enriched) == per_year
    review = sorted(
        (
            dt.datetime.strptime(e["date"], "%m/%d/%Y").date()
            - dt.date.fromisoformat(e["received_date"])
        ).days
        for e in enriched
        if e["received_date"]
        and dt.date.fromisoformat(e["received_date"])
        <= dt.datetime.strptime(e["date"], "%m/%d/%Y").date()
    )
    assert real.headline.review_days_known == len(review)
    assert real.headline.median_review_days == statistics.median(review)


def test_panels_and_pathways_are_counted_from_the_list(real, shared_data):
    rows = raw_ai_list(shared_data)
    assert {row.label: row.count for row in real.devices_by_panel} == Counter(
        row["panel"] for row in rows
    )
    prefixes = Counter(re.match(r"[A-Z]+", row["number"]).group(0) for row in rows)
    assert real.headline.pathways == {
        "510(k)": prefixes["K"],
        "De Novo": prefixes["DEN"],
        "PMA": prefixes["P"],
    }
    assert real.headline.top_panel == "Radiology"


def test_devices_with_adverse_events_are_the_listed_devices_with_maude_rows(real, shared_data):
    listed = {row["number"] for row in raw_ai_list(shared_data)}
    babic = shared_data / "medai-babic-2025"
    reports = raw_csv(babic / "943_AEs_for_fda_devices.csv")
    searched = {row["idnumber"] for row in raw_csv(babic / "823_fda_devices_withAEs.csv")}
    with_reports = {row["idnumber"] for row in reports} & listed
    assert real.headline.devices_with_reports == len(with_reports) == 51
    assert real.headline.devices_covered == len(searched & listed) == 820
    assert real.headline.reports_linked == sum(1 for r in reports if r["idnumber"] in listed)
    codes = Counter(row["event_type"] for row in reports)
    assert real.headline.reports_by_type == {
        "malfunction": codes["M"],
        "injury": codes["IN"],
        "death": codes["D"],
    }
    assert {row.submission for row in real.outcomes} == with_reports


def test_reports_within_each_window_agree_with_the_authors_own_counts(real, shared_data):
    """Babic et al. counted reports received within 3, 6, 12 and 24 months of the decision;
    counting from the report rows ourselves gives the same numbers for every device."""
    authors = {
        row["idnumber"]: row
        for row in raw_csv(shared_data / "medai-babic-2025" / "823_fda_devices_withAEs.csv")
    }
    for outcome in real.outcomes:
        theirs = authors[outcome.submission]
        for days, column in ((90, "ae_3mths"), (182, "ae_6mths"), (365, "ae_1yr"), (730, "ae_2yr")):
            assert outcome.reports_within[days] == int(float(theirs[column] or 0)), (
                outcome.submission,
                column,
            )
        assert outcome.reports == int(float(theirs["adverse_events"]))
    assert real.report_timing[-1].cumulative == real.headline.reports_linked


def test_advisory_count_is_the_distinct_icsma_numbers_of_both_sources(real, shared_data):
    numbers = {icsma_base(doc["document"]["tracking"]["id"]) for doc in raw_csaf(shared_data)}
    numbers |= {icsma_base(row["ICS-CERT_Number"]) for row in raw_icsma_rows(shared_data)}
    assert real.headline.advisories == len(numbers) == 190
    assert real.headline.advisories_csaf == 124
    per_year = Counter(2000 + int(number.split("-")[1]) for number in numbers)
    assert {int(row.key): row.count for row in real.advisories_by_year if row.count} == per_year


def _csaf_vendors(branches: list, found: set[str]) -> None:
    for branch in branches or []:
        if branch.get("category") == "vendor":
            found.add(branch["name"])
        _csaf_vendors(branch.get("branches"), found)


def test_advisory_counts_by_vendor_match_the_raw_vendor_names(real, shared_data):
    written: dict[str, set[str]] = defaultdict(set)
    for doc in raw_csaf(shared_data):
        _csaf_vendors(
            doc.get("product_tree", {}).get("branches"),
            written[icsma_base(doc["document"]["tracking"]["id"])],
        )
    for row in raw_icsma_rows(shared_data):
        written[icsma_base(row["ICS-CERT_Number"])].add(row["Vendor"])
    by_company = {row.company: row for row in real.advisories_by_vendor}
    spelled = {
        "philips": ("philips", "phillips"),
        "bd": ("becton",),
        "medtronic": ("medtronic",),
        "baxter": ("baxter",),
        "b_braun": ("braun",),
    }
    for company, needles in spelled.items():
        expected = sum(
            1
            for names in written.values()
            if any(needle in name.lower() for name in names for needle in needles)
        )
        assert by_company[company].advisories == expected, company
    assert real.advisories_by_vendor[0].company == "philips"
    assert real.headline.top_vendor_advisories == 41


def test_cve_count_and_the_share_known_exploited(real, shared_data):
    csaf = {
        item["cve"]
        for doc in raw_csaf(shared_data)
        for item in doc.get("vulnerabilities", [])
        if item.get("cve")
    }
    table = {cve for row in raw_icsma_rows(shared_data) for cve in CVE.findall(row["CVE_Number"])}
    kev = {
        entry["cveID"]
        for entry in json.loads(
            (shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text("utf-8")
        )["vulnerabilities"]
    }
    assert real.headline.cves_csaf == len(csaf) == 377
    assert real.headline.kev_cves_csaf == len(csaf & kev) == 11
    assert real.headline.cves == len(csaf | table)
    assert real.headline.kev_cves == len((csaf | table) & kev)
    assert {row.cve for row in real.kev} == (csaf | table) & kev
    assert real.headline.kev_share == pytest.approx(len((csaf | table) & kev) / len(csaf | table))


def test_top_weaknesses_are_counted_per_advisory(real, shared_data):
    per_advisory: dict[str, set[str]] = defaultdict(set)
    for doc in raw_csaf(shared_data):
        number = icsma_base(doc["document"]["tracking"]["id"])
        per_advisory[number] |= {
            item["cwe"]["id"] for item in doc.get("vulnerabilities", []) if item.get("cwe")
        }
    for row in raw_icsma_rows(shared_data):
        per_advisory[icsma_base(row["ICS-CERT_Number"])] |= set(
            re.findall(r"CWE-\d+", row["CWE_Number"])
        )
    counts = Counter(cwe for cwes in per_advisory.values() for cwe in cwes)
    assert {row.cwe: row.advisories for row in real.advisories_by_cwe} == counts
    assert real.advisories_by_cwe[0].name  # named from MITRE's catalogue


def test_makers_in_both_lists_are_named_and_related_through_owners(real):
    same = {row.company for row in real.maker_overlap if row.relation == "same company"}
    assert {"philips", "ge_healthcare", "medtronic", "bd"} <= same
    related = {
        (row.company, row.advisory_company)
        for row in real.maker_overlap
        if row.relation == "related"
    }
    assert ("abbott", "st_jude") in related  # Abbott acquired St. Jude Medical
    ge = next(row for row in real.maker_overlap if row.company == "ge_healthcare")
    assert "GE Medical Systems, LLC" in ge.ai_names and ge.ai_devices >= 30
    assert real.headline.overlap_same == len(same)


def test_hand_written_openfda_records_link_to_real_ai_devices(shared_data):
    landscape = analysed(shared_data, [OPENFDA])
    classified = {row.id: row for row in landscape.classified}
    mammomat = classified["Z-0003-2024"]  # cites P140011; the list has P140011/S008
    assert mammomat.devices == ["P140011/S008"] and mammomat.link == "submission"
    assert mammomat.categories == ["software", "cybersecurity"]
    aidoc = classified["90000005"]  # maker + product code, several Aidoc devices in QAS
    assert aidoc.link == "maker+product code" and len(aidoc.devices) > 1
    assert landscape.headline.recalls_linked == 3
    assert landscape.headline.reports_linked == 943 + 4


# --- a small data folder: linking, timing and classification --------------------------------


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    places = {
        "fda-ai-list.xml": "fda-ai-enabled-devices/ai-ml-enabled-devices-xml.xml",
        "babic-devices.csv": "medai-babic-2025/823_fda_devices_withAEs.csv",
        "maude-rows.csv": "medai-babic-2025/943_AEs_for_fda_devices.csv",
        "ics-table.csv": "ics-advisory-project/CISA_ICS_ADV_Master.csv",
    }
    for name, place in places.items():
        (data / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(VALID / name, data / place)
    shutil.copytree(OPENFDA, data / "openfda")
    return data


def test_reports_and_recalls_link_by_submission_or_by_maker_and_product_code(small_data):
    landscape = analysed(small_data)
    classified = {row.id: row for row in landscape.classified}
    assert classified["90000001"].devices == ["K161772"]
    assert classified["90000001"].categories == ["ml_function"]
    assert classified["90000002"].categories == ["software"]
    assert "cybersecurity" in classified["90000002"].negated  # "no indication of a cyber..."
    assert classified["90000003"].categories == ["cybersecurity"]
    spinear = classified["90000004"]  # no 510(k) number: "SURGICAL THEATER INC" + SBF
    assert spinear.link == "maker+product code" and spinear.devices == ["K252054"]
    assert spinear.categories == [] and "software" in spinear.negated  # "was ruled out"
    assert "90000006" not in classified  # an unrelated pump: linked to nothing
    assert classified["Z-0001-2021"].categories == ["software"]
    assert classified["Z-0002-2023"].categories == []  # "not related to software or cyber..."
    outcomes = {row.submission: row for row in landscape.outcomes}
    assert outcomes["K161772"].reports == 3  # two MAUDE rows and one openFDA report
    assert outcomes["K252054"].first_report_days == 21  # decided 29 Sep, received 20 Oct
    assert outcomes["K190387"].recalls == 1 and outcomes["K190387"].first_recall_days == 621
    assert landscape.headline.devices_with_reports == 2  # of the three searched devices
    assert landscape.headline.devices_with_reports_other == 2  # ZEUS and SpineAR, openFDA only
    assert landscape.headline.records_by_category == {
        "cybersecurity": 1,
        "ml_function": 1,
        "software": 2,
    }
    assert [row.window for row in landscape.recall_timing if row.records] == ["≤ 2 years"]
    [advisory] = landscape.advisories  # the table's ICSA row is not a medical advisory
    assert advisory.id == "ICSMA-25-060-01" and advisory.source == "ics-table"
    assert advisory.cves == ["CVE-2025-0001", "CVE-2025-0002"]
    assert advisory.cwes == ["CWE-319", "CWE-798"]
    assert advisory.device_classes == ["infusion"]


def test_a_missing_source_is_listed_as_absent(small_data):
    landscape = analysed(small_data)
    absent = {row.name for row in landscape.sources if not row.present}
    assert "CISA Known Exploited Vulnerabilities" in absent
    assert "CISA medical advisories (CSAF 2.0)" in absent
    assert landscape.headline.kev_cves == 0


def test_hand_typed_id_lists_are_repaired_or_noted():
    parsed = IcsTableImporter().parse(VALID / "ics-table.csv")
    plc = next(row for row in parsed.records if row.number == "ICSA-24-005-01")
    assert plc.cves == ["CVE-2024-21916"] and plc.cwes == ["CWE-843"]
    assert plc.cvss is None  # "Not Applicable"
    assert parsed.notes == []


# --- malformed and partial files --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_refused_naming_file_and_record(name):
    expected = EXPECTED[name]
    path = MALFORMED / name
    with pytest.raises(InputError) as refused:
        importer_for(name).parse(path)
    error = refused.value
    assert error.file == str(path)
    problem = error.problems[0]
    assert expected["message"] in problem.message
    if "field" in expected:
        assert problem.field == expected["field"]


def test_every_malformed_file_has_an_expectation():
    files = {path.name for path in MALFORMED.iterdir() if path.name != "expected.yaml"}
    assert files == set(EXPECTED)


VALID_FILES = [
    ("fda-ai-list.xml", FdaAiXmlImporter),
    ("fda-ai-list-enriched.json", FdaAiJsonImporter),
    ("fda-ai-list.csv", FdaAiCsvImporter),
    ("maude-rows.csv", MaudeRowsImporter),
    ("babic-devices.csv", BabicDevicesImporter),
    ("ics-table.csv", IcsTableImporter),
]
OPENFDA_FILES = [
    ("device-event-handwritten.json", OpenFdaEventImporter),
    ("device-recall-handwritten.json", OpenFdaRecallImporter),
    ("device-510k-handwritten.json", OpenFdaClearanceImporter),
]
ALL_FILES = [(VALID / name, importer) for name, importer in VALID_FILES] + [
    (OPENFDA / name, importer) for name, importer in OPENFDA_FILES
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_cut_file_is_refused_or_reads_as_a_prefix(tmp_path, data):
    """Cut anywhere, a file either is refused with its name, or (cut exactly at a line end,
    or in trailing white space) gives the first records of the whole file, never others."""
    path, importer = data.draw(st.sampled_from(ALL_FILES))
    content = path.read_bytes()
    cut = data.draw(st.integers(min_value=1, max_value=len(content) - 1))
    target = tmp_path / f"cut-{path.name}"
    target.write_bytes(content[:cut])
    whole = importer().parse(path).records
    try:
        records = importer().parse(target).records
    except InputError as refused:
        assert refused.file == str(target)
        return
    assert [r.model_dump(exclude={"source"}) for r in records] == [
        r.model_dump(exclude={"source"}) for r in whole[: len(records)]
    ]
    assert content[:cut].endswith(b"\n") or not content[cut:].strip()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_damaged_byte_is_refused_or_read_but_never_crashes(tmp_path, data):
    path, importer = data.draw(st.sampled_from(ALL_FILES))
    content = bytearray(path.read_bytes())
    position = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
    content[position] = data.draw(st.integers(min_value=0, max_value=255))
    target = tmp_path / f"damaged-{path.name}"
    target.write_bytes(bytes(content))
    try:
        importer().parse(target)
    except InputError as refused:
        assert refused.file == str(target) and refused.problems


def test_a_broken_file_stops_the_run_with_exit_2_naming_it(small_data):
    broken = small_data / "medai-babic-2025" / "943_AEs_for_fda_devices.csv"
    shutil.copy(MALFORMED / "maude-rows-repeated-key.csv", broken)
    result = CliRunner().invoke(
        main,
        [
            "landscape",
            "--out",
            str(small_data.parent / "out"),
            "--data",
            str(small_data),
            "--no-plots",
        ],
    )
    assert result.exit_code == 2
    assert str(broken) in result.output and "line 5 (80000001)" in result.output
    assert not (small_data.parent / "out").exists()


def test_a_file_in_the_openfda_folder_that_is_not_openfda_is_refused(small_data):
    (small_data / "openfda" / "notes.json").write_text('{"hello": "world"}', "utf-8")
    with pytest.raises(InputError) as refused:
        load_corpus(small_data)
    assert refused.value.file.endswith("notes.json")


# --- submission numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, link_key, pathway",
    [
        ("K252054", "K252054", "510(k)"),
        ("k 252054", "K252054", "510(k)"),
        ("K-252054", "K252054", "510(k)"),
        ("DEN240068", "DEN240068", "De Novo"),
        ("P140011/S008", "P140011", "PMA"),
        ("p140011 / s8", "P140011", "PMA"),
        (
            '=HYPERLINK("https://www.accessdata.fda.gov/x?ID=K252054", "K252054")',
            "K252054",
            "510(k)",
        ),
    ],
)
def test_submission_numbers_are_normalised(written, link_key, pathway):
    parsed = parse_submission(written)
    assert parsed is not None and parsed.link_key == link_key and parsed.pathway == pathway


@given(st.text(max_size=40))
def test_reading_any_text_as_a_submission_number_never_fails(text):
    parsed = parse_submission(text)
    if parsed is not None:
        assert parse_submission(parsed.id) == parsed


# --- keyword rules with negation ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, categories",
    [
        ("No software malfunction was found.", []),
        ("The event was not related to cybersecurity.", []),
        ("Not related to cybersecurity, but a software error froze the display.", ["software"]),
        (
            "No software malfunction was found, but the algorithm failed to detect the nodule.",
            ["ml_function"],
        ),
        ("No injury was reported, the software froze during the scan.", ["software"]),
        ("No software, firmware or hardware fault was identified.", []),
        ("A software fault could not be ruled out.", ["software"]),
        ("Software was ruled out as a cause of the event.", []),
        ("The AI model performed as intended; the user misread the display.", []),
        ("The device didn't have a software problem.", []),
        ("There is no evidence of a cybersecurity vulnerability.", []),
        ("Hackers exploited a vulnerability in the remote monitoring server.", ["cybersecurity"]),
        ("The CAD output missed a nodule (false negative).", ["ml_function"]),
        ("Firmware version 2.1 contains a defect that resets the pump.", ["software"]),
        ("The patient had no injuries; a software error stopped the pump.", ["software"]),
        ("Neither software nor cybersecurity issues were involved.", []),
        ("Maintenance of the main board was performed.", []),
        ("The nurse said the pump was aided by its alarm (ai).", []),
    ],
)
def test_negated_mentions_do_not_count(sentence, categories):
    assert list(CLASSIFIER.classify(sentence).categories) == categories


def test_evidence_quotes_the_words_that_decided():
    text = "No patient harm. The algorithm misclassified a benign lesion as malignant."
    result = CLASSIFIER.classify(text)
    assert "algorithm misclassified" in result.evidence(text, "ml_function")
    negated = CLASSIFIER.classify("Software was ruled out.")
    assert [(hit.term, hit.cue) for hit in negated.hits] == [("Software", "was ruled out")]


FILLER = [
    "the",
    "pump",
    "display",
    "report",
    "stopped",
    "during",
    "therapy",
    "patient",
    "screen",
    "readings",
    "were",
    "late",
    "after",
    "update",
]
TERMS = {
    "software": "software",
    "firmware": "software",
    "malware": "cybersecurity",
    "ransomware": "cybersecurity",
    "algorithm": "ml_function",
}


@given(
    term=st.sampled_from(sorted(TERMS)),
    before=st.lists(st.sampled_from(FILLER), max_size=3),
    after=st.lists(st.sampled_from(FILLER), max_size=5),
)
def test_a_term_counts_unless_a_cue_negates_it(term, before, after):
    plain = " ".join(before + [term] + after) + "."
    assert TERMS[term] in CLASSIFIER.classify(plain).categories
    negated = " ".join(["No"] + before + [term] + after) + "."
    assert TERMS[term] not in CLASSIFIER.classify(negated).categories


@given(st.text(max_size=300))
def test_classifying_any_text_never_fails(text):
    result = CLASSIFIER.classify(text)
    assert set(result.categories) <= {category.id for category in RULES.categories}


def test_a_bad_rule_is_refused_with_its_line():
    text = resources.files("mdrisk").joinpath("data", "landscape-keywords.yaml").read_text("utf-8")
    broken = text.replace("'\\bsoftware\\b'", "'(software'", 1)
    with pytest.raises(InputError) as refused:
        rules_from_text(broken, "rules.yaml")
    problem = refused.value.problems[0]
    assert "is not a regular expression" in problem.message
    assert problem.field == "categories[software].terms" and problem.line is not None


# --- openFDA sync against a local server ----------------------------------------------------------


class FakeOpenFda(BaseHTTPRequestHandler):
    """Serves ``records`` like api.fda.gov: skip/limit pages, or search_after links."""

    records: list[dict] = []
    requests: list[dict[str, list[str]]] = []
    drop_after: int | None = None
    empty: bool = False

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        query = parse_qs(urlsplit(self.path).query)
        type(self).requests.append(query)
        if type(self).empty:
            self._send(404, {"error": {"code": "NOT_FOUND", "message": "No matches found!"}})
            return
        limit = int(query["limit"][0])
        start = int(query.get("search_after", query.get("skip", ["0"]))[0])
        if type(self).drop_after is not None and start >= type(self).drop_after:
            page: list[dict] = []
        else:
            page = type(self).records[start : start + limit]
        headers = {}
        if "skip" not in query and start + limit < len(type(self).records):
            port = self.server.server_address[1]
            headers["Link"] = (
                f"<http://127.0.0.1:{port}{urlsplit(self.path).path}?search="
                f"{query['search'][0]}&limit={limit}&search_after="
                f'{start + limit}>; rel="next"'
            )
        self._send(
            200,
            {
                "meta": {
                    "last_updated": "2025-10-01",
                    "results": {"skip": start, "limit": limit, "total": len(type(self).records)},
                },
                "results": page,
            },
            headers,
        )

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def openfda_server():
    recalls = json.loads((OPENFDA / "device-recall-handwritten.json").read_text("utf-8"))
    template = recalls["results"][0]
    FakeOpenFda.records = [
        {**template, "product_res_number": f"Z-{n:04d}-2021", "cfres_id": str(200000 + n)}
        for n in range(23)
    ]
    FakeOpenFda.requests = []
    FakeOpenFda.drop_after = None
    FakeOpenFda.empty = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenFda)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def syncer(out: Path, base_url: str, **options) -> tuple[OpenFdaSync, FakeTime]:
    time = FakeTime()
    client = HttpClient(clock=time.clock, sleep=time.sleep, max_attempts=2)
    return OpenFdaSync(
        client, out, base_url=base_url, today=lambda: dt.date(2025, 10, 1), **options
    ), time


def test_sync_pages_with_skip_and_limit_and_writes_an_importable_file(tmp_path, openfda_server):
    sync, time = syncer(tmp_path, openfda_server, page_limit=5)
    found = sync.fetch("device-recall", "product_code:MUJ")
    assert found.total == 23 and found.requests == 5 and found.paging == "skip"
    assert [q.get("skip", ["-"])[0] for q in FakeOpenFda.requests] == ["-", "5", "10", "15", "20"]
    assert time.slept == pytest.approx([0.25] * 4)  # 240 a minute: one every 0.25 s
    path = sync.write(found)
    assert path == tmp_path / "device-recall" / f"{slug('product_code:MUJ')}.json"
    recalls = OpenFdaRecallImporter().parse(path).records
    assert [r.recall_id for r in recalls] == [f"Z-{n:04d}-2021" for n in range(23)]


def test_sync_follows_search_after_links_past_the_skip_ceiling(tmp_path, openfda_server):
    sync, _ = syncer(tmp_path, openfda_server, page_limit=5, skip_max=10)
    found = sync.fetch("device-recall", "product_code:MUJ")
    assert found.paging == "search_after" and len(found.records) == 23
    assert all("skip" not in query for query in FakeOpenFda.requests)
    assert [q.get("search_after", ["-"])[0] for q in FakeOpenFda.requests] == [
        "-",
        "5",
        "10",
        "15",
        "20",
    ]


def test_sync_of_a_search_without_match_writes_an_empty_file(tmp_path, openfda_server):
    FakeOpenFda.empty = True
    sync, _ = syncer(tmp_path, openfda_server)
    found = sync.fetch("device-event", "device.device_report_product_code:ZZZ")
    assert found.total == 0
    assert OpenFdaEventImporter().parse(sync.write(found)).records == []


def test_sync_stops_before_the_daily_budget_runs_out(tmp_path, openfda_server):
    sync, _ = syncer(tmp_path, openfda_server, page_limit=5, per_day=3)
    with pytest.raises(SyncError, match="5 requests, 2 left today"):
        sync.fetch("device-recall", "product_code:MUJ")
    assert len(FakeOpenFda.requests) == 1
    assert json.loads((tmp_path / ".openfda-requests.json").read_text()) == {
        "day": "2025-10-01",
        "requests": 1,
    }
    again, _ = syncer(tmp_path, openfda_server, page_limit=5, per_day=3)
    assert again.budget.left == 2  # the day's count is shared between runs


def test_sync_refuses_a_result_the_server_cuts_short(tmp_path, openfda_server):
    FakeOpenFda.drop_after = 10
    sync, _ = syncer(tmp_path, openfda_server, page_limit=5)
    with pytest.raises(SyncError, match="returned 10 of the 23 records"):
        sync.fetch("device-recall", "product_code:MUJ")
    assert not (tmp_path / "device-recall").exists()


def test_sync_sends_the_api_key_but_never_writes_it(tmp_path, openfda_server):
    sync, _ = syncer(tmp_path, openfda_server, page_limit=10, api_key="sekrit-key")
    found = sync.fetch("device-recall", "product_code:MUJ")
    assert all(query["api_key"] == ["sekrit-key"] for query in FakeOpenFda.requests)
    assert sync.budget.per_day == 120000
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sekrit" not in path.read_bytes()
    assert b"sekrit" not in sync.write(found).read_bytes()


def test_sync_command_writes_files_the_landscape_reads(tmp_path, openfda_server, small_data):
    runner = CliRunner()
    fetched = runner.invoke(
        main,
        [
            "landscape",
            "sync",
            "--endpoint",
            "device-recall",
            "--search",
            "k_numbers:K190387",
            "--out",
            str(tmp_path / "fetched"),
            "--base-url",
            openfda_server,
        ],
    )
    assert fetched.exit_code == 0, fetched.output
    assert "23 records in 1 request(s)" in fetched.output
    shutil.rmtree(small_data / "openfda")
    landscape = analysed(small_data, [tmp_path / "fetched"])
    assert landscape.headline.recalls_linked == 23


def test_product_code_searches_cover_every_code():
    searches = product_code_searches(
        "device-event", [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(45)]
    )
    assert len(searches) == 3
    assert searches[0].startswith("device.device_report_product_code:(QAA OR QAB")


# --- the command ------------------------------------------------------------------------


def test_landscape_command_writes_tables_plots_and_a_self_contained_html(tmp_path, shared_data):
    pytest.importorskip("matplotlib")
    runner = CliRunner()
    first = runner.invoke(
        main, ["landscape", "--out", str(tmp_path / "a"), "--data", str(shared_data)]
    )
    assert first.exit_code == 0, first.output
    assert "AI-enabled devices: 1,357" in first.output
    out = tmp_path / "a"
    html = (out / "index.html").read_text("utf-8")
    assert "<script" not in html.lower()
    assert 'src="http' not in html and "<link" not in html  # nothing fetched from elsewhere
    assert html.count('<img src="data:image/svg+xml;base64,') == 6
    for table in sorted((out / "tables").glob("*.csv")):
        rows = list(csv.reader(io.StringIO(table.read_text("utf-8"), newline="")))
        assert rows and all(len(row) == len(rows[0]) for row in rows), table.name
    by_year = raw_csv(out / "tables" / "ai-devices-by-year.csv")
    assert sum(int(row["devices"]) for row in by_year) == 1357
    for plot in sorted((out / "plots").glob("*.png")):
        assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        ET.fromstring(plot.with_suffix(".svg").read_bytes())  # well-formed SVG
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["headline"]["devices_with_reports"] == 51
    assert summary["headline"]["kev_cves_csaf"] == 11

    second = runner.invoke(
        main, ["landscape", "--out", str(tmp_path / "b"), "--data", str(shared_data)]
    )
    assert second.exit_code == 0
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    for name in files:  # the same inputs give the same bytes, plots included
        assert (out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_landscape_without_plots_still_writes_the_summary(small_data, tmp_path):
    result = CliRunner().invoke(
        main, ["landscape", "--out", str(tmp_path / "out"), "--data", str(small_data), "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "index.html").read_text("utf-8")
    assert "<img" not in html and "<script" not in html
    assert not (tmp_path / "out" / "plots").exists()
    classified = raw_csv(tmp_path / "out" / "tables" / "classified-records.csv")
    assert {row["id"]: row["cybersecurity"] for row in classified}["90000003"] == "yes"


def test_landscape_needs_out_and_an_existing_data_folder(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["landscape"]).exit_code == 2
    missing = runner.invoke(
        main, ["landscape", "--out", str(tmp_path / "o"), "--data", str(tmp_path / "nowhere")]
    )
    assert missing.exit_code == 2 and "nowhere" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(
        main, ["landscape", "--out", str(tmp_path / "o"), "--data", str(tmp_path / "empty")]
    )
    assert empty.exit_code == 2 and "none of the landscape's sources" in empty.output
    assert not (tmp_path / "o").exists()
