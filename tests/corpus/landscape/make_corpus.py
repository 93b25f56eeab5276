"""Writes this corpus: hand-made inputs for the landscape importers (nothing is copied from
public data; the openFDA records are invented, shaped after openFDA's published schemas, and
cite real AI-enabled devices' submission numbers so that linking can be tested). Run it
again after changing an input or an expectation:
``python tests/corpus/landscape/make_corpus.py``.
"""

import copy
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
BAD = ROOT / "malformed"
GOOD = ROOT / "valid"
OPENFDA = ROOT / "openfda"
DISCLAIMER = "Hand-written test records for mdrisk; not openFDA data."


def dump(value):
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def envelope(results, **paging):
    meta = {
        "disclaimer": DISCLAIMER,
        "last_updated": "2025-10-01",
        "results": {"skip": 0, "limit": len(results), "total": len(results)},
    }
    meta["results"].update(paging)
    return {"meta": meta, "results": results}


def event(key, received, kind, text, problems=(), k_number="", maker="", code="", brand=""):
    return {
        "mdr_report_key": key,
        "report_number": f"9999999-{received[:4]}-{key[-5:]}",
        "date_received": received,
        "date_of_event": "",
        "event_type": kind,
        "adverse_event_flag": "Y" if kind in ("Injury", "Death") else "N",
        "product_problem_flag": "Y",
        "manufacturer_name": maker,
        "device": [
            {
                "device_sequence_number": "1",
                "brand_name": brand,
                "manufacturer_d_name": maker,
                "device_report_product_code": code,
                "baseline_510_k_number": k_number,
                "model_number": "",
                "lot_number": "",
            }
        ],
        "mdr_text": [
            {
                "mdr_text_key": f"{key}1",
                "text_type_code": "Description of Event or Problem",
                "patient_sequence_number": "1",
                "text": text,
            }
        ],
        "product_problems": list(problems),
        "patient": [{"patient_sequence_number": "1", "sequence_number_outcome": []}],
    }


EVENTS = [
    event(
        "90000001",
        "20200315",
        "Malfunction",
        "The FFRct analysis reported a value that disagreed with invasive FFR. The algorithm "
        "misclassified a stenosis as not significant. No patient injury was reported.",
        ["Incorrect Or Inadequate Test Results"],
        "K161772",
        "HEARTFLOW, INC.",
        "PJA",
        "FFRCT",
    ),
    event(
        "90000002",
        "20180704",
        "Injury",
        "The glucose meter app crashed after a software update and displayed an incorrect "
        "reading; the patient took an extra insulin dose. There was no indication of a "
        "cybersecurity incident.",
        ["Application Program Problem"],
        "K150817",
        "LABSTYLE INNOVATIONS LTD",
        "NBW",
        "DARIO",
    ),
    event(
        "90000003",
        "20230901",
        "Malfunction",
        "The ECG upload to the cloud failed. Unauthorized access to the patient portal was "
        "reported by the facility's IT department and the manufacturer released a security "
        "patch.",
        [],
        "K222389",
        "IRHYTHM TECHNOLOGIES, INC.",
        "DQK",
        "ZEUS",
    ),
    event(
        "90000004",
        "20251020",
        "Malfunction",
        "The headset froze during planning. Software was ruled out as a cause; the battery "
        "was depleted.",
        [],
        "",
        "SURGICAL THEATER INC",
        "SBF",
        "SPINEAR SNAP",
    ),
    event(
        "90000005",
        "20240110",
        "Malfunction",
        "The triage notification was not sent for a large vessel occlusion: the AI model "
        "failed to detect the occlusion.",
        [],
        "",
        "AIDOC MEDICAL, LTD.",
        "QAS",
        "BRIEFCASE",
    ),
    event(
        "90000006",
        "20220202",
        "Malfunction",
        "Software error on an unrelated pump.",
        [],
        "K000001",
        "ACME PUMPS",
        "FRN",
        "ACME",
    ),
]

