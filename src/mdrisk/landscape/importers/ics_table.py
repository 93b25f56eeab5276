"""The ICS Advisory Project's master table of CISA ICS advisories (ICSA and ICSMA), as CSV.

In: CISA_ICS_ADV_Master.csv: ICS-CERT_Number, Original_Release_Date (M/D/YYYY), Year,
ICS-CERT_Advisory_Title, Vendor, Product, Products_Affected, CVE_Number and CWE_Number
(comma-separated; "CVE-NA"/"CWE-NA" for none), Cumulative_CVSS ("Not Applicable" when none),
Critical_Infrastructure_Sector ("; "-separated). Out: one IcsAdvisoryRow per row.

The table is typed by hand, and a few of its 4,000 rows carry slips in the id lists ("CWE843",
"CVE-2016-1839."): obvious ones are repaired, unreadable tokens become data notes (file, line,
token). A row whose number, date or year cannot be read, or a cut-off file, is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._csv import read_rows
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import DataNote, IcsAdvisoryRow
from mdrisk.parsing.shape import Shape

# Update letters ("...-01A") and supplements ("...-02-Supplement") follow the number.
NUMBER = re.compile(r"(ICSM?A-\d{2}-\d{3}-\d{2})(?:[A-Z]|-SUPPLEMENT[A-Z]?)?")
COLUMNS = {
    "number": ("ICS-CERT_Number",),
    "released": ("Original_Release_Date",),
    "year": ("Year",),
    "title": ("ICS-CERT_Advisory_Title",),
    "vendor": ("Vendor",),
    "product": ("Product",),
    "affected": ("Products_Affected",),
    "cves": ("CVE_Number",),
    "cwes": ("CWE_Number",),
    "cvss": ("Cumulative_CVSS",),
    "sectors": ("Critical_Infrastructure_Sector",),
}
_NO_SCORE = {"", "not applicable", "not assigned", "n/a", "na"}


class IcsTableImporter(LandscapeImporter[IcsAdvisoryRow]):
    name = "ics-advisory-table"
    description = "ICS Advisory Project master CSV of CISA ICS advisories"

    def read(self, path: Path) -> Parsed[IcsAdvisoryRow]:
        rows = read_rows(path, COLUMNS, key="number")
        source = label(path)
        found: list[IcsAdvisoryRow] = []
        notes: list[DataNote] = []
        for row in rows:
            where, values = row.where, row.values
            number = values["number"].strip().upper()
            if not NUMBER.fullmatch(number):
                raise Shape(
                    f"{where}.ICS-CERT_Number",
                    f"'{number[:30]}' is not a CISA "
                    "advisory number (ICSA-YY-DDD-NN or ICSMA-YY-DDD-NN)",
                )
            published = fields.parse_date(
                values["released"], f"{where}.Original_Release_Date", (fields.US_DATE,)
            )
            # "Year" is the table's own filing year; it differs from the release year in
            # about 3% of rows (re-filed updates), so it is kept but not checked.
            year = fields.count(values["year"], f"{where}.Year")
            cves, bad_cves = fields.id_list(values["cves"], "CVE")
            cwes, bad_cwes = fields.id_list(values["cwes"], "CWE")
            notes += [
                DataNote(
                    file=source,
                    record=where,
                    message=(f"unreadable {kind} '{token[:40]}' left out"),
                )
                for kind, tokens in (("CVE", bad_cves), ("CWE", bad_cwes))
                for token in tokens
            ]
            found.append(
                IcsAdvisoryRow(
                    number=number,
                    published=published,
                    year=year,
                    title=fields.name(values["title"], f"{where}.title"),
                    vendor=fields.name(values["vendor"], f"{where}.Vendor", required=False),
                    product=fields.name(values["product"], f"{where}.Product", required=False),
                    products_affected=fields.name(values["affected"], "", required=False),
                    cves=cves,
                    cwes=cwes,
                    cvss=_score(values["cvss"], f"{where}.Cumulative_CVSS"),
                    sectors=[part.strip() for part in values["sectors"].split(";") if part.strip()],
                    line=row.line,
                )
            )
        if not found:
            raise Shape("header", "the table has no rows")
        return Parsed(found, notes)


def _score(value: str, where: str) -> float | None:
    text = value.strip()
    if text.casefold() in _NO_SCORE:
        return None
    try:
        score = float(text)
    except ValueError:
        raise Shape(where, f"'{text[:20]}' is not a CVSS score") from None
    if not 0.0 <= score <= 10.0:
        raise Shape(where, f"{text} is outside 0..10")
    return score


def base_number(number: str) -> str:
    """The advisory number without update letter or supplement: ICSMA-17-009-01A ->
    ICSMA-17-009-01 (an update describes the same advisory)."""
    found = NUMBER.fullmatch(number.strip().upper())
    return found.group(1) if found else number.strip().upper()
