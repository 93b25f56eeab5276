"""FDA's AI-enabled device list as a JSON array (the vishalsachdev/fda "enriched" form).

In: [{date: "MM/DD/YYYY", year, device, company, panel, code, submission_id,
submission_url, received_date: "YYYY-MM-DD"|null, decision_date_openfda, days_to_decision,
summary_url}]. Out: one AIDevice per entry with the received date and summary URL; record
"[index] (submission)". ``year`` must agree with ``date`` (a disagreement means the file was
edited by hand or damaged).
"""

from __future__ import annotations

import re
from pathlib import Path

from mdrisk.landscape import fields
from mdrisk.landscape.importers._ai_list import ai_device, refuse_repeats
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AIDevice
from mdrisk.parsing.shape import Shape, arr, obj, opt_text
from mdrisk.parsing.strict_json import read_json

_RECORD = re.compile(r'"submission_id"\s*:\s*"([^"\\]{1,40})"')
_KEYS = {
    "date": "date",
    "submission_id": "submission",
    "device": "device",
    "company": "company",
    "panel": "panel",
    "code": "product_code",
}


class FdaAiJsonImporter(LandscapeImporter[AIDevice]):
    name = "fda-ai-json"
    description = "FDA list of AI-enabled medical devices (JSON array, enriched)"

    def read(self, path: Path) -> Parsed[AIDevice]:
        document = read_json(path, "entries", _RECORD)
        source = label(path)
        devices = []
        entries = arr(document, "document root")
        if not entries:
            raise Shape("document root", "holds no devices")
        for index, item in enumerate(entries):
            entry = obj(item, f"[{index}]")
            where = f"[{index}]"
            submission = entry.get("submission_id")
            if isinstance(submission, str) and submission.strip():
                where = f"[{index}] ({submission.strip()[:20]})"
            values = {}
            for key, field in _KEYS.items():
                values[field] = opt_text(entry, key, where)
            device = ai_device(values, where, source, where)
            year = entry.get("year")
            if year is not None and year != device.decision_date.year:
                raise Shape(
                    f"{where}.year", f"{year!r:.10} disagrees with the date {values['date']}"
                )
            received = fields.optional_date(
                opt_text(entry, "received_date", where),
                f"{where}.received_date",
                (fields.ISO_DATE,),
            )
            summary = opt_text(entry, "summary_url", where) or ""
            devices.append(
                device.model_copy(update={"received_date": received, "summary_url": summary})
            )
        refuse_repeats(devices)
        return Parsed(devices)
