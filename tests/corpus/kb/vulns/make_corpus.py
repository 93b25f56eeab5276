"""Writes this corpus: hand-made inputs for the vulnerability and SBOM importers (nothing is
copied from public data). Run it again after changing an input or an expectation:
``python tests/corpus/kb/vulns/make_corpus.py``.
"""

import copy
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
BAD = ROOT / "malformed"
GOOD = ROOT / "valid"


def dump(value):
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


CVE5 = {
    "dataType": "CVE_RECORD",
    "dataVersion": "5.1",
    "cveMetadata": {
        "cveId": "CVE-2024-0001",
        "assignerOrgId": "00000000-0000-4000-8000-000000000000",
        "assignerShortName": "example",
        "state": "PUBLISHED",
        "datePublished": "2024-01-02T00:00:00.000Z",
        "dateUpdated": "2024-02-01T00:00:00.000Z",
    },
    "containers": {
        "cna": {
            "providerMetadata": {
                "orgId": "00000000-0000-4000-8000-000000000000",
                "shortName": "example",
            },
            "title": "Hand-written test record: example infusion pump firmware",
            "descriptions": [
                {
                    "lang": "en",
                    "value": "Hand-written for mdrisk tests. The pump accepts "
                    "unauthenticated BLE writes.",
                }
            ],
            "affected": [
                {
                    "vendor": "Example Medical",
                    "product": "Infusion Pump Firmware",
                    "versions": [
                        {
                            "version": "1.0",
                            "lessThan": "2.0",
                            "status": "affected",
                            "versionType": "semver",
                        }
                    ],
                    "defaultStatus": "unaffected",
                }
            ],
            "problemTypes": [
                {
                    "descriptions": [
                        {
                            "lang": "en",
                            "type": "CWE",
                            "cweId": "CWE-306",
                            "description": "CWE-306 Missing Authentication for Critical Function",
                        }
                    ]
                }
            ],
            "metrics": [
                {
                    "format": "CVSS",
                    "cvssV3_1": {
                        "version": "3.1",
                        "baseScore": 8.8,
                        "baseSeverity": "HIGH",
                        "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    },
                }
            ],
            "references": [{"url": "https://example.org/advisories/2024-0001"}],
        }
    },
}

CSAF = {
    "document": {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en-US",
        "publisher": {
            "category": "coordinator",
            "name": "Example CERT",
            "namespace": "https://example.org",
        },
        "title": "Hand-written test advisory: Example Medical pumps",
        "tracking": {
            "id": "EXMA-24-001-01",
            "initial_release_date": "2024-01-02T00:00:00Z",
            "current_release_date": "2024-01-02T00:00:00Z",
            "status": "final",
            "version": "1",
            "revision_history": [
                {"date": "2024-01-02T00:00:00Z", "number": "1", "summary": "Initial"}
            ],
        },
        "references": [
            {"category": "self", "summary": "web", "url": "https://example.org/exma-24-001-01"}
        ],
    },
    "product_tree": {
        "branches": [
            {
                "category": "vendor",
                "name": "Example Medical",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "Pump",
                        "branches": [
                            {
                                "category": "product_version_range",
                                "name": "<= 1.3.2",
                                "product": {"name": "Pump <= 1.3.2", "product_id": "CSAFPID-0001"},
                            },
                            {
                                "category": "product_version",
                                "name": "1.3.3",
                                "product": {"name": "Pump 1.3.3", "product_id": "CSAFPID-0002"},
                            },
                        ],
                    }
                ],
            }
        ]
    },
    "vulnerabilities": [
        {
            "cve": "CVE-2024-0002",
            "cwe": {"id": "CWE-287", "name": "Improper Authentication"},
            "notes": [
                {
                    "category": "summary",
                    "title": "Vulnerability Summary",
                    "text": "Hand-written: the pump accepts any PIN.",
                }
            ],
            "product_status": {"known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"]},
            "remediations": [
                {
                    "category": "vendor_fix",
                    "details": "Update to 1.3.3.",
                    "product_ids": ["CSAFPID-0001"],
                }
            ],
            "scores": [
                {
                    "cvss_v3": {
                        "version": "3.1",
                        "baseScore": 6.5,
                        "baseSeverity": "MEDIUM",
                        "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
                    },
                    "products": ["CSAFPID-0001"],
                }
            ],
        }
    ],
}

