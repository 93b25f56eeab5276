"""The control-structure diagram as SVG safe to inline in the HTML report.

model.svg escapes the labels it draws, but the SVG is still passed through an allow-list:
only drawing elements and presentation attributes survive, so no script, event handler,
link or foreign object can reach the page whatever the device model says.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mdrisk.assessment import Assessment
from mdrisk.model.diagram import to_svg, too_large_to_draw

SVG_NS = "http://www.w3.org/2000/svg"
_ALLOWED_TAGS = {
    "svg",
    "g",
    "title",
    "polygon",
    "polyline",
    "ellipse",
    "path",
    "text",
    "line",
    "rect",
    "circle",
    "tspan",
}
_ALLOWED_ATTRIBUTES = {
    "id",
    "class",
    "viewBox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "cx",
    "cy",
    "rx",
    "ry",
    "r",
    "d",
    "points",
    "transform",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "fill-opacity",
    "stroke-opacity",
    "opacity",
    "preserveAspectRatio",
}


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _clean(node: ET.Element) -> None:
    for child in list(node):
        if (
            _local(child.tag) not in _ALLOWED_TAGS
            or child.tag.startswith("{")
            and not child.tag.startswith("{" + SVG_NS)
        ):
            node.remove(child)
            continue
        _clean(child)
    for name in list(node.attrib):
        if name.startswith("{") or name not in _ALLOWED_ATTRIBUTES:
            del node.attrib[name]
        elif "url(" in node.attrib[name].replace(" ", "").lower():
            del node.attrib[name]


def safe_svg(svg_bytes: bytes, label: str) -> str:
    """An SVG reduced to drawing elements, without XML prolog, sized by the page."""
    root = ET.fromstring(svg_bytes)  # expat: no external entities are fetched
    if _local(root.tag) != "svg":
        raise ValueError("not an SVG document")
    _clean(root)
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    root.set("class", "diagram")
    root.set("role", "img")
    root.set("aria-label", label)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def control_structure_svg(assessment: Assessment) -> tuple[str | None, str | None]:
    """(inline SVG, None), or (None, why it could not be drawn)."""
    too_large = too_large_to_draw(assessment.device)
    if too_large is not None:
        return None, too_large
    highlight = frozenset(point.element for point in assessment.fdi_points)
    drawn = to_svg(assessment.device, highlight)
    return safe_svg(drawn, f"{assessment.device.device.name}: control structure"), None
