"""CISA's Known Exploited Vulnerabilities catalog, read by the knowledge base's KEV importer.

In: known_exploited_vulnerabilities.json or .csv (the importer checks either form and
refuses a malformed one naming file and CVE). Out: one KevEntry per CVE.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.kb.importers.kev import KevImporter
from mdrisk.kb.records import KEV
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed
from mdrisk.landscape.records import KevEntry


class KevCatalogImporter(LandscapeImporter[KevEntry]):
    name = "kev"
    description = "CISA KEV catalog (via the knowledge base's KEV importer)"

    def read(self, path: Path) -> Parsed[KevEntry]:
        entries = [
            KevEntry(
                cve=record.id,
                vendor=record.data["vendor"],
                product=record.data["product"],
                date_added=record.data["date_added"],
                ransomware=record.data["ransomware"],
            )
            for batch in KevImporter().parse(path)
            for record in batch.records
            if record.kind == KEV
        ]
        return Parsed(sorted(entries, key=lambda entry: entry.cve))
