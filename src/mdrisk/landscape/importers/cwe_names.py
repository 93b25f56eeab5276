"""CWE names (for readable tables), read by the knowledge base's CWE catalogue importer.

In: MITRE's cwec_v*.xml. Out: {"CWE-287": "Improper Authentication", ...}.
"""

from __future__ import annotations

from pathlib import Path

from mdrisk.kb.importers.cwe import CweImporter
from mdrisk.kb.records import WEAKNESS


def read_cwe_names(path: Path) -> dict[str, str]:
    return {
        record.id: record.data["name"]
        for batch in CweImporter().parse(path)
        for record in batch.records
        if record.kind == WEAKNESS
    }
