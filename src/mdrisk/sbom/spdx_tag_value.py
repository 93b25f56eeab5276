"""SPDX 2.x tag-value text turned into the JSON shape ``spdx.read_spdx`` reads.

Only what a component needs is kept: the document's version and namespace, each package's
name, SPDXID, version, supplier, originator, purpose, description, licences and external
references, and the relationships. A value may span lines inside <text>...</text>.
"""

from __future__ import annotations

import re
from typing import Any

from mdrisk.parsing.shape import Shape

_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9]*):\s?(.*)$")
_PACKAGE_FIELDS = {
    "PackageVersion": "versionInfo",
    "PackageSupplier": "supplier",
    "PackageOriginator": "originator",
    "PrimaryPackagePurpose": "primaryPackagePurpose",
    "PackageDescription": "description",
    "PackageSummary": "summary",
    "PackageLicenseDeclared": "licenseDeclared",
    "PackageLicenseConcluded": "licenseConcluded",
}
_ENDS_PACKAGE = {"FileName", "SnippetSPDXID", "LicenseID"}


def looks_like_spdx_tag_value(head: str) -> bool:
    return re.search(r"^SPDXVersion:\s*SPDX-", head, re.MULTILINE) is not None


def spdx_tag_value_document(text: str) -> tuple[dict[str, Any], list[str]]:
    """The document as SPDX JSON would hold it, and where each package starts (its line)."""
    document: dict[str, Any] = {"packages": [], "relationships": []}
    places: list[str] = []
    package: dict[str, Any] | None = None
    for line_number, tag, value in _tags(text):
        if tag == "PackageName":
            package = {"name": value}
            document["packages"].append(package)
            places.append(f"line {line_number} (PackageName {value[:60]})")
        elif tag in _ENDS_PACKAGE:
            package = None
        elif tag == "SPDXID" and package is not None:
            package["SPDXID"] = value
        elif tag in _PACKAGE_FIELDS and package is not None:
            package[_PACKAGE_FIELDS[tag]] = value
        elif tag == "ExternalRef" and package is not None:
            parts = value.split()
            if len(parts) != 3:
                raise Shape(
                    f"line {line_number} (ExternalRef)",
                    "expected CATEGORY TYPE LOCATOR",
                    fix="e.g. ExternalRef: PACKAGE-MANAGER purl pkg:pypi/requests@2.31.0",
                )
            package.setdefault("externalRefs", []).append(
                {
                    "referenceCategory": parts[0],
                    "referenceType": parts[1],
                    "referenceLocator": parts[2],
                }
            )
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) != 3:
                raise Shape(
                    f"line {line_number} (Relationship)",
                    "expected ELEMENT TYPE ELEMENT",
                    fix="e.g. Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package",
                )
            document["relationships"].append(
                {
                    "spdxElementId": parts[0],
                    "relationshipType": parts[1],
                    "relatedSpdxElement": parts[2],
                }
            )
        elif tag == "SPDXVersion":
            document["spdxVersion"] = value
        elif tag == "DocumentNamespace":
            document["documentNamespace"] = value
    return document, places


def _tags(text: str) -> list[tuple[int, str, str]]:
    """(line, tag, value) of every tag; a <text> value gathered over its lines."""
    found: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _TAG.match(line)
        if match is None:
            raise Shape(f"line {index}", "expected 'Tag: value'", fix="check the SPDX file")
        tag, value = match.group(1), match.group(2).strip()
        start = index
        if value.startswith("<text>"):
            gathered = [value[len("<text>") :]]
            while "</text>" not in gathered[-1]:
                if index >= len(lines):
                    raise Shape(f"line {start} ({tag})", "<text> is never closed by </text>")
                gathered.append(lines[index])
                index += 1
            value = "\n".join(gathered).split("</text>", 1)[0].strip()
        found.append((start, tag, value))
    return found
