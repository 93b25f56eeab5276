"""CycloneDX XML (spec 1.2 to 1.6) turned into the JSON shape ``cyclonedx.read_cyclonedx``
reads, so both serialisations share one reader and one set of checks.

Read through ``parsing.safe_xml``: a DOCTYPE or entity declaration is refused before it takes
effect, and an XInclude element is refused rather than ignored (nothing is fetched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdrisk.parsing.errors import refuse
from mdrisk.parsing.safe_xml import stream_xml
from mdrisk.parsing.shape import MAX_DEPTH
from mdrisk.sbom.records import MAX_SBOM_COMPONENTS

NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
MAX_ELEMENTS = 1_000_000
_TEXT_FIELDS = ("name", "version", "group", "publisher", "author", "description", "purl", "cpe")
_ENTITIES = {"supplier": "supplier", "manufacturer": "manufacturer", "manufacture": "manufacturer"}


@dataclass
class _Element:
    tag: str
    attributes: dict[str, str]
    line: int
    children: list[_Element] = field(default_factory=list)
    text: str = ""

    def child(self, tag: str) -> _Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[_Element]:
        return [c for c in self.children if c.tag == tag]

    def child_text(self, tag: str) -> str | None:
        found = self.child(tag)
        return None if found is None else found.text.strip()


def _tree(path: Path) -> _Element:
    root: list[_Element] = []
    open_: list[_Element] = []
    count = [0, 0]  # elements, components

    def start(tag: str, attributes: dict[str, str], line: int) -> None:
        count[0] += 1
        if count[0] > MAX_ELEMENTS:
            raise refuse(path, f"more than {MAX_ELEMENTS} XML elements", line=line)
        count[1] += tag == "component"
        if count[1] > MAX_SBOM_COMPONENTS + 1:  # + the subject in metadata
            raise refuse(
                path,
                f"more than {MAX_SBOM_COMPONENTS} components",
                line=line,
                fix="give each device component the SBOM of what it runs",
            )
        if tag == "include":
            raise refuse(
                path,
                "an XInclude element refused: an SBOM is read as one file and fetches nothing",
                line=line,
                fix="give the SBOM with its content in place",
            )
        if len(open_) > 2 * MAX_DEPTH:
            raise refuse(path, f"XML nested deeper than {2 * MAX_DEPTH} levels", line=line)
        element = _Element(tag, attributes, line)
        if open_:
            open_[-1].children.append(element)
        else:
            root.append(element)
        open_.append(element)

    def end(_tag: str) -> None:
        open_.pop()

    def text(data: str) -> None:
        if open_:
            open_[-1].text += data

    stream_xml(path, start, end, text)
    return root[0]


def is_cyclonedx_xml(root_tag: str, namespace: str) -> bool:
    return root_tag == "bom" and namespace.startswith(NAMESPACE_PREFIX)


def cyclonedx_xml_document(path: Path) -> dict[str, Any]:
    """The BOM in ``path`` as the dict its JSON form would parse to."""
    root = _tree(path)
    namespace = root.attributes.get("{namespace}", "")
    if not is_cyclonedx_xml(root.tag, namespace):
        raise refuse(
            path,
            f"the root element is <{root.tag}> in '{namespace}', not a CycloneDX <bom>",
            line=root.line,
            fix=f'a CycloneDX XML BOM starts <bom xmlns="{NAMESPACE_PREFIX}1.6">',
        )
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": namespace[len(NAMESPACE_PREFIX) :],
    }
    if "serialNumber" in root.attributes:
        document["serialNumber"] = root.attributes["serialNumber"]
    metadata = root.child("metadata")
    subject = metadata.child("component") if metadata else None
    if subject is not None:
        document["metadata"] = {"component": _component(subject)}
    components = root.child("components")
    if components is not None:
        document["components"] = [_component(c) for c in components.all("component")]
    dependencies = root.child("dependencies")
    if dependencies is not None:
        document["dependencies"] = [
            {
                "ref": item.attributes.get("ref", ""),
                "dependsOn": [d.attributes.get("ref", "") for d in item.all("dependency")],
            }
            for item in dependencies.all("dependency")
        ]
    return document


def _component(element: _Element) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ("type", "bom-ref"):
        if key in element.attributes:
            data[key] = element.attributes[key]
    for tag in _TEXT_FIELDS:
        value = element.child_text(tag)
        if value is not None:
            data[tag] = value
    for tag, key in _ENTITIES.items():
        entity = element.child(tag)
        if entity is not None and key not in data:
            data[key] = {"name": entity.child_text("name") or ""}
    licenses = element.child("licenses")
    if licenses is not None:
        data["licenses"] = [_license(item) for item in licenses.children]
    properties = element.child("properties")
    if properties is not None:
        data["properties"] = [
            {"name": item.attributes.get("name", ""), "value": item.text.strip()}
            for item in properties.all("property")
        ]
    nested = element.child("components")
    if nested is not None:
        data["components"] = [_component(c) for c in nested.all("component")]
    return data


def _license(element: _Element) -> dict[str, Any]:
    if element.tag == "expression":
        return {"expression": element.text.strip()}
    named = {tag: element.child_text(tag) for tag in ("id", "name")}
    return {"license": {key: value for key, value in named.items() if value is not None}}