NVD = {
    "resultsPerPage": 1,
    "startIndex": 0,
    "totalResults": 1,
    "format": "NVD_CVE",
    "version": "2.0",
    "timestamp": "2024-01-02T00:00:00.000",
    "vulnerabilities": [
        {
            "cve": {
                "id": "CVE-2024-0003",
                "sourceIdentifier": "cve@example.org",
                "published": "2024-01-02T00:00:00.000",
                "lastModified": "2024-01-02T00:00:00.000",
                "vulnStatus": "Analyzed",
                "descriptions": [
                    {"lang": "en", "value": "Hand-written NVD entry for mdrisk tests."}
                ],
                "metrics": {},
                "weaknesses": [],
                "configurations": [
                    {
                        "nodes": [
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    {
                                        "vulnerable": True,
                                        "criteria": "cpe:2.3:o:example:pump_firmware:"
                                        "*:*:*:*:*:*:*:*",
                                        "versionEndExcluding": "2.0",
                                    }
                                ],
                            }
                        ]
                    }
                ],
                "references": [],
            }
        }
    ],
}

CDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {
        "component": {
            "type": "device",
            "name": "Example Pump",
            "version": "2.0",
            "bom-ref": "device",
        }
    },
    "components": [
        {
            "type": "firmware",
            "bom-ref": "fw",
            "name": "Pump firmware",
            "version": "2.0",
            "supplier": {"name": "Example Medical"},
            "components": [
                {
                    "type": "library",
                    "bom-ref": "tls",
                    "name": "wolfSSL",
                    "version": "5.6.6",
                    "publisher": "wolfSSL Inc.",
                    "cpe": "cpe:2.3:a:wolfssl:wolfssl:5.6.6:*:*:*:*:*:*:*",
                    "purl": "pkg:github/wolfssl/wolfssl@v5.6.6",
                    "licenses": [{"license": {"id": "GPL-2.0-or-later"}}],
                    "properties": [
                        {"name": "Level of Support", "value": "Actively maintained"},
                        {"name": "End-of-Support", "value": "2027-12-31"},
                    ],
                }
            ],
        },
        {
            "type": "operating-system",
            "bom-ref": "rtos",
            "name": "FreeRTOS",
            "version": "10.4.3",
            "manufacturer": {"name": "Amazon"},
            "licenses": [{"expression": "MIT"}],
        },
        {"type": "library", "name": "fatfs", "version": "R0.15"},
        {"type": "library", "name": "fatfs", "version": "R0.15"},
    ],
}

malformed = {}  # name -> (content, what the refusal must say)


def bad(name, content, **expect):
    malformed[name] = (content if isinstance(content, bytes) else content.encode("utf-8"), expect)


def cna(record):
    return record["containers"]["cna"]