RECALLS = [
    {
        "cfres_id": "190001",
        "product_res_number": "Z-0001-2021",
        "res_event_number": "87001",
        "k_numbers": ["K190387"],
        "pma_numbers": [],
        "product_code": "MUJ",
        "recalling_firm": "RaySearch Laboratories AB",
        "event_date_initiated": "2021-03-01",
        "event_date_posted": "2021-03-20",
        "recall_status": "Terminated",
        "reason_for_recall": "A software anomaly in the dose calculation may cause an incorrect "
        "dose display.",
        "root_cause_description": "Software design",
        "product_description": "Radiation treatment planning system",
    },
    {
        "cfres_id": "190002",
        "product_res_number": "Z-0002-2023",
        "res_event_number": "87002",
        "k_numbers": ["K212441"],
        "pma_numbers": [],
        "product_code": "JAK",
        "recalling_firm": "Philips Healthcare (Suzhou) Co., Ltd.",
        "event_date_initiated": "2023-05-10",
        "event_date_posted": "2023-06-01",
        "recall_status": "Open, Classified",
        "reason_for_recall": "A tube arc may damage the gantry; the issue is not related to "
        "software or cybersecurity.",
        "root_cause_description": "Component design/selection",
        "product_description": "Computed tomography x-ray system",
    },
    {
        "cfres_id": "190003",
        "product_res_number": "Z-0003-2024",
        "res_event_number": "87003",
        "k_numbers": [],
        "pma_numbers": ["P140011"],
        "product_code": "OTE",
        "recalling_firm": "Siemens Medical Solutions USA, Inc.",
        "event_date_initiated": "2024-11-05",
        "event_date_posted": "2024-12-02",
        "recall_status": "Open, Classified",
        "reason_for_recall": "A cybersecurity vulnerability in the acquisition workstation's "
        "operating system could allow unauthorized access.",
        "root_cause_description": "Software design",
        "product_description": "Mammography system with tomosynthesis",
    },
    {
        "cfres_id": "190004",
        "product_res_number": "Z-0004-2020",
        "res_event_number": "87004",
        "k_numbers": [],
        "pma_numbers": [],
        "product_code": "XYZ",
        "recalling_firm": "Unknown Corp",
        "event_date_initiated": "2020-01-02",
        "event_date_posted": "2020-02-03",
        "recall_status": "Terminated",
        "reason_for_recall": "Mislabeled carton.",
        "root_cause_description": "Labeling mix-ups",
        "product_description": "Gauze",
    },
]

CLEARANCES = [
    {
        "k_number": "K161772",
        "decision_date": "2016-08-24",
        "date_received": "2016-04-01",
        "applicant": "HEARTFLOW, INC.",
        "device_name": "FFRct",
        "product_code": "PJA",
        "advisory_committee": "CV",
        "decision_code": "SESE",
        "clearance_type": "Traditional",
    },
    {
        "k_number": "K999998",
        "decision_date": "2020-01-15",
        "date_received": "2019-10-01",
        "applicant": "EXAMPLE CORP",
        "device_name": "Example",
        "product_code": "LLZ",
        "advisory_committee": "RA",
        "decision_code": "SESE",
        "clearance_type": "Traditional",
    },
]

XML_ROW = """  <row>
    <Date_of_final_decision>{date}</Date_of_final_decision>
    <Submission_number>=HYPERLINK("https://www.accessdata.fda.gov/pmn.cfm?ID={number}", \
"{number}")</Submission_number>
    <Device>{device}</Device>
    <Company>{company}</Company>
    <Panel>{panel}</Panel>
    <Primary_product_code>{code}</Primary_product_code>
  </row>
"""
XML_DEVICES = [
    (
        "09/29/2025",
        "K252054",
        "SpineAR SNAP (SyncAR Spine)",
        "Surgical Theater, Inc.",
        "Neurology",
        "SBF",
    ),
    ("08/24/2016", "K161772", "FFRct", "HEARTFLOW, INC.", "Cardiovascular", "PJA"),
    (
        "12/21/2015",
        "K150817",
        "Dario Blood Glucose Monitoring System",
        "LabStyle Innovations Ltd.",
        "Clinical Chemistry",
        "NBW",
    ),
    ("02/15/2023", "K222389", "ZEUS System", "iRhythm Technologies, Inc.", "Cardiovascular", "DQK"),
    ("06/19/2019", "K190387", "RayStation", "RaySearch Laboratories AB (publ)", "Radiology", "MUJ"),
    (
        "04/27/2022",
        "K212441",
        "Philips Incisive CT",
        "Philips Healthcare (Suzhou) Co., Ltd.",
        "Radiology",
        "JAK",
    ),
]


