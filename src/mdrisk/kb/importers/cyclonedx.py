"""CycloneDX SBOMs in JSON (specVersion 1.2 to 1.6).

In: one BOM. Out: one ImportBatch per BOM, keyed ``cyclonedx:<serialNumber>`` (or, without
one, ``cyclonedx:<file name>:<subject name>@<version>``), holding one ``sbom_component`` record
per component, nested components included: {name, version, vendor (publisher, else supplier,
manufacturer or author), group, type, cpe, purl, description, licenses, properties
(e.g. "Level of Support", "End-of-Support"), parent, sbom}. The record id is the bom-ref
(else name@version); a bom-ref used twice in one BOM is refused, as CycloneDX requires.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import SBOM_COMPONENT, ImportBatch, Record
from mdrisk.parsing.shape import (
    MAX_DEPTH,
    Shape,
    obj,
    opt_arr,
    opt_obj,
    opt_text,
    required_text,
    text,
)
from mdrisk.parsing.strict_json import read_json

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
    bom = obj(document, "bom")
    if bom.get("bomFormat") != "CycloneDX":
        raise Shape(
            "bom.bomFormat",
            'is not "CycloneDX"',
            fix='a CycloneDX JSON BOM has "bomFormat": "CycloneDX"',
        )
    metadata = opt_obj(bom, "metadata", "bom")
    subject = opt_obj(metadata, "component", "metadata")
    subject_name = opt_text(subject, "name", "metadata.component") or ""
    subject_version = opt_text(subject, "version", "metadata.component") or ""
    serial = opt_text(bom, "serialNumber", "bom")
    source_key = (
        f"cyclonedx:{serial}"
        if serial
        else f"cyclonedx:{file_name}:{subject_name}@{subject_version}"
    )
    about = {
        "serial_number": serial or "",
        "subject": subject_name,
        "spec_version": opt_text(bom, "specVersion", "bom") or "",
    }

    records: list[Record] = []
    used: dict[str, str] = {}  # record id -> where it was first used
    repeats: dict[str, int] = {}
    stack = [
        (item, f"components[{index}]", "", 1)
        for index, item in enumerate(opt_arr(bom, "components", "bom"))
    ]
    stack.reverse()
    while stack:
        item, where, parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Shape(where, f"components nested deeper than {MAX_DEPTH} levels")
        component = obj(item, where)
        data = component_data(component, where)
        data["parent"] = parent
        data["sbom"] = about
        bom_ref = opt_text(component, "bom-ref", where)
        record_id = bom_ref or f"{data['name']}@{data['version']}"
        if record_id in used:
            if bom_ref:
                raise Shape(
                    f"{where}.bom-ref",
                    f"'{bom_ref[:60]}' is also the bom-ref of {used[record_id]}",
                    fix="give every component its own bom-ref",
                )
            repeats[record_id] = repeats.get(record_id, 1) + 1
            record_id = f"{record_id}#{repeats[record_id]}"
        used[record_id] = where
        records.append(Record(SBOM_COMPONENT, record_id, data))
        children = opt_arr(component, "components", where)
        stack += reversed(
            [
                (child, f"{where}.components[{index}]", record_id, depth + 1)
                for index, child in enumerate(children)
            ]
        )
    return ImportBatch(importer, source_key, records)


def component_data(component: dict[str, Any], where: str) -> dict[str, Any]:
    name = required_text(component, "name", where)
    if not name.strip():
        raise Shape(f"{where}.name", "is empty")
    supplier = _entity_name(component, "supplier", where)
    manufacturer = _entity_name(component, "manufacturer", where)
    publisher = opt_text(component, "publisher", where) or ""
    author = opt_text(component, "author", where) or ""
    data: dict[str, Any] = {
        "name": name,
        "version": opt_text(component, "version", where) or "",
        "vendor": publisher or supplier or manufacturer or author,
        "publisher": publisher,
        "supplier": supplier,
        "group": opt_text(component, "group", where) or "",
        "type": opt_text(component, "type", where) or "",
        "cpe": opt_text(component, "cpe", where) or "",
        "purl": opt_text(component, "purl", where) or "",
        "description": opt_text(component, "description", where) or "",
        "licenses": licenses(component, where),
        "properties": properties(component, where),
    }
    return data


def _entity_name(component: dict[str, Any], key: str, where: str) -> str:
    return opt_text(opt_obj(component, key, where), "name", f"{where}.{key}") or ""


def licenses(component: dict[str, Any], where: str) -> list[str]:
    """License ids, names or SPDX expressions, as written."""
    found = []
    for index, item in enumerate(opt_arr(component, "licenses", where)):
        at = f"{where}.licenses[{index}]"
        choice = obj(item, at)
        if choice.get("expression") is not None:
            found.append(text(choice["expression"], f"{at}.expression"))
            continue
        license_ = opt_obj(choice, "license", at)
        named = opt_text(license_, "id", f"{at}.license") or opt_text(
            license_, "name", f"{at}.license"
        )
        if named:
            found.append(named)
    return found


def properties(component: dict[str, Any], where: str) -> dict[str, Any]:
    """{name: value}; a name given more than once keeps every value, in a list."""
    found: dict[str, Any] = {}
    for index, item in enumerate(opt_arr(component, "properties", where)):
        at = f"{where}.properties[{index}]"
        entry = obj(item, at)
        name = required_text(entry, "name", at)
        value = opt_text(entry, "value", at) or ""
        if name not in found:
            found[name] = value
        elif isinstance(found[name], list):
            found[name].append(value)
        else:
            found[name] = [found[name], value]
    return found
