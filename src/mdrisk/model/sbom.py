"""A component's ``sbom:``: the SBOM's components become its technologies, with their
package URL and CPE, when the model is loaded.

The SBOM is found relative to the model file. Its subject (CycloneDX metadata.component) is
added only when it carries a CPE or a package URL: a bare product name matches nothing. A
technology the analyst wrote is kept as written, and not repeated from the SBOM.
"""

from __future__ import annotations

import re
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.model.schema import Component, DeviceModel, Technology
from mdrisk.parsing.source import SourceDocument
from mdrisk.sbom import Sbom, SbomComponent, read_sbom

MAX_SBOM_TECHNOLOGIES = 20_000
_CPE_23 = re.compile(r"^cpe:2\.3:[aho\*\-]:")
_PURL = re.compile(r"^pkg:[a-zA-Z][a-zA-Z0-9.+\-]*/")


def with_sbom_technologies(model: DeviceModel, source: SourceDocument, base: Path) -> DeviceModel:
    """``model`` with the technologies of every component's SBOM added."""
    if not any(component.sbom for component in model.components):
        return model
    components = []
    for index, component in enumerate(model.components):
        if component.sbom is None:
            components.append(component)
            continue
        path = base / component.sbom
        where = ("components", index, "sbom")
        try:
            technologies = sbom_technologies(read_sbom(path), str(path))
        except InputError as bad:
            line = source.line_of(where)
            at = f"{source.file}:{line}" if line else source.file
            named_by = Problem(f"the SBOM named by {at} {source.render_path(where)}")
            raise InputError(bad.file, [*bad.problems, named_by]) from None
        components.append(_with(component, technologies))
    return model.model_copy(update={"components": components})


def _with(component: Component, technologies: list[Technology]) -> Component:
    written = {_key(t) for t in component.technologies}
    added = [t for t in technologies if _key(t) not in written]
    return component.model_copy(update={"technologies": [*component.technologies, *added]})


def _key(technology: Technology) -> tuple[str, str]:
    return technology.name.casefold(), technology.version or ""


def sbom_technologies(sbom: Sbom, file: str) -> list[Technology]:
    """One technology per SBOM component (repeats dropped), in the SBOM's order."""
    listed = list(sbom.components)
    if sbom.subject is not None and sbom.subject not in listed:
        if sbom.subject.cpe or sbom.subject.purl:
            listed.insert(0, sbom.subject)
    if len(listed) > MAX_SBOM_TECHNOLOGIES:
        raise InputError(
            file,
            [
                Problem(
                    f"{len(listed)} components, over the {MAX_SBOM_TECHNOLOGIES} a "
                    "device component can carry",
                    field="components",
                    fix="give each device component the SBOM of what it runs",
                )
            ],
        )
    technologies: dict[tuple[str, str, str, str], Technology] = {}
    for item in listed:
        technology = technology_of(item, file)
        key = (technology.name, technology.version or "", item.cpe, item.purl)
        technologies.setdefault(key, technology)
    return list(technologies.values())


def technology_of(item: SbomComponent, file: str) -> Technology:
    def refuse(field: str, message: str, fix: str) -> InputError:
        return InputError(file, [Problem(message, field=f"{item.where}.{field}", fix=fix)])

    if len(item.name) > 200:
        raise refuse("name", f"is {len(item.name)} characters, over 200", "shorten the name")
    cpe = _cpe_23(item.cpe)
    if item.cpe and cpe is None:
        raise refuse(
            "cpe",
            f"'{item.cpe[:80]}' is not a CPE 2.3 name (or a CPE 2.2 URI)",
            "write it as cpe:2.3:part:vendor:product:version:...",
        )
    if item.purl and not _PURL.match(item.purl):
        raise refuse(
            "purl",
            f"'{item.purl[:80]}' is not a package URL",
            "write it as pkg:type/namespace/name@version",
        )
    return Technology(
        name=item.name.strip(),
        vendor=item.vendor or item.group or None,
        version=item.version or None,
        cpe=cpe,
        purl=item.purl or None,
    )


def _cpe_23(written: str) -> str | None:
    """A CPE 2.3 formatted string; a CPE 2.2 URI (cpe:/a:vendor:product:version) converted."""
    if not written:
        return None
    if _CPE_23.match(written):
        return written
    if written.startswith("cpe:/") and len(written) > 6 and written[5] in "aho":
        parts = written[5:].split(":")
        parts += ["*"] * (11 - len(parts))
        if len(parts) == 11:
            return "cpe:2.3:" + ":".join(part or "*" for part in parts)
    return None
