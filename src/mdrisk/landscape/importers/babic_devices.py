"""AI/ML 510(k) and De Novo devices with their MAUDE report counts (Babic et al. 2025).

In: 823_fda_devices_withAEs.csv: 510(k) database fields (idnumber, applicant, productcode,
classadvisecomm, devicename, dtrec, dtdec as YYYY-MM-DD) and the authors' counts of MAUDE
reports (adverse_events; ae_3mths, ae_6mths, ae_9mths, ae_1yr, ae_2yr: reports FDA received
within 90, 182, 273, 365 and 730 days of the decision; blank = none found). Out: one
AECoverage per row: these are the devices whose reports were searched, so they are the
denominator of "devices with adverse events".
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._csv import read_rows
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AECoverage
from mdrisk.parsing.shape import Shape

WINDOWS = {"ae_3mths": 90, "ae_6mths": 182, "ae_9mths": 273, "ae_1yr": 365, "ae_2yr": 730}
COLUMNS = {
    "idnumber": ("idnumber",),
    "applicant": ("applicant",),
    "productcode": ("productcode",),
    "classadvisecomm": ("classadvisecomm",),
    "devicename": ("devicename",),
    "dtrec": ("dtrec",),
    "dtdec": ("dtdec",),
    "adverse_events": ("adverse_events",),
} | {name: (name,) for name in WINDOWS}


class BabicDevicesImporter(LandscapeImporter[AECoverage]):
    name = "babic-devices"
    description = "AI/ML 510(k) devices with MAUDE report counts (Babic et al. 2025, CSV)"

    def read(self, path: Path) -> Parsed[AECoverage]:
        rows = read_rows(path, COLUMNS, key="idnumber")
        source = label(path)
        found: list[AECoverage] = []
        seen: dict[str, str] = {}
        for row in rows:
            where, values = row.where, row.values
            submission = fields.submission(values["idnumber"], f"{where}.idnumber")
            if submission.id in seen:
                raise Shape(
                    where, f"{submission.id} is listed again (first at {seen[submission.id]})"
                )
            seen[submission.id] = where
            reports = fields.count(values["adverse_events"], f"{where}.adverse_events")
            within = {
                days: fields.count(values[column], f"{where}.{column}")
                for column, days in WINDOWS.items()
            }
            for days, number in within.items():
                if number > reports:
                    raise Shape(
                        f"{where}.reports within {days} days",
                        f"{number} is more than the {reports} reports in all",
                    )
            found.append(
                AECoverage(
                    submission=submission.id,
                    applicant=fields.name(values["applicant"], f"{where}.applicant"),
                    device=fields.name(values["devicename"], f"{where}.devicename"),
                    product_code=fields.product_code(values["productcode"], f"{where}.productcode"),
                    panel_code=values["classadvisecomm"].strip().upper(),
                    decision_date=fields.parse_date(
                        values["dtdec"], f"{where}.dtdec", (fields.ISO_DATE,)
                    ),
                    received_date=fields.optional_date(
                        values["dtrec"], f"{where}.dtrec", (fields.ISO_DATE,)
                    ),
                    reports=reports,
                    reports_within=within,
                    source=source,
                    record=where,
                )
            )
        if not found:
            raise Shape("header", "the table has no rows")
        return Parsed(found)
