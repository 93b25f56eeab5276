"""SBOMs in: CycloneDX (JSON, XML) and SPDX 2.x (JSON, tag-value) read into one shape.

Below ``model`` (a device model's ``sbom:`` is read when the model is loaded) and above
``parsing``; the knowledge base's CycloneDX importer reads BOMs through it too.
"""

from mdrisk.sbom.read import MAX_SBOM_BYTES, read_sbom, sbom_format, sbom_format_of_file
from mdrisk.sbom.records import MAX_SBOM_COMPONENTS, Sbom, SbomComponent

__all__ = [
    "MAX_SBOM_BYTES",
    "MAX_SBOM_COMPONENTS",
    "Sbom",
    "SbomComponent",
    "read_sbom",
    "sbom_format",
    "sbom_format_of_file",
]
