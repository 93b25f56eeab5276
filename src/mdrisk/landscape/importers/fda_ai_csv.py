"""FDA's AI-enabled device list as CSV (the spreadsheet form, e.g. the May 2024 pull).

In: a header with Date of Final Decision, Submission Number, Device, Company, Panel (Lead),
Primary Product Code (case and spacing of the names do not matter). Out: one AIDevice per
row, record "line N (submission)".
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape.importers._ai_list import ai_device, refuse_repeats
from mdrisk.landscape.importers._csv import read_rows
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AIDevice
from mdrisk.parsing.shape import Shape

COLUMNS = {
    "date": ("Date of Final Decision", "Decision Date"),
    "submission": ("Submission Number",),
    "device": ("Device", "Device Name"),
    "company": ("Company", "Applicant"),
    "panel": ("Panel (Lead)", "Panel"),
    "product_code": ("Primary Product Code", "Product Code"),
}


class FdaAiCsvImporter(LandscapeImporter[AIDevice]):
    name = "fda-ai-csv"
    description = "FDA list of AI-enabled medical devices (CSV)"

    def read(self, path: Path) -> Parsed[AIDevice]:
        rows = read_rows(path, COLUMNS, key="submission")
        source = label(path)
        devices = [ai_device(dict(row.values), row.where, source, row.where) for row in rows]
        if not devices:
            raise Shape("header", "the table has no rows")
        refuse_repeats(devices)
        return Parsed(devices)
