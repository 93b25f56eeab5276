"""SPDX 2.2 and 2.3 documents: JSON as parsed, and tag-value turned into the same shape.

Packages become components: name, versionInfo, supplier (else originator) as the vendor,
the cpe23Type/cpe22Type and purl external references, declared and concluded licences.
The packages the document DESCRIBES are its roots; CONTAINS (and CONTAINED_BY) give each
package its parent, DEPENDS_ON (and DEPENDENCY_OF) its dependencies.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from mdrisk.parsing.shape import Shape, obj, opt_arr, opt_text, required_text, texts
from mdrisk.sbom.records import Sbom, SbomComponent, check_count

_NO_VALUE = {"", "NOASSERTION", "NONE"}
_ACTOR = re.compile(r"^\s*(?:Organization|Person|Tool)\s*:\s*")
_CPE_TYPES = {"cpe23Type", "cpe22Type"}


def read_spdx(
    document: Any, format_name: str = "SPDX JSON", places: list[str] | None = None
) -> Sbom:
    """``places``: where each package is in the file, when not ``packages[i]`` (tag-value)."""
    spdx = obj(document, "document")
    version = required_text(spdx, "spdxVersion", "document")
    if not version.startswith("SPDX-2."):
        raise Shape(
            "document.spdxVersion",
            f"'{version[:40]}' is not an SPDX 2.x version",
            fix="give an SPDX 2.2 or 2.3 document (JSON or tag-value)",
        )
    components = []
    refs: set[str] = set()
    packages = opt_arr(spdx, "packages", "document")
    check_count(len(packages), "document.packages")
    for index, item in enumerate(packages):
        where = places[index] if places else f"packages[{index}]"
        package = obj(item, where)
        ref = required_text(package, "SPDXID", where)
        if ref in refs:
            raise Shape(f"{where}.SPDXID", f"'{ref[:60]}' names two packages")
        refs.add(ref)
        components.append(_package(package, where, ref))
    parents, dependencies, described = _relationships(spdx)
    described += texts(spdx.get("documentDescribes") or [], "document.documentDescribes")
    roots = [c.ref for c in components if c.ref in set(described)]
    # A parent that is not a package (the document, a file) leaves the package at the top.
    components = [
        replace(c, parent=parent if (parent := parents.get(c.ref, "")) in refs else "")
        for c in components
    ]
    by_ref = {c.ref: c for c in components}
    return Sbom(
        format=format_name,
        spec_version=version,
        serial_number=opt_text(spdx, "documentNamespace", "document") or "",
        subject=by_ref[roots[0]] if len(roots) == 1 else None,
        components=components,
        roots=roots or [c.ref for c in components if not c.parent],
        dependencies=dependencies,
    )


def _package(package: dict[str, Any], where: str, ref: str) -> SbomComponent:
    name = required_text(package, "name", where)
    if not name.strip():
        raise Shape(f"{where}.name", "is empty")
    supplier = _actor(opt_text(package, "supplier", where))
    originator = _actor(opt_text(package, "originator", where))
    cpe = purl = ""
    for index, item in enumerate(opt_arr(package, "externalRefs", where)):
        at = f"{where}.externalRefs[{index}]"
        reference = obj(item, at)
        kind = required_text(reference, "referenceType", at)
        locator = required_text(reference, "referenceLocator", at)
        if kind in _CPE_TYPES and not cpe:
            cpe = locator
        elif kind == "purl" and not purl:
            purl = locator
    licenses = [
        value
        for key in ("licenseDeclared", "licenseConcluded")
        if (value := opt_text(package, key, where) or "") not in _NO_VALUE
    ]
    return SbomComponent(
        ref=ref,
        parent="",
        where=where,
        name=name,
        version=_value(opt_text(package, "versionInfo", where)),
        vendor=supplier or originator,
        supplier=supplier,
        type=(opt_text(package, "primaryPackagePurpose", where) or "").lower(),
        cpe=cpe,
        purl=purl,
        description=_value(
            opt_text(package, "description", where) or opt_text(package, "summary", where)
        ),
        licenses=list(dict.fromkeys(licenses)),
    )


def _value(written: str | None) -> str:
    return "" if written is None or written.strip() in _NO_VALUE else written.strip()


def _actor(written: str | None) -> str:
    return _value(_ACTOR.sub("", written or ""))


def _relationships(
    spdx: dict[str, Any],
) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    parents: dict[str, str] = {}
    dependencies: dict[str, list[str]] = {}
    described: list[str] = []
    for index, item in enumerate(opt_arr(spdx, "relationships", "document")):
        where = f"relationships[{index}]"
        relation = obj(item, where)
        source = required_text(relation, "spdxElementId", where)
        kind = required_text(relation, "relationshipType", where).upper()
        target = required_text(relation, "relatedSpdxElement", where)
        if kind == "DESCRIBES":
            described.append(target)
        elif kind == "DESCRIBED_BY":
            described.append(source)
        elif kind == "CONTAINS":
            parents.setdefault(target, source)
        elif kind == "CONTAINED_BY":
            parents.setdefault(source, target)
        elif kind == "DEPENDS_ON":
            dependencies.setdefault(source, []).append(target)
        elif kind == "DEPENDENCY_OF":
            dependencies.setdefault(target, []).append(source)
    return parents, dependencies, described