def xml(rows, tail="</data>\n"):
    text = "<?xml version='1.0' encoding='utf-8'?>\n<data>\n"
    for date, number, device, company, panel, code in rows:
        text += XML_ROW.format(
            date=date, number=number, device=device, company=company, panel=panel, code=code
        )
    return text + tail


ENRICHED = [
    {
        "date": date,
        "year": int(date[-4:]),
        "device": device,
        "company": company,
        "panel": panel,
        "code": code,
        "submission_id": number,
        "submission_url": f"https://example.invalid/{number}",
        "received_date": None,
        "decision_date_openfda": None,
        "days_to_decision": None,
        "summary_url": None,
    }
    for date, number, device, company, panel, code in XML_DEVICES
]
AI_CSV = (
    "Date of Final Decision,Submission Number,Device,Company,Panel (Lead),"
    "Primary Product Code\n"
    + "".join(
        f'{date},{number},{device},"{company}",{panel},{code}\n'
        for date, number, device, company, panel, code in XML_DEVICES
    )
)
MAUDE_CSV = (
    "idnumber,mdr_report_key,report_source_code,date_received,adverse_event_flag,"
    "product_problem_flag,date_report,date_of_event,event_type,type_of_report\n"
    "K161772,80000001,M,03/07/2019,N,Y,02/01/2019,,M,I\n"
    'K161772,80000002,M,09/13/2019,Y,N,08/01/2019,07/30/2019,IN,"I,F"\n'
    "K150817,80000003,M,01/30/2017,N,Y,,,M,I\n"
)
BABIC_CSV = (
    "idnumber,applicant,productcode,classadvisecomm,devicename,dtrec,dtdec,"
    "adverse_events,ae_3mths,ae_6mths,ae_9mths,ae_1yr,ae_2yr\n"
    'K161772,"HEARTFLOW, INC.",PJA,CV,FFRct,2016-04-01,2016-08-24,2.0,0.0,0.0,'
    "0.0,0.0,0.0\n"
    "K150817,LabStyle Innovations Ltd.,NBW,CH,Dario,2015-06-01,2015-12-21,1.0,0.0,"
    "0.0,0.0,0.0,1.0\n"
    "K190387,RaySearch Laboratories AB (publ),MUJ,RA,RayStation,2019-03-01,"
    "2019-06-19,,,,,,\n"
)
ICS_HEADER = (
    "icsad_ID,Original_Release_Date,Last_Updated,Year,ICS-CERT_Number,"
    "ICS-CERT_Advisory_Title,Vendor,Product,Products_Affected,CVE_Number,"
    "Cumulative_CVSS,CVSS_Severity,CWE_Number,Critical_Infrastructure_Sector,"
    "Product_Distribution,Company_Headquarters,License\n"
)
ICS_LICENSE = "Open Database License (ODbL) v1.0 - 2026 ICS Advisory Project"
ICS_CSV = ICS_HEADER + (
    f"2,3/1/2025,3/1/2025,2025,ICSMA-25-060-01,Example Infusion Pump,Example Medical,"
    f'Example Pump,Example Pump: <3.0,"CVE-2025-0001, CVE-2025-0002",8.1,High,'
    f'"CWE-798, CWE-319",Healthcare and Public Health,Worldwide,United States,{ICS_LICENSE}\n'
    f"1,1/5/2024,1/5/2024,2024,ICSA-24-005-01,Example PLC,Example Automation,PLC,"
    f"PLC: all,CVE-2024 21916,Not Applicable,Not Applicable,CWE843,Critical Manufacturing,"
    f"Worldwide,Germany,{ICS_LICENSE}\n"
)


