"""openFDA 510(k) decisions, from /device/510k.json pages or bulk files.

In: results[] with k_number, decision_date and date_received (YYYY-MM-DD), applicant,
device_name, product_code, advisory_committee, decision_code. Out: one Clearance each; a
k_number that is not a 510(k)/De Novo number, or one listed twice, is refused.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._openfda import OPENFDA_DATES, opt_string, read_results
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import Clearance
from mdrisk.parsing.shape import Shape


class OpenFdaClearanceImporter(LandscapeImporter[Clearance]):
    name = "openfda-510k"
    description = "openFDA 510(k) JSON"

    def read(self, path: Path) -> Parsed[Clearance]:
        source = label(path)
        found: list[Clearance] = []
        seen: dict[str, str] = {}
        results = read_results(path, "k_number", "k_number")
        for record, where in results:
            number = fields.submission(opt_string(record, "k_number", where), f"{where}.k_number")
            if number.id in seen:
                raise Shape(where, f"{number.id} appears again (first at {seen[number.id]})")
            seen[number.id] = where
            found.append(
                Clearance(
                    submission=number.id,
                    decision_date=fields.optional_date(
                        opt_string(record, "decision_date", where),
                        f"{where}.decision_date",
                        OPENFDA_DATES,
                    ),
                    received_date=fields.optional_date(
                        opt_string(record, "date_received", where),
                        f"{where}.date_received",
                        OPENFDA_DATES,
                    ),
                    applicant=opt_string(record, "applicant", where),
                    device=opt_string(record, "device_name", where),
                    product_code=fields.product_code(
                        opt_string(record, "product_code", where),
                        f"{where}.product_code",
                        required=False,
                    ),
                    committee=opt_string(record, "advisory_committee", where),
                    decision_code=opt_string(record, "decision_code", where),
                    source=source,
                    record=where,
                )
            )
        return Parsed(found)
