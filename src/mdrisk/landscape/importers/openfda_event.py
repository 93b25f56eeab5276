"""openFDA device adverse events (MAUDE), from /device/event.json pages or bulk files.

In: results[] with mdr_report_key, date_received (YYYYMMDD), date_of_event, event_type
("Malfunction", "Injury", "Death", "Other", "No answer provided"), device[] (brand_name,
manufacturer_d_name, device_report_product_code, baseline_510_k_number), manufacturer_name,
mdr_text[] narratives and product_problems[]. Out: one AdverseEvent per report, its text the
narratives and product problems joined, for the keyword classification.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._openfda import OPENFDA_DATES, opt_string, read_results, strings
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AdverseEvent, DataNote
from mdrisk.landscape.submission import parse_submission
from mdrisk.parsing.shape import Shape, obj, opt_arr

EVENT_TYPES = {
    "malfunction": "malfunction",
    "m": "malfunction",
    "injury": "injury",
    "in": "injury",
    "death": "death",
    "d": "death",
    "other": "other",
    "o": "other",
    "no answer provided": "unknown",
    "*": "unknown",
    "": "unknown",
}
# The schema spells the 510(k) field with a double underscore; served records use one.
_510K_FIELDS = ("baseline_510_k_number", "baseline_510_k__number", "baseline_pma_number")


class OpenFdaEventImporter(LandscapeImporter[AdverseEvent]):
    name = "openfda-event"
    description = "openFDA device adverse event (MAUDE) JSON"

    def read(self, path: Path) -> Parsed[AdverseEvent]:
        source = label(path)
        events: list[AdverseEvent] = []
        notes: list[DataNote] = []
        seen: dict[str, str] = {}
        results = read_results(path, "mdr_report_key", "mdr_report_key")
        for record, where in results:
            key = opt_string(record, "mdr_report_key", where)
            if not key:
                raise Shape(f"{where}.mdr_report_key", "is missing")
            if key in seen:
                raise Shape(where, f"report {key} appears again (first at {seen[key]})")
            seen[key] = where
            kind = opt_string(record, "event_type", where).casefold()
            if kind not in EVENT_TYPES:
                raise Shape(f"{where}.event_type", f"'{kind[:30]}' is not a MAUDE event type")
            submissions, codes, makers, brands = [], [], [], []
            maker = opt_string(record, "manufacturer_name", where)
            if maker:
                makers.append(maker)
            for number, item in enumerate(opt_arr(record, "device", where)):
                at = f"{where}.device[{number}]"
                device = obj(item, at)
                for field in _510K_FIELDS:
                    value = opt_string(device, field, at)
                    if not value:
                        continue
                    parsed = parse_submission(value)
                    if parsed:
                        submissions.append(parsed.link_key)
                    else:
                        notes.append(
                            DataNote(
                                file=source,
                                record=f"{at}.{field}",
                                message=(
                                    f"'{value[:40]}' is not a submission number; not linked by it"
                                ),
                            )
                        )
                code = opt_string(device, "device_report_product_code", at)
                if code:
                    codes.append(fields.product_code(code, f"{at}.device_report_product_code"))
                makers += [m for m in [opt_string(device, "manufacturer_d_name", at)] if m]
                brands += [b for b in [opt_string(device, "brand_name", at)] if b]
            narratives = [
                opt_string(obj(item, f"{where}.mdr_text[{n}]"), "text", f"{where}.mdr_text[{n}]")
                for n, item in enumerate(opt_arr(record, "mdr_text", where))
            ]
            problems = strings(record, "product_problems", where)
            events.append(
                AdverseEvent(
                    report_key=key,
                    submissions=sorted(set(submissions)),
                    product_codes=sorted(set(codes)),
                    makers=sorted(set(makers)),
                    brand_names=sorted(set(brands)),
                    date_received=fields.parse_date(
                        opt_string(record, "date_received", where),
                        f"{where}.date_received",
                        OPENFDA_DATES,
                    ),
                    date_of_event=fields.optional_date(
                        opt_string(record, "date_of_event", where),
                        f"{where}.date_of_event",
                        OPENFDA_DATES,
                    ),
                    event_type=EVENT_TYPES[kind],
                    product_problems=problems,
                    text=" ".join(part for part in narratives + problems if part),
                    source=source,
                    record=where,
                )
            )
        return Parsed(events, notes)