def replaced(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def malformed():
    """file name -> (content, expectation)."""
    events = envelope(copy.deepcopy(EVENTS))
    partial = envelope(copy.deepcopy(EVENTS[:3]), total=6, limit=100)
    bad_date = copy.deepcopy(events)
    bad_date["results"][1]["date_received"] = "2018-13-45"
    repeated = envelope(copy.deepcopy(RECALLS) + [copy.deepcopy(RECALLS[0])])
    bad_k = envelope(copy.deepcopy(CLEARANCES))
    bad_k["results"][1]["k_number"] = "X12"
    wrong_year = copy.deepcopy(ENRICHED)
    wrong_year[2]["year"] = 2014
    full_json = dump(ENRICHED)
    return {
        "fda-ai-truncated.xml": (
            xml(XML_DEVICES)[:900],
            {"message": "not well-formed XML", "mistake": "the list cut off inside a row"},
        ),
        "fda-ai-missing-company.xml": (
            replaced(xml(XML_DEVICES), "<Company>HEARTFLOW, INC.</Company>", ""),
            {
                "field": "row 2 (line 11).company",
                "message": "is empty",
                "mistake": "a row without its company",
            },
        ),
        "fda-ai-bad-date.xml": (
            replaced(xml(XML_DEVICES), "12/21/2015", "2015-12-21"),
            {
                "field": "row 3 (line 19).date",
                "message": "is not a date (MM/DD/YYYY)",
                "mistake": "an ISO date where FDA writes MM/DD/YYYY",
            },
        ),
        "fda-ai-bad-submission.xml": (
            replaced(xml(XML_DEVICES), '"K222389")', '"Q222389")'),
            {
                "field": "row 4 (line 27).submission",
                "message": "is not an FDA submission number",
                "mistake": "a submission number with an unknown prefix",
            },
        ),
        "fda-ai-repeated.xml": (
            xml(XML_DEVICES + XML_DEVICES[:1]),
            {
                "field": "row 7 (line 51)",
                "message": "K252054 is listed again",
                "mistake": "one submission listed twice",
            },
        ),
        "fda-ai-empty.xml": (
            "<?xml version='1.0'?>\n<data>\n</data>\n",
            {"field": "data", "message": "no <row> elements", "mistake": "an empty list"},
        ),
        "fda-ai-doctype.xml": (
            replaced(xml(XML_DEVICES), "<data>", '<!DOCTYPE data [<!ENTITY x "boom">]>\n<data>'),
            {"message": "DOCTYPE declaration refused", "mistake": "an entity declaration"},
        ),
        "fda-ai-enriched-truncated.json": (
            full_json[: len(full_json) // 2],
            {"message": "ends too early", "mistake": "the JSON list cut in half"},
        ),
        "fda-ai-enriched-year.json": (
            dump(wrong_year),
            {
                "field": "[2] (K150817).year",
                "message": "disagrees with the date",
                "mistake": "a year that is not the decision date's year",
            },
        ),
        "fda-ai-enriched-object.json": (
            dump({"devices": ENRICHED}),
            {
                "field": "document root",
                "message": "expected an array",
                "mistake": "the list wrapped in an object",
            },
        ),
        "fda-ai-bad-code.csv": (
            replaced(AI_CSV, ",DQK\n", ",DQ1\n"),
            {
                "field": "line 5 (K222389).product_code",
                "message": "is not an FDA product code",
                "mistake": "a product code with a digit",
            },
        ),
        "fda-ai-missing-column.csv": (
            AI_CSV.replace(",Primary Product Code", "", 1),
            {
                "field": "header",
                "message": "lacks column(s): Primary Product Code",
                "mistake": "a list without the product code column",
            },
        ),
        "maude-rows-repeated-key.csv": (
            MAUDE_CSV + "K150817,80000001,M,02/01/2017,N,Y,,,M,I\n",
            {
                "field": "line 5 (80000001)",
                "message": "report 80000001 appears again",
                "mistake": "one report key twice",
            },
        ),
        "maude-rows-bad-event-type.csv": (
            replaced(MAUDE_CSV, ",IN,", ",X,"),
            {
                "field": "line 3 (80000002).event_type",
                "message": "is not a MAUDE event type",
                "mistake": "an event type MAUDE does not define",
            },
        ),
        "maude-rows-cut-off.csv": (
            MAUDE_CSV[:-2],
            {
                "field": "line 4 (80000003)",
                "message": "does not end with a line break",
                "mistake": "the last row cut off inside its last field",
            },
        ),
        "maude-rows-short-row.csv": (
            replaced(
                MAUDE_CSV,
                "K150817,80000003,M,01/30/2017,N,Y,,,M,I",
                "K150817,80000003,M,01/30/2017",
            ),
            {
                "field": "line 4 (80000003)",
                "message": "has 4 fields, fewer than the header's 10",
                "mistake": "a row with fields missing",
            },
        ),
        "maude-rows-open-quote.csv": (
            MAUDE_CSV + 'K150817,80000004,M,01/30/2017,N,Y,,,M,"I\n',
            {
                "field": "line 5",
                "message": "not valid CSV",
                "mistake": "a quoted field never closed",
            },
        ),
        "maude-rows-not-utf8.csv": (
            MAUDE_CSV.encode("utf-8") + b"K150817,8000\xff0005,M,01/30/2017,N,Y,,,M,I\n",
            {"message": "not UTF-8", "mistake": "a byte that is not UTF-8"},
        ),
        "babic-devices-window.csv": (
            replaced(BABIC_CSV, "0.0,0.0,0.0,1.0\n", "0.0,0.0,0.0,3.0\n"),
            {
                "field": "line 3 (K150817).reports within 730 days",
                "message": "3 is more than the 1 reports in all",
                "mistake": "more reports within two years than in all",
            },
        ),
        "babic-devices-bad-count.csv": (
            replaced(BABIC_CSV, ",2.0,", ",two,"),
            {
                "field": "line 2 (K161772).adverse_events",
                "message": "is not a number",
                "mistake": "a count written as a word",
            },
        ),
        "ics-table-bad-number.csv": (
            replaced(ICS_CSV, "ICSMA-25-060-01", "ICSMA-25-60-1"),
            {
                "field": "line 2 (ICSMA-25-60-1).ICS-CERT_Number",
                "message": "is not a CISA advisory number",
                "mistake": "a malformed advisory number",
            },
        ),
        "ics-table-bad-date.csv": (
            replaced(ICS_CSV, "3/1/2025,3/1/2025", "2025-03-01,3/1/2025"),
            {
                "field": "line 2 (ICSMA-25-060-01).Original_Release_Date",
                "message": "is not a date (MM/DD/YYYY)",
                "mistake": "an ISO release date",
            },
        ),
        "ics-table-bad-cvss.csv": (
            replaced(ICS_CSV, ",8.1,", ",81,"),
            {
                "field": "line 2 (ICSMA-25-060-01).Cumulative_CVSS",
                "message": "outside 0..10",
                "mistake": "a CVSS score of 81",
            },
        ),
        "openfda-event-partial.json": (
            dump(partial),
            {
                "field": "meta.results",
                "message": "holds 3 records but meta.results promises 6",
                "mistake": "a page saved before the download finished",
            },
        ),
        "openfda-event-bad-date.json": (
            dump(bad_date),
            {
                "field": "results[1] (90000002).date_received",
                "message": "is not a date",
                "mistake": "an impossible date",
            },
        ),
        "openfda-event-truncated.json": (
            dump(events)[:3000],
            {
                "field": "90000003",
                "message": "ends too early",
                "mistake": "a download cut off in the third report",
            },
        ),
        "openfda-recall-repeated.json": (
            dump(repeated),
            {
                "field": "results[4] (Z-0001-2021)",
                "message": "recall Z-0001-2021 appears again",
                "mistake": "one recall twice",
            },
        ),
        "openfda-510k-bad-number.json": (
            dump(bad_k),
            {
                "field": "results[1] (X12).k_number",
                "message": "is not an FDA submission number",
                "mistake": "a k_number that is not one",
            },
        ),
    }


def main():
    for folder in (BAD, GOOD, OPENFDA):
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    (OPENFDA / "device-event-handwritten.json").write_text(dump(envelope(EVENTS)), "utf-8")
    (OPENFDA / "device-recall-handwritten.json").write_text(dump(envelope(RECALLS)), "utf-8")
    (OPENFDA / "device-510k-handwritten.json").write_text(dump(envelope(CLEARANCES)), "utf-8")
    (GOOD / "fda-ai-list.xml").write_text(xml(XML_DEVICES), "utf-8")
    (GOOD / "fda-ai-list-enriched.json").write_text(dump(ENRICHED), "utf-8")
    (GOOD / "fda-ai-list.csv").write_text(AI_CSV, "utf-8")
    (GOOD / "maude-rows.csv").write_text(MAUDE_CSV, "utf-8")
    (GOOD / "babic-devices.csv").write_text(BABIC_CSV, "utf-8")
    (GOOD / "ics-table.csv").write_text(ICS_CSV, "utf-8")
    expected = {}
    for name, (content, expectation) in sorted(malformed().items()):
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (BAD / name).write_bytes(data)
        expected[name] = expectation
    (BAD / "expected.yaml").write_text(
        "# For each malformed file: the mistake, and what the refusal must say.\n"
        "# message: a substring of the message; field: the record and field named.\n"
        + yaml.safe_dump(expected, sort_keys=True, allow_unicode=True, width=100),
        "utf-8",
    )


if __name__ == "__main__":
    main()
