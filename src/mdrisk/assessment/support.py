"""Support status of the device's technologies, from SBOMs in the knowledge base."""

from __future__ import annotations

from mdrisk.assessment.base import Record


class ComponentSupport(Record):
    """Support status of one technology of the device, as a CycloneDX SBOM in the knowledge
    base states it (FDA premarket guidance: level of support and end-of-support date)."""

    element: str
    technology: str  # name and version, as in ElementThreat.technology
    sbom_component: str  # the SBOM component's bom-ref (or name@version)
    sbom: str  # the SBOM's serial number, else its subject's name
    level_of_support: str | None = None
    end_of_support: str | None = None
    matched_on: str  # "purl" | "cpe" | "name and version"
