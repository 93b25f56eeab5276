"""openFDA device recalls, from /device/recall.json pages or bulk files.

In: results[] with product_res_number (Z-1234-2020) or cfres_id, res_event_number,
k_numbers[], pma_numbers[], product_code, recalling_firm, event_date_initiated and
event_date_posted (YYYY-MM-DD), recall_status, reason_for_recall, root_cause_description
("Software design"), product_description. Out: one Recall per recalled product.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._openfda import OPENFDA_DATES, opt_string, read_results, strings
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import DataNote, Recall
from mdrisk.landscape.submission import parse_submission
from mdrisk.parsing.shape import Shape


class OpenFdaRecallImporter(LandscapeImporter[Recall]):
    name = "openfda-recall"
    description = "openFDA device recall JSON"

    def read(self, path: Path) -> Parsed[Recall]:
        source = label(path)
        recalls: list[Recall] = []
        notes: list[DataNote] = []
        seen: dict[str, str] = {}
        results = read_results(path, "product_res_number", "res_event_number")
        for record, where in results:
            recall_id = opt_string(record, "product_res_number", where) or opt_string(
                record, "cfres_id", where
            )
            if not recall_id:
                raise Shape(where, "has neither product_res_number nor cfres_id")
            if recall_id in seen:
                raise Shape(where, f"recall {recall_id} appears again (first at {seen[recall_id]})")
            seen[recall_id] = where
            submissions = []
            for field in ("k_numbers", "pma_numbers"):
                for value in strings(record, field, where):
                    parsed = parse_submission(value)
                    if parsed:
                        submissions.append(parsed.link_key)
                    else:
                        notes.append(
                            DataNote(
                                file=source,
                                record=f"{where}.{field}",
                                message=(
                                    f"'{value[:40]}' is not a submission number; not linked by it"
                                ),
                            )
                        )
            recalls.append(
                Recall(
                    recall_id=recall_id,
                    event_id=opt_string(record, "res_event_number", where),
                    submissions=sorted(set(submissions)),
                    product_code=fields.product_code(
                        opt_string(record, "product_code", where),
                        f"{where}.product_code",
                        required=False,
                    ),
                    firm=opt_string(record, "recalling_firm", where),
                    date_initiated=fields.optional_date(
                        opt_string(record, "event_date_initiated", where),
                        f"{where}.event_date_initiated",
                        OPENFDA_DATES,
                    ),
                    date_posted=fields.optional_date(
                        opt_string(record, "event_date_posted", where),
                        f"{where}.event_date_posted",
                        OPENFDA_DATES,
                    ),
                    status=opt_string(record, "recall_status", where),
                    reason=opt_string(record, "reason_for_recall", where),
                    root_cause=opt_string(record, "root_cause_description", where),
                    product_description=opt_string(record, "product_description", where),
                    source=source,
                    record=where,
                )
            )
        return Parsed(recalls, notes)
