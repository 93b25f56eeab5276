"""CycloneDX BOMs (spec 1.2 to 1.6) as parsed JSON, or XML turned into the same shape.

Components nested in components are flattened, each keeping its parent. The ref is the
bom-ref (else name@version, numbered when repeated); a bom-ref used twice is refused, as
CycloneDX requires. Every refusal is a ``Shape`` naming the field, e.g.
``components[2].version``.
"""

from __future__ import annotations

from typing import Any

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
from mdrisk.sbom.records import Sbom, SbomComponent, check_count


def read_cyclonedx(document: Any, format_name: str = "CycloneDX JSON") -> Sbom:
    bom = obj(document, "bom")
    if bom.get("bomFormat") != "CycloneDX":
        raise Shape(
            "bom.bomFormat",
            'is not "CycloneDX"',
            fix='a CycloneDX JSON BOM has "bomFormat": "CycloneDX"',
        )
    metadata = opt_obj(bom, "metadata", "bom")
    subject = None
    if metadata.get("component") is not None:
        subject = component_of(
            obj(metadata["component"], "metadata.component"), "metadata.component", "", ""
        )
    components: list[SbomComponent] = []
    used: dict[str, str] = {}  # ref -> where it was first used
    repeats: dict[str, int] = {}
    top = opt_arr(bom, "components", "bom")
    check_count(len(top), "bom.components")
    stack = [(item, f"components[{index}]", "", 1) for index, item in enumerate(top)]
    stack.reverse()
    while stack:
        item, where, parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Shape(where, f"components nested deeper than {MAX_DEPTH} levels")
        component = obj(item, where)
        check_count(len(components) + 1, where)
        bom_ref = opt_text(component, "bom-ref", where)
        name = required_text(component, "name", where)
        ref = bom_ref or f"{name}@{opt_text(component, 'version', where) or ''}"
        if ref in used:
            if bom_ref:
                raise Shape(
                    f"{where}.bom-ref",
                    f"'{bom_ref[:60]}' is also the bom-ref of {used[ref]}",
                    fix="give every component its own bom-ref",
                )
            repeats[ref] = repeats.get(ref, 1) + 1
            ref = f"{ref}#{repeats[ref]}"
        used[ref] = where
        components.append(component_of(component, where, ref, parent))
        children = opt_arr(component, "components", where)
        stack += reversed(
            [
                (child, f"{where}.components[{index}]", ref, depth + 1)
                for index, child in enumerate(children)
            ]
        )
    return Sbom(
        format=format_name,
        spec_version=opt_text(bom, "specVersion", "bom") or "",
        serial_number=opt_text(bom, "serialNumber", "bom") or "",
        subject=subject,
        components=components,
        roots=[c.ref for c in components if not c.parent],
        dependencies=_dependencies(bom),
    )


def _dependencies(bom: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for index, item in enumerate(opt_arr(bom, "dependencies", "bom")):
        where = f"dependencies[{index}]"
        entry = obj(item, where)
        depends = [
            text(ref, f"{where}.dependsOn[{position}]")
            for position, ref in enumerate(opt_arr(entry, "dependsOn", where))
        ]
        found.setdefault(required_text(entry, "ref", where), []).extend(depends)
    return found


def component_of(component: dict[str, Any], where: str, ref: str, parent: str) -> SbomComponent:
    name = required_text(component, "name", where)
    if not name.strip():
        raise Shape(f"{where}.name", "is empty")
    supplier = _entity_name(component, "supplier", where)
    manufacturer = _entity_name(component, "manufacturer", where)
    publisher = opt_text(component, "publisher", where) or ""
    author = opt_text(component, "author", where) or ""
    version = opt_text(component, "version", where) or ""
    return SbomComponent(
        ref=ref or opt_text(component, "bom-ref", where) or f"{name}@{version}",
        parent=parent,
        where=where,
        name=name,
        version=version,
        vendor=publisher or supplier or manufacturer or author,
        publisher=publisher,
        supplier=supplier,
        group=opt_text(component, "group", where) or "",
        type=opt_text(component, "type", where) or "",
        cpe=opt_text(component, "cpe", where) or "",
        purl=opt_text(component, "purl", where) or "",
        description=opt_text(component, "description", where) or "",
        licenses=licenses(component, where),
        properties=properties(component, where),
    )


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
