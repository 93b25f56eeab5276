"""CISA Known Exploited Vulnerabilities catalog, as JSON or as CSV (the same rows).

In: known_exploited_vulnerabilities.json ({catalogVersion, vulnerabilities[]}) or .csv
(header cveID,vendorProject,product,...). Out: one ImportBatch keyed ``cisa-kev`` with one
``kev`` record per CVE (vendor, product, name, date_added, description, required_action,
due_date, ransomware, notes, cwes) and CVE -has_weakness-> CWE relations. Both forms give
identical records under the same key, so importing both, in any order, changes nothing;
a newer catalog replaces the older one whole.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers._vuln_fields import CWE_ID, cve_id
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import KEV, REL_CWE, ImportBatch, Record, Relation
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.shape import Shape, arr, obj, required, texts
from mdrisk.parsing.strict_json import parse_json, read_text

SOURCE_KEY = "cisa-kev"
_JSON_SNIFF = re.compile(r'"catalogVersion"\s*:\s*"')  # the schema has "catalogVersion": {
_CSV_HEADER = re.compile(r"\A\s*\"?cveID\"?,\"?vendorProject\"?,")
_RECORD_ID = re.compile(r'(?:^|"cveID"\s*:\s*")(CVE-\d+-\d+)', re.M)
# catalog field -> record field
_FIELDS = {
    "vendorProject": "vendor",
    "product": "product",
    "vulnerabilityName": "name",
    "dateAdded": "date_added",
    "shortDescription": "description",
    "requiredAction": "required_action",
    "dueDate": "due_date",
    "knownRansomwareCampaignUse": "ransomware",
    "notes": "notes",
}


class KevImporter(Importer):
    name = "kev"
    whole_catalogue = True
    description = "CISA Known Exploited Vulnerabilities catalog (JSON or CSV)"

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _CSV_HEADER.match(head) is not None or _JSON_SNIFF.search(head) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        content = read_text(path, "catalog", _RECORD_ID)
        if _CSV_HEADER.match(content):
            rows = csv_rows(path, content)
        else:
            rows = json_rows(parse_json(path, content, "catalog", _RECORD_ID))
        return [catalog_batch(rows, self.name)]


def json_rows(catalog: Any) -> list[tuple[dict[str, Any], str]]:
    """(row, where) for every entry of the JSON catalog's vulnerabilities[]."""
    listed = arr(required(obj(catalog, "catalog"), "vulnerabilities", "catalog"), "vulnerabilities")
    return [
        (obj(row, f"vulnerabilities[{index}]"), f"vulnerabilities[{index}]")
        for index, row in enumerate(listed)
    ]


def csv_rows(path: Path, content: str) -> list[tuple[dict[str, Any], str]]:
    """(row as the JSON would hold it, where) for every CSV row."""
    reader = csv.DictReader(io.StringIO(content, newline=""))
    rows = []
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row:
                raise Shape(where, "has more fields than the header")
            if None in row.values():
                raise Shape(where, "has fewer fields than the header")
            fields: dict[str, Any] = dict(row)
            if "cwes" in fields:
                fields["cwes"] = [cwe.strip() for cwe in fields["cwes"].split(",") if cwe.strip()]
            rows.append((fields, where))
    except csv.Error as exc:
        raise refuse(path, f"not valid CSV: {exc}", line=reader.line_num) from None
    return rows


def catalog_batch(rows: list[tuple[dict[str, Any], str]], importer: str = "kev") -> ImportBatch:
    records: list[Record] = []
    relations: list[Relation] = []
    for row, where in rows:
        vuln_id = cve_id(required(row, "cveID", where), f"{where}.cveID")
        where = f"{where} ({vuln_id})"
        data: dict[str, Any] = {}
        for source, field in _FIELDS.items():
            value = row.get(source)
            if value is not None and not isinstance(value, str):
                raise Shape(f"{where}.{source}", "expected a string")
            data[field] = value or ""
        cwes = texts(row.get("cwes") or [], f"{where}.cwes")
        for index, cwe in enumerate(cwes):
            if not CWE_ID.fullmatch(cwe):
                raise Shape(f"{where}.cwes[{index}]", f"'{cwe[:40]}' is not a CWE id")
        data["cwes"] = sorted(set(cwes), key=lambda cwe: int(cwe[4:]))
        records.append(Record(KEV, vuln_id, data))
        relations += [Relation(vuln_id, REL_CWE, cwe) for cwe in data["cwes"]]
    return ImportBatch(importer, SOURCE_KEY, records, [], relations)
