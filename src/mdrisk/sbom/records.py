"""What every SBOM format is read into: its components, each with where it sits in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdrisk.parsing.shape import Shape

# Far above a real device's SBOM (a container image has a few thousand packages); reading
# more than this costs seconds and hundreds of MB before any of it is used.
MAX_SBOM_COMPONENTS = 50_000


def check_count(count: int, where: str) -> None:
    if count > MAX_SBOM_COMPONENTS:
        raise Shape(
            where,
            f"more than {MAX_SBOM_COMPONENTS} components",
            fix="give each device component the SBOM of what it runs",
        )


@dataclass(frozen=True)
class SbomComponent:
    """One component (CycloneDX) or package (SPDX), as the SBOM states it."""

    ref: str  # bom-ref or SPDXID, else name@version; unique in its SBOM
    parent: str  # ref of the component it is nested in (CONTAINS for SPDX), "" at the top
    where: str  # its place in the file, e.g. components[3].components[0]
    name: str
    version: str = ""
    vendor: str = ""  # publisher, else supplier, manufacturer or author
    publisher: str = ""
    supplier: str = ""
    group: str = ""
    type: str = ""  # CycloneDX type, or SPDX primaryPackagePurpose, lower case
    cpe: str = ""
    purl: str = ""
    description: str = ""
    licenses: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)

    def record_data(self) -> dict[str, Any]:
        """The fields the knowledge base stores for an SBOM component."""
        return {
            "name": self.name,
            "version": self.version,
            "vendor": self.vendor,
            "publisher": self.publisher,
            "supplier": self.supplier,
            "group": self.group,
            "type": self.type,
            "cpe": self.cpe,
            "purl": self.purl,
            "description": self.description,
            "licenses": list(self.licenses),
            "properties": dict(self.properties),
        }


@dataclass(frozen=True)
class Sbom:
    """An SBOM: what it describes (``subject``) and its components, nesting flattened in
    document order (a parent before its children)."""

    format: str  # "CycloneDX JSON", "CycloneDX XML", "SPDX JSON", "SPDX tag-value"
    spec_version: str
    serial_number: str  # CycloneDX serialNumber or SPDX documentNamespace
    subject: SbomComponent | None  # metadata.component, or the package SPDX describes
    components: list[SbomComponent]
    # SPDX: the packages the document describes (its roots); CycloneDX: the top level.
    roots: list[str] = field(default_factory=list)
    # ref -> refs it depends on (CycloneDX dependencies, SPDX DEPENDS_ON).
    dependencies: dict[str, list[str]] = field(default_factory=dict)
