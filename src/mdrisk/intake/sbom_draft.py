"""Draft a device model from an SBOM: one component per part the SBOM shows, the SBOM's
components as its technologies (with their package URL and CPE).

The parts: each top-level component with nested components (CycloneDX) or contents (SPDX
CONTAINS), or that depends on others, takes everything under it. The components nothing
groups are gathered by what they are: applications, firmware and operating systems, devices,
and libraries by package ecosystem (nuget, npm, maven ...), since a .NET library and an
embedded C library run on different parts of a device. The draft says it is one: the
analyst names the parts, adds the links, losses, hazards, control actions and ML details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from mdrisk.model import LoadedModel, load_model_text
from mdrisk.model.sbom import sbom_technologies
from mdrisk.sbom import Sbom, SbomComponent

DRAFT_NOTE = (
    "DRAFT drafted by 'mdrisk model from-sbom' from an SBOM. Every component and technology "
    "below needs the analyst's review; links, losses, hazards, control actions and ML "
    "details are not in an SBOM and must be added."
)
_KIND_OF_TYPE = {
    "application": "app",
    "framework": "app",
    "library": "app",
    "container": "cloud",
    "platform": "cloud",
    "firmware": "controller",
    "operating-system": "controller",
    "operating_system": "controller",
    "device": "controller",
    "install": "app",
    "archive": "app",
    "source": "app",
    "file": "app",
}
_GROUP_TITLE = {
    "firmware": "firmware and operating system",
    "operating-system": "firmware and operating system",
    "operating_system": "firmware and operating system",
    "device": "hardware",
}


@dataclass(frozen=True)
class SbomDraft:
    text: str
    loaded: LoadedModel


@dataclass
class _Part:
    name: str
    kind: str
    members: list[SbomComponent] = field(default_factory=list)


def _closure(root: str, children: dict[str, list[str]]) -> list[str]:
    seen = {root}
    order = [root]
    stack = list(reversed(children.get(root, [])))
    while stack:
        ref = stack.pop()
        if ref in seen:
            continue
        seen.add(ref)
        order.append(ref)
        stack += reversed(children.get(ref, []))
    return order


def _parts(sbom: Sbom) -> list[_Part]:
    by_ref = {c.ref: c for c in sbom.components}
    children: dict[str, list[str]] = {}
    for component in sbom.components:
        if component.parent:
            children.setdefault(component.parent, []).append(component.ref)
    for ref, depends in sbom.dependencies.items():
        if ref in by_ref:
            children.setdefault(ref, []).extend(d for d in depends if d in by_ref and d != ref)
    depended = {child for refs in children.values() for child in refs}
    tops = [c for c in sbom.components if c.ref not in depended and children.get(c.ref)]
    parts: list[_Part] = []
    placed: set[str] = set()
    for top in tops:
        members = [by_ref[ref] for ref in _closure(top.ref, children) if ref not in placed]
        placed.update(m.ref for m in members)
        parts.append(_Part(top.name, _KIND_OF_TYPE.get(top.type, "app"), members))
    loose: dict[tuple[str, str], _Part] = {}
    for component in sbom.components:
        if component.ref in placed:
            continue
        ecosystem = _ecosystem(component.purl) if component.type in ("library", "") else ""
        key = (component.type, ecosystem)
        if key not in loose:
            what = _GROUP_TITLE.get(component.type, component.type or "components")
            if component.type == "application":
                what = "applications"
            elif component.type in ("library", ""):
                what = f"{ecosystem} libraries" if ecosystem else "libraries"
            loose[key] = _Part(what, _KIND_OF_TYPE.get(component.type, "app"))
        loose[key].members.append(component)
    merged: dict[str, _Part] = {}
    for part in loose.values():  # firmware and operating systems share one part
        merged.setdefault(part.name, _Part(part.name, part.kind)).members.extend(part.members)
    return parts + list(merged.values())


def _ecosystem(purl: str) -> str:
    match = re.match(r"^pkg:([a-zA-Z][a-zA-Z0-9.+\-]*)/", purl)
    return match.group(1).lower() if match and match.group(1).lower() != "generic" else ""


def _identifier(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("_.-").lower()[:60] or "component"
    if not base[0].isalpha():
        base = f"c_{base}"
    identifier, number = base, 2
    while identifier in used:
        identifier, number = f"{base}_{number}", number + 1
    used.add(identifier)
    return identifier


def _technology(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", {}, [])}


def draft_from_sbom(sbom: Sbom, file: str, name: str | None = None) -> SbomDraft:
    """A draft model of the device the SBOM describes; the YAML validates."""
    subject = sbom.subject.name if sbom.subject else ""
    device_name = name or (subject if subject.strip() else PurePath(file).stem)
    header = [
        "# DRAFT device model drafted by 'mdrisk model from-sbom'. Review every line before use.",
        f"# SBOM: {PurePath(file).name} ({sbom.format} {sbom.spec_version}), "
        f"{len(sbom.components)} components",
        "# One component per part of the device the SBOM shows; rename and split them as the",
        "# device is built, and add the links, losses, hazards and control actions.",
    ]
    device = {"name": device_name[:200], "description": DRAFT_NOTE, "references": [file]}
    text = "\n".join(header) + "\nschema_version: 1\n"
    text += yaml.safe_dump({"device": device}, sort_keys=False, allow_unicode=True, width=100)
    used: set[str] = set()
    items = []
    for part in _parts(sbom):
        technologies = sbom_technologies(
            Sbom(sbom.format, sbom.spec_version, sbom.serial_number, None, part.members), file
        )
        items.append(
            {
                "id": _identifier(part.name, used),
                "name": part.name[:200],
                "kind": part.kind,
                "description": f"DRAFT: review ({len(part.members)} SBOM components)",
                "technologies": [
                    _technology(t.model_dump(mode="json", exclude_defaults=True))
                    for t in technologies
                ],
            }
        )
    text += yaml.safe_dump({"components": items}, sort_keys=False, allow_unicode=True, width=100)
    return SbomDraft(text=text, loaded=load_model_text(text, "<draft>"))
