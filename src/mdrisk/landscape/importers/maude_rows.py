"""MAUDE medical device reports as rows keyed by report key (Babic et al. 2025 extract).

In: 943_AEs_for_fda_devices.csv: idnumber (the device's K/DEN number), mdr_report_key,
date_received (MM/DD/YYYY, always given), date_of_event, event_type (M malfunction,
IN injury, D death, O other), adverse_event_flag, product_problem_flag, ... Out: one
AdverseEvent per row; a repeated report key, an unknown event type or an unreadable date
is refused with the line and report key. These rows carry no narrative text.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._csv import read_rows
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AdverseEvent
from mdrisk.parsing.shape import Shape

# MAUDE event type codes (openFDA's maude enums) and the words openFDA serves instead.
EVENT_TYPES = {
    "M": "malfunction",
    "IN": "injury",
    "D": "death",
    "O": "other",
    "*": "unknown",
    "": "unknown",
}
COLUMNS = {
    "idnumber": ("idnumber",),
    "mdr_report_key": ("mdr_report_key",),
    "date_received": ("date_received",),
    "event_type": ("event_type",),
}
OPTIONAL = {"date_of_event": ("date_of_event",)}


class MaudeRowsImporter(LandscapeImporter[AdverseEvent]):
    name = "maude-rows"
    description = "MAUDE report rows by report key (CSV with idnumber, mdr_report_key, ...)"

    def read(self, path: Path) -> Parsed[AdverseEvent]:
        rows = read_rows(path, COLUMNS, key="mdr_report_key", optional=OPTIONAL)
        source = label(path)
        events: list[AdverseEvent] = []
        seen: dict[str, str] = {}
        for row in rows:
            where, values = row.where, row.values
            key = values["mdr_report_key"].strip()
            if not key.isdigit():
                raise Shape(f"{where}.mdr_report_key", f"'{key[:30]}' is not a report key")
            if key in seen:
                raise Shape(where, f"report {key} appears again (first at {seen[key]})")
            seen[key] = where
            submission = fields.submission(values["idnumber"], f"{where}.idnumber")
            code = values["event_type"].strip().upper()
            if code not in EVENT_TYPES:
                raise Shape(
                    f"{where}.event_type",
                    f"'{code[:20]}' is not a MAUDE event "
                    f"type ({', '.join(c for c in EVENT_TYPES if c.strip('*'))})",
                )
            events.append(
                AdverseEvent(
                    report_key=key,
                    submissions=[submission.link_key],
                    date_received=fields.parse_date(
                        values["date_received"], f"{where}.date_received", (fields.US_DATE,)
                    ),
                    date_of_event=fields.optional_date(
                        values.get("date_of_event"), f"{where}.date_of_event", (fields.US_DATE,)
                    ),
                    event_type=EVENT_TYPES[code],
                    source=source,
                    record=where,
                )
            )
        if not events:
            raise Shape("header", "the table has no rows")
        return Parsed(events)
