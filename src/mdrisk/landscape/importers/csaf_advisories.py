"""CISA medical advisories in CSAF 2.0, read by the knowledge base's CSAF importer.

In: one CSAF document (e.g. icsma-17-009-01a.json). The kb importer (``CsafImporter``)
parses and checks it and refuses a malformed one naming file and record; this module only
reshapes its advisory and vulnerability records into one MedicalAdvisory: the vendors of
the product tree, product labels, CVEs, the CWEs of all its vulnerabilities, their
descriptions (for the technology rules) and the highest CVSS base score.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from mdrisk.kb.importers.csaf import CsafImporter
from mdrisk.kb.records import ADVISORY, VULNERABILITY
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.importers.ics_table import base_number
from mdrisk.landscape.records import MedicalAdvisory

# Some CISA titles repeat the id: "ICSMA-17-009-01A_St. Jude Merlin@home ...".
_TITLE_PREFIX = re.compile(r"^ICSM?A-[0-9A-Z-]+_\s*")


class CsafAdvisoryImporter(LandscapeImporter[MedicalAdvisory]):
    name = "csaf-advisory"
    description = "CSAF 2.0 medical advisory (via the knowledge base's CSAF importer)"

    def read(self, path: Path) -> Parsed[MedicalAdvisory]:
        advisories = []
        for batch in CsafImporter().parse(path):
            header = next(record for record in batch.records if record.kind == ADVISORY)
            vulnerabilities = [record for record in batch.records if record.kind == VULNERABILITY]
            data = header.data
            scores = [score["score"] for record in vulnerabilities for score in record.data["cvss"]]
            advisories.append(
                MedicalAdvisory(
                    id=base_number(header.id),
                    revision_id=header.id,
                    title=_TITLE_PREFIX.sub("", data["title"]).strip(),
                    published=_day(data["published"]),
                    vendors=list(data["vendors"]),
                    products=list(data["products"]),
                    cves=list(data["cves"]),
                    cwes=sorted(
                        {cwe for record in vulnerabilities for cwe in record.data["cwes"]},
                        key=lambda cwe: int(cwe[4:]),
                    ),
                    descriptions=" ".join(record.data["description"] for record in vulnerabilities),
                    cvss_max=max(scores) if scores else None,
                    source="csaf",
                    record=f"{label(path)} ({header.id})",
                )
            )
        return Parsed(advisories)


def _day(timestamp: str) -> date | None:
    """The calendar day of an ISO timestamp ("2017-01-09T00:00:00.000000Z")."""
    try:
        return date.fromisoformat(timestamp[:10]) if timestamp else None
    except ValueError:
        return None
