"""CycloneDX SBOMs in JSON (specVersion 1.2 to 1.6).

In: one BOM. Out: one ImportBatch per BOM, keyed ``cyclonedx:<serialNumber>`` (or, without
one, ``cyclonedx:<file name>:<subject name>@<version>``), holding one ``sbom_component`` record
per component, nested components included: {name, version, vendor (publisher, else supplier,
manufacturer or author), group, type, cpe, purl, description, licenses, properties
(e.g. "Level of Support", "End-of-Support"), parent, sbom}. The record id is the bom-ref
(else name@version); a bom-ref used twice in one BOM is refused, as CycloneDX requires. The
BOM is read by ``mdrisk.sbom``, which device models share.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import SBOM_COMPONENT, ImportBatch, Record
from mdrisk.parsing.strict_json import read_json
from mdrisk.sbom.cyclonedx import read_cyclonedx
from mdrisk.sbom.records import SbomComponent

# bomFormat may come after the components (keys sorted, as in real SBOMs), beyond the head.
_SNIFF = re.compile(
    r'"bomFormat"\s*:\s*"CycloneDX"|"\$schema"\s*:\s*"https?://cyclonedx\.org/'
    r'|"bom-ref"\s*:\s*"'
)
_RECORD_ID = re.compile(r'"bom-ref"\s*:\s*"([^"\\]{1,200})"')


class CycloneDxImporter(Importer):
    name = "cyclonedx"
    description = "CycloneDX SBOM (JSON, spec 1.2-1.6)"

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _SNIFF.search(head) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        bom = read_json(path, "bom", _RECORD_ID)
        return [sbom_batch(bom, path.name, self.name)]


def sbom_batch(document: Any, file_name: str, importer: str = "cyclonedx") -> ImportBatch:
    sbom = read_cyclonedx(document)
    subject_name = sbom.subject.name if sbom.subject else ""
    subject_version = sbom.subject.version if sbom.subject else ""
    source_key = (
        f"cyclonedx:{sbom.serial_number}"
        if sbom.serial_number
        else f"cyclonedx:{file_name}:{subject_name}@{subject_version}"
    )
    about = {
        "serial_number": sbom.serial_number,
        "subject": subject_name,
        "spec_version": sbom.spec_version,
    }
    records = [
        Record(SBOM_COMPONENT, component.ref, _record_data(component, about))
        for component in sbom.components
    ]
    return ImportBatch(importer, source_key, records)


def _record_data(component: SbomComponent, about: dict[str, str]) -> dict[str, Any]:
    return {**component.record_data(), "parent": component.parent, "sbom": about}