# --- CVE 5 ---
text = dump(CVE5)
bad(
    "cve5-truncated.json",
    text[: len(text) // 2],
    mistake="a CVE record cut off halfway",
    message="ends too early",
    field="CVE-2024-0001",
)
r = copy.deepcopy(CVE5)
del r["cveMetadata"]
bad(
    "cve5-missing-metadata.json",
    dump(r),
    mistake="no cveMetadata",
    message="'cveMetadata' is missing",
    field="record",
)
r = copy.deepcopy(CVE5)
r["cveMetadata"]["cveId"] = "CVE-24-0001"
bad(
    "cve5-bad-id.json",
    dump(r),
    mistake="a CVE id with a two-digit year",
    message="is not a CVE id",
    field="cveMetadata.cveId",
)
r = copy.deepcopy(CVE5)
cna(r)["affected"][0]["versions"] = "1.0 to 2.0"
bad(
    "cve5-versions-not-array.json",
    dump(r),
    mistake="versions given as a string",
    message="expected an array",
    field="CVE-2024-0001 containers.cna.affected[0].versions",
)
r = copy.deepcopy(CVE5)
cna(r)["affected"][0]["versions"][0]["status"] = "vulnerable"
bad(
    "cve5-bad-status.json",
    dump(r),
    mistake="a version status outside affected/unaffected/unknown",
    message="'vulnerable' is not one of",
    field="CVE-2024-0001 containers.cna.affected[0].versions[0].status",
)
r = copy.deepcopy(CVE5)
cna(r)["affected"][0]["versions"][0]["version"] = 1.0
bad(
    "cve5-version-number.json",
    dump(r),
    mistake="a version written as a JSON number",
    message="expected a string",
    field="CVE-2024-0001 containers.cna.affected[0].versions[0].version",
)
bad(
    "cve5-nan-score.json",
    dump(CVE5).replace('"baseScore": 8.8', '"baseScore": NaN'),
    mistake="a CVSS score of NaN",
    message="NaN is not a JSON number",
    field="CVE-2024-0001",
)
bad(
    "cve5-huge-score.json",
    dump(CVE5).replace('"baseScore": 8.8', '"baseScore": 1e400'),
    mistake="a CVSS score too large for a float",
    message="finite number",
    field="CVE-2024-0001 containers.cna.metrics[0].cvssV3_1.baseScore",
)
bad(
    "cve5-score-out-of-range.json",
    dump(CVE5).replace('"baseScore": 8.8', '"baseScore": 88'),
    mistake="a CVSS score above 10",
    message="outside 0..10",
    field="CVE-2024-0001 containers.cna.metrics[0].cvssV3_1.baseScore",
)
bad(
    "cve5-huge-integer.json",
    dump(CVE5).replace('"baseScore": 8.8', '"baseScore": ' + "9" * 5000),
    mistake="an integer with 5,000 digits",
    message="a number with thousands of digits",
    field="CVE-2024-0001",
)
r = copy.deepcopy(CVE5)
cna(r)["x_deep"] = "@@DEEP@@"
bad(
    "cve5-deeply-nested.json",
    dump(r).replace('"@@DEEP@@"', "[" * 5000 + "]" * 5000),
    mistake="arrays nested 5,000 deep",
    message="nested too deeply",
    field="CVE-2024-0001",
)
bad(
    "cve5-not-utf8.json",
    dump(CVE5).encode("utf-8").replace(b"unauthenticated", b"unauth\xe9nticated"),
    mistake="a Latin-1 byte in the description",
    message="not UTF-8",
    line=22,
    field="CVE-2024-0001",
)
r = copy.deepcopy(CVE5)
cna(r)["affected"][0] = {"vendor": "Example Medical", "versions": []}
bad(
    "cve5-no-product.json",
    dump(r),
    mistake="an affected item naming no product",
    message="names no product",
    field="CVE-2024-0001 containers.cna.affected[0]",
)
r = copy.deepcopy(CVE5)
cna(r)["problemTypes"][0]["descriptions"][0]["cweId"] = "CWE-0x1"
bad(
    "cve5-bad-cwe.json",
    dump(r),
    mistake="a malformed CWE id",
    message="is not a CWE id",
    field="CVE-2024-0001 containers.cna.problemTypes[0].descriptions[0].cweId",
)

# --- CSAF ---
text = dump(CSAF)
bad(
    "csaf-truncated.json",
    text[: int(len(text) * 0.6)],
    mistake="an advisory cut off",
    message="ends too early",
    field="EXMA-24-001-01",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-0009")
bad(
    "csaf-undefined-product.json",
    dump(r),
    mistake="a product id referenced but not defined",
    message="'CSAFPID-0009' is not defined in the product_tree",
    field="vulnerabilities[0] (CVE-2024-0002).product_status.known_affected[1]",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["scores"][0]["products"] = ["CSAFPID-0404"]
bad(
    "csaf-undefined-scored-product.json",
    dump(r),
    mistake="a score for a product that is not defined",
    message="'CSAFPID-0404' is not defined",
    field="vulnerabilities[0] (CVE-2024-0002).scores[0].products[0]",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["cve"] = "CVE-2024-12"
bad(
    "csaf-bad-cve.json",
    dump(r),
    mistake="a CVE id with too few digits",
    message="is not a CVE id",
    field="vulnerabilities[0].cve",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["product_status"]["known_affected"] = "CSAFPID-0001"
bad(
    "csaf-status-not-array.json",
    dump(r),
    mistake="a status list given as a string",
    message="expected an array",
    field="vulnerabilities[0] (CVE-2024-0002).product_status.known_affected",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["product_status"]["probably_affected"] = ["CSAFPID-0001"]
bad(
    "csaf-unknown-status.json",
    dump(r),
    mistake="a product status CSAF does not define",
    message="is not a CSAF product status",
    field="vulnerabilities[0] (CVE-2024-0002).product_status.probably_affected",
)
r = copy.deepcopy(CSAF)
r["product_tree"]["branches"][0]["branches"][0]["branches"][1]["product"]["product_id"] = (
    "CSAFPID-0001"
)
bad(
    "csaf-duplicate-product-id.json",
    dump(r),
    mistake="two products with one id",
    message="defined twice",
    field="product_tree.branches[0].branches[0].branches[1].product",
)
r = copy.deepcopy(CSAF)
del r["document"]["tracking"]["id"]
bad(
    "csaf-no-tracking-id.json",
    dump(r),
    mistake="an advisory without a tracking id",
    message="'id' is missing",
    field="document.tracking",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = "high"
bad(
    "csaf-score-as-text.json",
    dump(r),
    mistake="a CVSS score written as a word",
    message="expected a number",
    field="vulnerabilities[0] (CVE-2024-0002).scores[0].cvss_v3.baseScore",
)
r = copy.deepcopy(CSAF)
leaf = {
    "category": "product_version",
    "name": "9.9",
    "product": {"name": "deep", "product_id": "CSAFPID-0099"},
}
for depth in range(80):
    leaf = {"category": "product_family", "name": f"family {depth}", "branches": [leaf]}
r["product_tree"]["branches"][0]["branches"].append(leaf)
bad(
    "csaf-deep-branches.json",
    dump(r),
    mistake="product families nested 80 deep",
    message="nested deeper than 64",
)
r = copy.deepcopy(CSAF)
r["product_tree"]["branches"][0]["category"] = "manufacturer"
bad(
    "csaf-bad-branch-category.json",
    dump(r),
    mistake="a branch category CSAF does not define",
    message="is not a CSAF branch category",
    field="product_tree.branches[0].category",
)
r = copy.deepcopy(CSAF)
r["vulnerabilities"].append(copy.deepcopy(r["vulnerabilities"][0]))
bad(
    "csaf-vulnerability-twice.json",
    dump(r),
    mistake="the same CVE described twice",
    message="already described in vulnerabilities[0]",
    field="vulnerabilities[1] (CVE-2024-0002)",
)

# --- NVD ---
r = copy.deepcopy(NVD)
match = r["vulnerabilities"][0]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]
match["criteria"] = "cpe:/o:example:pump_firmware"
bad(
    "nvd-cpe22.json",
    dump(r),
    mistake="a CPE 2.2 URI where NVD 2.0 has CPE 2.3",
    message="is not a CPE 2.3 name",
    field="vulnerabilities[0] (CVE-2024-0003).configurations[0].nodes[0].cpeMatch[0].criteria",
)
r = copy.deepcopy(NVD)
del r["vulnerabilities"][0]["cve"]["id"]
bad(
    "nvd-missing-id.json",
    dump(r),
    mistake="a CVE without id",
    message="'id' is missing",
    field="vulnerabilities[0].cve",
)
r = copy.deepcopy(NVD)
r["vulnerabilities"][0]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]["vulnerable"] = "yes"
bad(
    "nvd-vulnerable-as-text.json",
    dump(r),
    mistake="vulnerable written as a word",
    message="expected true or false",
    field="vulnerabilities[0] (CVE-2024-0003).configurations[0].nodes[0].cpeMatch[0].vulnerable",
)
text = dump(NVD)
bad(
    "nvd-truncated.json",
    text[: len(text) - 40],
    mistake="a response page cut off",
    message="ends too early",
    field="CVE-2024-0003",
    line=41,
)

# --- KEV ---
KEV_HEADER = (
    "cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,"
    "requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes\n"
)
row = (
    'CVE-2024-0004,Example,Pump Gateway,"Example Pump Gateway Hand-written Vulnerability",'
    '2024-01-02,"Hand-written row.","Apply updates.",2024-01-23,Unknown,"",CWE-287\n'
)
bad(
    "kev-bad-cve.csv",
    KEV_HEADER + row + row.replace("CVE-2024-0004", "CVE-2024-04"),
    mistake="a malformed CVE id on the second row",
    message="is not a CVE id",
    field="line 3.cveID",
)
bad(
    "kev-short-row.csv",
    KEV_HEADER + row + "CVE-2024-0005,Example,Pump\n",
    mistake="a row with 3 of 11 fields",
    message="fewer fields than the header",
    field="line 3",
)
bad(
    "kev-not-utf8.csv",
    (KEV_HEADER + row).encode("utf-8").replace(b"Hand-written row.", b"Hand\xff-written row."),
    mistake="a byte that is not UTF-8",
    message="not UTF-8",
    line=2,
    field="CVE-2024-0004",
)
bad(
    "kev-vulnerabilities-object.json",
    dump(
        {
            "title": "hand-written",
            "catalogVersion": "2024.01.02",
            "dateReleased": "2024-01-02T00:00:00Z",
            "count": 1,
            "vulnerabilities": {"cveID": "CVE-2024-0004"},
        }
    ),
    mistake="vulnerabilities given as an object",
    message="expected an array",
    field="vulnerabilities",
)
bad(
    "kev-bad-cwe.json",
    dump(
        {
            "title": "hand-written",
            "catalogVersion": "2024.01.02",
            "dateReleased": "2024-01-02T00:00:00Z",
            "count": 1,
            "vulnerabilities": [
                {
                    "cveID": "CVE-2024-0004",
                    "vendorProject": "Example",
                    "product": "Pump",
                    "cwes": ["CWE-287", "Improper Auth"],
                }
            ],
        }
    ),
    mistake="a CWE list holding a name",
    message="is not a CWE id",
    field="vulnerabilities[0] (CVE-2024-0004).cwes[1]",
)

# --- EPSS ---
EPSS_HEAD = "#model_version:v2023.03.01,score_date:2024-01-02T00:00:00+0000\ncve,epss,percentile\n"
bad(
    "epss-not-probability.csv",
    EPSS_HEAD + "CVE-2024-0001,0.00043,0.0872\nCVE-2024-0002,1.7,0.99\n",
    mistake="an EPSS score above 1",
    message="is not a probability",
    field="line 4 (CVE-2024-0002) epss",
)
bad(
    "epss-nan.csv",
    EPSS_HEAD + "CVE-2024-0001,nan,0.5\n",
    mistake="an EPSS score of nan",
    message="is not a probability",
    field="line 3 (CVE-2024-0001) epss",
)
bad(
    "epss-bad-cve.csv",
    EPSS_HEAD + "CVE-2024-0001,0.1,0.5\nCVE2024-0002,0.1,0.5\n",
    mistake="a CVE id without its dash",
    message="is not a CVE id",
    field="line 4 cve",
)
bad(
    "epss-extra-field.csv",
    EPSS_HEAD + "CVE-2024-0001,0.1,0.5,oops\n",
    mistake="a row with an extra field",
    message="has 4 fields where the header has 3",
    field="line 3",
)

# --- CycloneDX ---
r = copy.deepcopy(CDX)
r["components"][1]["bom-ref"] = "fw"
bad(
    "cyclonedx-duplicate-bom-ref.cdx.json",
    dump(r),
    mistake="two components with one bom-ref",
    message="is also the bom-ref of components[0]",
    field="components[1].bom-ref",
)
r = copy.deepcopy(CDX)
r["components"] = {"fw": r["components"][0]}
bad(
    "cyclonedx-components-object.cdx.json",
    dump(r),
    mistake="components given as an object",
    message="expected an array",
    field="bom.components",
)
r = copy.deepcopy(CDX)
del r["components"][0]["components"][0]["name"]
bad(
    "cyclonedx-no-name.cdx.json",
    dump(r),
    mistake="a nested component without a name",
    message="'name' is missing",
    field="components[0].components[0]",
)
r = copy.deepcopy(CDX)
nest = {"type": "library", "name": "leaf", "version": "1"}
for depth in range(80):
    nest = {"type": "library", "name": f"level {depth}", "version": "1", "components": [nest]}
r["components"].append(nest)
bad(
    "cyclonedx-deep-nesting.cdx.json",
    dump(r),
    mistake="components nested 80 deep",
    message="nested deeper than 64",
)
text = dump(CDX)
bad(
    "cyclonedx-truncated.cdx.json",
    text[: len(text) // 3],
    mistake="an SBOM cut off",
    message="ends too early",
    field="fw",
)
r = copy.deepcopy(CDX)
r["bomFormat"] = "SPDX"
bad(
    "cyclonedx-wrong-format.cdx.json",
    dump(r),
    mistake="a bom-ref-bearing JSON whose bomFormat is not CycloneDX",
    message='is not "CycloneDX"',
    field="bom.bomFormat",
)

# --- valid inputs using the rarer forms ---
cve5_rare = copy.deepcopy(CVE5)
cve5_rare["cveMetadata"]["cveId"] = "CVE-2024-0010"
cna(cve5_rare)["affected"] = [
    {
        "vendor": "Example Medical",
        "product": "Gateway",
        "defaultStatus": "unaffected",
        "cpes": [
            "cpe:2.3:o:example:gateway_firmware:*:*:*:*:*:*:*:*",
            "cpe:2.3:o:example:gateway_os:*:*:*:*:*:*:*:*",
        ],
        "versions": [
            {
                "version": "1.0",
                "lessThan": "3.0",
                "status": "affected",
                "versionType": "semver",
                "changes": [
                    {"at": "1.4.2", "status": "unaffected"},
                    {"at": "2.0", "status": "affected"},
                ],
            },
            {"version": "0.9", "status": "unknown"},
        ],
    },
    {
        "collectionURL": "https://pypi.org",
        "packageName": "example-dicom",
        "packageURL": "pkg:pypi/example-dicom",
        "versions": [
            {
                "version": "0",
                "lessThanOrEqual": "4.1",
                "status": "affected",
                "versionType": "python",
            }
        ],
    },
]
cve5_rare["containers"]["adp"] = [
    {
        "title": "CISA ADP Vulnrichment",
        "providerMetadata": {
            "orgId": "134c704f-9b21-4f2e-91b3-4a467353bcc0",
            "shortName": "CISA-ADP",
        },
        "metrics": [
            {
                "cvssV3_1": {
                    "version": "3.1",
                    "baseScore": 7.1,
                    "baseSeverity": "HIGH",
                    "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N",
                }
            },
            {
                "other": {
                    "type": "ssvc",
                    "content": {
                        "id": "CVE-2024-0010",
                        "role": "CISA Coordinator",
                        "version": "2.0.3",
                        "timestamp": "2024-03-01T00:00:00Z",
                        "options": [
                            {"Exploitation": "none"},
                            {"Automatable": "yes"},
                            {"Technical Impact": "partial"},
                        ],
                    },
                }
            },
        ],
        "problemTypes": [
            {
                "descriptions": [
                    {
                        "lang": "en",
                        "type": "CWE",
                        "description": "CWE-319 Cleartext Transmission of Sensitive Information",
                    }
                ]
            }
        ],
    }
]

csaf_rare = copy.deepcopy(CSAF)
csaf_rare["document"]["tracking"]["id"] = "EXMA-24-002-01"
csaf_rare["product_tree"] = {
    "branches": [
        {
            "category": "vendor",
            "name": "Example Medical",
            "branches": [
                {
                    "category": "product_family",
                    "name": "Infusion",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "Pump",
                            "branches": [
                                {
                                    "category": "product_version_range",
                                    "name": ">= 1.1 | <= 1.3.2",
                                    "product": {
                                        "name": "Pump >= 1.1 | <= 1.3.2",
                                        "product_id": "P-RANGE",
                                    },
                                },
                                {
                                    "category": "product_version",
                                    "name": "5.0|5.1",
                                    "product": {"name": "Pump 5.0|5.1", "product_id": "P-LIST"},
                                },
                                {
                                    "category": "product_version",
                                    "name": "2023.3_Build_9342",
                                    "branches": [
                                        {
                                            "category": "service_pack",
                                            "name": "SP1",
                                            "product": {
                                                "name": "Pump 2023.3_Build_9342 SP1",
                                                "product_id": "P-SP",
                                            },
                                        }
                                    ],
                                },
                                {
                                    "category": "product_version",
                                    "name": "1.3.3",
                                    "product": {"name": "Pump 1.3.3", "product_id": "P-FIXED"},
                                },
                                {
                                    "category": "product_version_range",
                                    "name": "vers:generic/>=1.0|<2.0",
                                    "product": {
                                        "name": "Pump vers:generic/>=1.0|<2.0",
                                        "product_id": "P-VERS",
                                    },
                                },
                            ],
                        }
                    ],
                },
                {
                    "category": "product_name",
                    "name": "Gateway",
                    "product": {"name": "Gateway (all versions)", "product_id": "G-ALL"},
                },
            ],
        }
    ],
    "full_product_names": [
        {
            "name": "Example Medical Hub 4.2",
            "product_id": "HUB",
            "product_identification_helper": {
                "cpe": "cpe:2.3:h:example_medical:hub:4.2:*:*:*:*:*:*:*"
            },
        }
    ],
    "relationships": [
        {
            "category": "installed_on",
            "product_reference": "P-RANGE",
            "relates_to_product_reference": "HUB",
            "full_product_name": {"name": "Pump <= 1.3.2 on Hub 4.2", "product_id": "P-ON-HUB"},
        }
    ],
    "product_groups": [{"group_id": "ALL-PUMPS", "product_ids": ["P-RANGE", "P-LIST", "P-SP"]}],
}
csaf_rare["vulnerabilities"] = [
    {
        "cve": "CVE-2024-0011",
        "cwe": {"id": "CWE-287", "name": "Improper Authentication"},
        "notes": [{"category": "description", "text": "Hand-written: authentication bypass."}],
        "product_status": {
            "known_affected": ["P-RANGE", "P-LIST", "P-SP", "P-ON-HUB", "G-ALL", "HUB"],
            "fixed": ["P-FIXED"],
            "known_not_affected": ["P-VERS"],
            "under_investigation": [],
        },
        "remediations": [
            {"category": "vendor_fix", "details": "Update the pumps.", "group_ids": ["ALL-PUMPS"]}
        ],
        "scores": [
            {
                "cvss_v3": {
                    "version": "3.1",
                    "baseScore": 8.1,
                    "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
                },
                "cvss_v2": {
                    "version": "2.0",
                    "baseScore": 6.1,
                    "vectorString": "AV:A/AC:L/Au:N/C:C/I:N/A:N",
                },
                "products": ["P-RANGE"],
            }
        ],
    },
    {
        "ids": [{"system_name": "Example PSIRT", "text": "EX-PSIRT-2024-07"}],
        "title": "Hard-coded service password",
        "notes": [{"category": "summary", "text": "Hand-written: a vulnerability without a CVE."}],
        "product_status": {"known_affected": ["G-ALL"], "under_investigation": ["HUB"]},
    },
]

if __name__ == "__main__":
    BAD.mkdir(parents=True, exist_ok=True)
    GOOD.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (content, expect) in sorted(malformed.items()):
        (BAD / name).write_bytes(content)
        expected[name] = expect
    (BAD / "expected.yaml").write_text(
        "# For each malformed file: the mistake, and what the refusal must say.\n"
        "# message: a substring of the message; field: the record and field named; "
        "line: the line named.\n" + yaml.safe_dump(expected, sort_keys=True, allow_unicode=True),
        "utf-8",
    )
    (GOOD / "cve5-changes-and-cpes.json").write_text(dump(cve5_rare), "utf-8")
    (GOOD / "csaf-rare-forms.json").write_text(dump(csaf_rare), "utf-8")
    (GOOD / "cyclonedx-1.6-nested.cdx.json").write_text(dump(CDX), "utf-8")
    (ROOT / "README.md").write_text(
        "# Vulnerability and SBOM importer corpus (hand-made)\n\n"
        "Every file here was written for mdrisk's tests; none is copied from a public source.\n"
        "`malformed/` holds inputs each importer must refuse (what the refusal must say is in\n"
        "`malformed/expected.yaml`); `valid/` holds small inputs using the rarer forms of each "
        "format.\n`make_corpus.py` writes both.\n",
        "utf-8",
    )
    print(len(malformed), "malformed files")
