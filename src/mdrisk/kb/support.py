"""Support status of a device's technologies, read from CycloneDX SBOMs in the knowledge base.

The FDA premarket guidance asks, for each software component, the level of support its maker
provides and its end-of-support date; SBOMs written to it carry them as the properties
"Level of Support" and "End-of-Support". In: the ``sbom_component`` records of the store (as
the CycloneDX importer wrote them) and a device model. Out: one ``ComponentSupport`` per
technology that an SBOM component names, matched by package URL, then CPE, then name and
version; pure (the caller reads the records from the store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mdrisk.assessment.support import ComponentSupport
from mdrisk.kb.matching.cpe import CpeError, parse_cpe
from mdrisk.kb.matching.names import fold
from mdrisk.kb.matching.purl import PurlError, parse_purl
from mdrisk.kb.matching.versions import compare_text
from mdrisk.model.schema import DeviceModel, Technology

LEVEL_OF_SUPPORT = (
    "level of support",
    "level-of-support",
    "support level",
    "cdx:device:levelofsupport",
)
END_OF_SUPPORT = (
    "end-of-support",
    "end of support",
    "end-of-support date",
    "cdx:device:endofsupport",
)


@dataclass(frozen=True)
class SbomEntry:
    """One SBOM component, reduced to what matching and the support status need."""

    ref: str
    sbom: str
    name: str
    version: str
    purl: str
    cpe: str
    level_of_support: str | None
    end_of_support: str | None


def _property(properties: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for key, value in properties.items():
        if key.strip().casefold() in names:
            if isinstance(value, list):
                value = "; ".join(str(item) for item in value if item)
            text = str(value).strip()
            return text or None
    return None


def sbom_entries(records: Iterable[Any]) -> list[SbomEntry]:
    """Entries from stored ``sbom_component`` records (anything with ``.id`` and ``.data``)."""
    entries = []
    for record in records:
        data = record.data if isinstance(record.data, dict) else {}
        properties = data.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        about = data.get("sbom")
        if not isinstance(about, dict):
            about = {}
        entries.append(
            SbomEntry(
                ref=str(record.id),
                sbom=str(about.get("serial_number") or about.get("subject") or ""),
                name=str(data.get("name") or ""),
                version=str(data.get("version") or ""),
                purl=str(data.get("purl") or ""),
                cpe=str(data.get("cpe") or ""),
                level_of_support=_property(properties, LEVEL_OF_SUPPORT),
                end_of_support=_property(properties, END_OF_SUPPORT),
            )
        )
    return [e for e in entries if e.level_of_support or e.end_of_support]


def _same_version(a: str, b: str) -> bool:
    a, b = a.strip().removeprefix("v"), b.strip().removeprefix("v")
    if not a or not b:
        return False
    return a == b or compare_text(a, b) == 0


def _purl_match(technology: Technology, entry: SbomEntry) -> bool:
    if not technology.purl or not entry.purl:
        return False
    try:
        ours, theirs = parse_purl(technology.purl), parse_purl(entry.purl)
    except PurlError:
        return False
    if ours.key != theirs.key:
        return False
    return _same_version(ours.version or technology.version or "", theirs.version or entry.version)


def _cpe_match(technology: Technology, entry: SbomEntry) -> bool:
    if not technology.cpe or not entry.cpe:
        return False
    try:
        ours, theirs = parse_cpe(technology.cpe), parse_cpe(entry.cpe)
    except CpeError:
        return False
    if (ours.part, ours.vendor, ours.product) != (theirs.part, theirs.vendor, theirs.product):
        return False
    return _same_version(
        ours.version_text or technology.version or "", theirs.version_text or entry.version
    )


def _name_key(text: str, version: str) -> str:
    words = fold(text)
    if version:  # "WolfSSL 4.8.1" names its version in the name too
        words = words.replace(fold(version), " ")
    return re.sub(r"[^0-9a-z]+", "", words)


def _name_match(technology: Technology, entry: SbomEntry) -> bool:
    if not technology.version or not _same_version(technology.version, entry.version):
        return False
    theirs = _name_key(entry.name, entry.version)
    ours = {
        _name_key(text, technology.version)
        for text in (technology.product, technology.name)
        if text
    }
    return bool(theirs) and theirs in ours


_MATCHERS = (("purl", _purl_match), ("cpe", _cpe_match), ("name and version", _name_match))


def _technology_label(technology: Technology) -> str:
    return technology.name + (f" {technology.version}" if technology.version else "")


def _technologies(model: DeviceModel) -> list[tuple[str, Technology]]:
    found = [(c.id, t) for c in model.components for t in c.technologies]
    found += [
        (link.id, link.channel.technology)
        for link in model.links
        if link.channel.technology is not None
    ]
    return found


def support_status(model: DeviceModel, entries: Iterable[SbomEntry]) -> list[ComponentSupport]:
    """The SBOM support status of each technology of the model that an entry names, in model
    order; when several entries match, the most specific way (purl, cpe, name) wins and,
    among equals, the first by bom-ref."""
    entries = sorted(entries, key=lambda e: (e.sbom, e.ref))
    result = []
    for element, technology in _technologies(model):
        for how, matches in _MATCHERS:
            entry = next((e for e in entries if matches(technology, e)), None)
            if entry is not None:
                result.append(
                    ComponentSupport(
                        element=element,
                        technology=_technology_label(technology),
                        sbom_component=entry.ref,
                        sbom=entry.sbom,
                        level_of_support=entry.level_of_support,
                        end_of_support=entry.end_of_support,
                        matched_on=how,
                    )
                )
                break
    return result
