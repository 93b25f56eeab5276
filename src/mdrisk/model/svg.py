"""The control-structure diagram as SVG, drawn by mdrisk itself (no Graphviz needed).

Layout from ``layered``: controllers above what they control, control actions running down,
feedback up. Control actions are blue and bold, feedback green and dashed, data grey, updates
purple and dotted; FDI points (``highlight``) are red. Every text of the model is escaped and
stripped of characters XML cannot hold; arrowheads are plain polygons, so the SVG passes the
report's allow-list (report.diagram_svg) unchanged. Same model, same bytes.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mdrisk.model.layered import Box, Edge, Placement, place
from mdrisk.model.schema import Component, ComponentKind, DeviceModel, Link, LinkKind
from mdrisk.model.xml_text import escape, quoteattr

FONT = "Helvetica, Arial, sans-serif"
NAME_SIZE = 12.0
KIND_SIZE = 10.0
LABEL_SIZE = 10.0
LINE_HEIGHT = 1.25
PADDING = 10.0
MARGIN = 24.0
LAYER_GAP = 56.0  # the least room between two layers, before labels
LABEL_ROW_GAP = 4.0
FDI_COLOR = "#c62828"
ML_FILL = "#fff8e1"
FDI_FILL = "#ffebee"


@dataclass(frozen=True)
class LinkStyle:
    color: str
    width: float
    dash: str | None
    legend: str


STYLES = {
    LinkKind.control_action: LinkStyle("#1f4e9c", 2.2, None, "control action (down)"),
    LinkKind.feedback: LinkStyle("#2e7d32", 1.6, "6 4", "feedback (up)"),
    LinkKind.data: LinkStyle("#616161", 1.2, None, "data"),
    LinkKind.update: LinkStyle("#6a1b9a", 1.4, "2 3", "update"),
}


def _xml_char(char: str) -> str:
    code = ord(char)
    if char in "\t\n\r":
        return " "
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return "\ufffd"
    return char


def clean(text: str) -> str:
    """The text with every character XML 1.0 cannot carry (controls, lone surrogates)
    replaced; line breaks become spaces."""
    return "".join(_xml_char(char) for char in text)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An estimate good enough to size boxes, for the widest common fallback font (DejaVu
    Sans, where Helvetica and Arial are missing); wide East Asian characters count double."""
    narrow = 0.7 if bold else 0.62
    units = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else narrow for c in text)
    return units * size


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines = textwrap.wrap(clean(text), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return lines


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _text_block(
    lines: list[str], x: float, y_top: float, size: float, color: str, weight: str = "normal"
) -> str:
    parts = []
    for index, line in enumerate(lines):
        baseline = y_top + size * (index * LINE_HEIGHT + 0.95)
        parts.append(
            f'<text x="{_num(x)}" y="{_num(baseline)}" text-anchor="middle" '
            f'font-size="{_num(size)}" font-weight="{weight}" fill="{color}">'
            f"{escape(line)}</text>"
        )
    return "".join(parts)


@dataclass(frozen=True)
class _NodeText:
    name: list[str]
    kind: str
    width: float
    height: float


def _node_text(component: Component) -> _NodeText:
    name = wrap(component.name, 24, 4)
    kind = f"[{component.kind.value}]"
    width = max(
        [text_width(line, NAME_SIZE, bold=True) for line in name]
        + [text_width(kind, KIND_SIZE), 90.0]
    )
    height = (len(name) * NAME_SIZE + KIND_SIZE) * LINE_HEIGHT + 2 * PADDING
    return _NodeText(name, kind, width + 2 * PADDING, height)


def _label_lines(link: Link) -> list[str]:
    return wrap(", ".join(signal.name for signal in link.carries), 28, 4)


def _shape(component: Component, x: float, y: float, w: float, h: float, fdi: bool) -> str:
    stroke, width = (FDI_COLOR, 2.5) if fdi else ("#37474f", 1.2)
    fill = FDI_FILL if fdi else ML_FILL if component.kind == ComponentKind.ml_engine else "#ffffff"
    kind = component.kind
    radius = {ComponentKind.human: h / 2, ComponentKind.cloud: 16.0}.get(kind, 4.0)
    extra = ""
    if kind == ComponentKind.controlled_process:  # a 3-D slab: the process being controlled
        extra = (
            f'<rect x="{_num(x + 5)}" y="{_num(y + 5)}" width="{_num(w)}" height="{_num(h)}" '
            f'rx="2.0" fill="#cfd8dc" stroke="{stroke}" stroke-width="{_num(width)}"/>'
        )
        radius = 2.0
    body = (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
        f'rx="{_num(radius)}" fill="{fill}" stroke="{stroke}" stroke-width="{_num(width)}"/>'
    )
    if kind == ComponentKind.ml_engine:  # a double border marks the ML engine
        body += (
            f'<rect x="{_num(x + 3)}" y="{_num(y + 3)}" width="{_num(w - 6)}" '
            f'height="{_num(h - 6)}" rx="2.0" fill="none" stroke="{stroke}" '
            f'stroke-width="0.8"/>'
        )
    return extra + body


@dataclass
class _Route:
    link: Link
    points: list[tuple[float, float]]  # port, bends (top and bottom of each layer), port
    label: list[str]
    label_gap: int  # which segment (an index into points, even) carries the label


def _ports(
    placement: Placement,
    layer_top: list[float],
    layer_bottom: list[float],
    links: Sequence[Link],
) -> dict[tuple[str, int], tuple[float, float]]:
    """Attachment points: links to a lower layer leave a box's bottom, links to an upper
    layer its top, spread along the side in the order of the other end."""
    slots = placement.slots
    sides: dict[tuple[str, str], list[tuple[float, str, int]]] = {}
    for link in links:
        chain = placement.chains[link.id]
        for end, neighbour in ((0, 1), (-1, -2)):
            key = chain[end]
            other = chain[neighbour]
            side = "bottom" if slots[other].layer > slots[key].layer else "top"
            if slots[other].layer == slots[key].layer:
                side = "right" if slots[other].x > slots[key].x else "left"
            sides.setdefault((key, side), []).append((slots[other].x, link.id, end))
    ports: dict[tuple[str, int], tuple[float, float]] = {}
    for (key, side), entries in sides.items():
        slot = slots[key]
        entries.sort()
        for index, (_, link_id, end) in enumerate(entries):
            fraction = (index + 1) / (len(entries) + 1)
            layer = slot.layer
            top = layer_top[layer] + (layer_bottom[layer] - layer_top[layer] - slot.height) / 2
            if side in ("top", "bottom"):
                x = slot.left + slot.width * fraction
                y = top if side == "top" else top + slot.height
            else:
                x = slot.left if side == "left" else slot.left + slot.width
                y = top + slot.height * fraction
            ports[(link_id, end)] = (x, y)
    return ports


def _curve(points: list[tuple[float, float]]) -> str:
    """Straight through each layer, an S-curve with vertical ends between layers."""
    (x0, y0), rest = points[0], points[1:]
    path = [f"M{_num(x0)},{_num(y0)}"]
    previous = points[0]
    for index, (x, y) in enumerate(rest):
        px, py = previous
        if index % 2 == 0 and py != y:  # between layers
            middle = (py + y) / 2
            path.append(f"C{_num(px)},{_num(middle)} {_num(x)},{_num(middle)} {_num(x)},{_num(y)}")
        else:
            path.append(f"L{_num(x)},{_num(y)}")
        previous = (x, y)
    return " ".join(path)


def _bezier_x_at(p0: tuple[float, float], p1: tuple[float, float], y: float) -> float:
    """x of the S-curve from p0 to p1 where it passes height y."""
    (x0, y0), (x1, y1) = p0, p1
    if y0 == y1:
        return (x0 + x1) / 2
    low, high = 0.0, 1.0
    for _ in range(30):
        t = (low + high) / 2
        yt = y0 + (y1 - y0) * (3 * t * t - 2 * t * t * t)
        if (yt - y) * (y1 - y0) < 0:
            low = t
        else:
            high = t
    t = (low + high) / 2
    return x0 + (x1 - x0) * (3 * t * t - 2 * t * t * t)


def _arrowhead(tip: tuple[float, float], before: tuple[float, float], color: str) -> str:
    (x, y), (bx, by) = tip, before
    dx, dy = x - bx, y - by
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    size, half = 9.0, 4.0
    left = (x - ux * size - uy * half, y - uy * size + ux * half)
    right = (x - ux * size + uy * half, y - uy * size - ux * half)
    points = " ".join(f"{_num(px)},{_num(py)}" for px, py in (tip, left, right))
    return f'<polygon points="{points}" fill="{color}"/>'


def draw_svg(model: DeviceModel, highlight: frozenset[str] = frozenset()) -> bytes:
    texts = {c.id: _node_text(c) for c in model.components}
    placement = place(
        [Box(c.id, texts[c.id].width, texts[c.id].height) for c in model.components],
        [Edge(link.id, link.source, link.target, link.kind) for link in model.links],
    )
    slots = placement.slots
    layer_count = len(placement.layers)
    band = [max((slots[k].height for k in layer), default=0.0) for layer in placement.layers]
    # Each link's label sits between two layers: the middle gap it crosses.
    labels: dict[int, list[tuple[float, float, Link, list[str]]]] = {}
    gap_of: dict[str, int] = {}
    for link in model.links:
        chain = placement.chains[link.id]
        layers = [slots[k].layer for k in chain]
        gaps = [min(a, b) for a, b in zip(layers, layers[1:], strict=False) if a != b]
        gap = gaps[(len(gaps) - 1) // 2] if gaps else min(layers)
        gap_of[link.id] = gap
        lines = _label_lines(link)
        width = max(text_width(line, LABEL_SIZE) for line in lines) + 6
        middle = [slots[k].x for k in chain if slots[k].layer in (gap, gap + 1)]
        centre = sum(middle) / len(middle)
        labels.setdefault(gap, []).append((centre, width, link, lines))
    # Labels of one gap go in rows so that no two overlap.
    rows: dict[str, tuple[int, int]] = {}  # link id -> (gap, row)
    row_heights: dict[int, list[float]] = {}
    for gap, entries in labels.items():
        ends: list[float] = []
        heights: list[float] = []
        for centre, width, link, lines in sorted(entries, key=lambda e: (e[0], e[2].id)):
            height = len(lines) * LABEL_SIZE * LINE_HEIGHT + 2
            row = next((r for r, end in enumerate(ends) if centre - width / 2 > end + 6), None)
            if row is None:
                ends.append(0.0)
                heights.append(0.0)
                row = len(ends) - 1
            ends[row] = centre + width / 2
            heights[row] = max(heights[row], height)
            rows[link.id] = (gap, row)
        row_heights[gap] = heights
    layer_top: list[float] = []
    layer_bottom: list[float] = []
    y = MARGIN + 30.0  # under the title
    for index in range(layer_count):
        layer_top.append(y)
        y += band[index]
        layer_bottom.append(y)
        heights = row_heights.get(index, [])
        y += max(LAYER_GAP, sum(heights) + LABEL_ROW_GAP * (len(heights) + 1) + 24)
    ports = _ports(placement, layer_top, layer_bottom, model.links)
    routes: list[_Route] = []
    for link in model.links:
        chain = placement.chains[link.id]
        points = [ports[(link.id, 0)]]
        for key in chain[1:-1]:
            slot = slots[key]
            going_down = slots[chain[0]].layer < slots[chain[-1]].layer
            top, bottom = layer_top[slot.layer], layer_bottom[slot.layer]
            points += (
                [(slot.x, top), (slot.x, bottom)]
                if going_down
                else [
                    (slot.x, bottom),
                    (slot.x, top),
                ]
            )
        points.append(ports[(link.id, -1)])
        routes.append(_Route(link, points, _label_lines(link), 0))
    width = max((s.left + s.width for s in slots.values()), default=200.0) + 2 * MARGIN
    legend_y = y - LAYER_GAP + 40
    height = legend_y + 86
    width = max(width, 640.0)
    shift = MARGIN

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'font-family="{FONT}">\n',
        f"<title>{escape(clean(model.device.name))}: control structure</title>\n",
        f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="#ffffff"/>\n',
        _text_block(
            wrap(f"{model.device.name} — control structure", 90, 2),
            width / 2,
            MARGIN - 8,
            14.0,
            "#212121",
            "bold",
        )
        + "\n",
    ]
    # Links first, boxes over them, labels on top.
    label_parts: list[str] = []
    for route in routes:
        link = route.link
        style = STYLES[link.kind]
        fdi = link.id in highlight
        color = FDI_COLOR if fdi else style.color
        points = [(x + shift, y) for x, y in route.points]
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        title = (
            f"{link.id}: {link.source} → {link.target} ({link.kind.value}"
            f"{', FDI point' if fdi else ''}): " + ", ".join(s.name for s in link.carries)
        )
        out.append(
            f"<g id={quoteattr('link-' + clean(link.id))}>"
            f"<title>{escape(clean(title))}</title>"
            f'<path d="{_curve(points)}" fill="none" stroke="{color}" '
            f'stroke-width="{_num(style.width + (0.8 if fdi else 0))}"{dash}/>'
            f"{_arrowhead(points[-1], _before_tip(points), color)}</g>\n"
        )
        gap, row = rows[link.id]
        heights = row_heights[gap]
        row_top = layer_bottom[gap] + 12 + sum(heights[:row]) + LABEL_ROW_GAP * (row + 1)
        label_height = len(route.label) * LABEL_SIZE * LINE_HEIGHT + 2
        segment = _segment_across(
            points, layer_bottom[gap], layer_top[min(gap + 1, layer_count - 1)]
        )
        x = _bezier_x_at(segment[0], segment[1], row_top + label_height / 2)
        label_width = max(text_width(line, LABEL_SIZE) for line in route.label) + 6
        label_parts.append(
            f"<g id={quoteattr('label-' + clean(link.id))}>"
            f'<rect x="{_num(x - label_width / 2)}" y="{_num(row_top)}" '
            f'width="{_num(label_width)}" height="{_num(label_height)}" rx="2.0" '
            f'fill="#ffffff" fill-opacity="0.88" stroke="{color}" stroke-width="0.4"/>'
            + _text_block(route.label, x, row_top + 1, LABEL_SIZE, color)
            + "</g>\n"
        )
    for component in model.components:
        slot, text = slots[component.id], texts[component.id]
        layer = slot.layer
        top = layer_top[layer] + (layer_bottom[layer] - layer_top[layer] - slot.height) / 2
        left = slot.left + shift
        fdi = component.id in highlight
        title = f"{component.name} ({component.id}, {component.kind.value}"
        title += ", FDI point)" if fdi else ")"
        color = FDI_COLOR if fdi else "#212121"
        out.append(
            f"<g id={quoteattr('node-' + clean(component.id))}>"
            f"<title>{escape(clean(title))}</title>"
            + _shape(component, left, top, slot.width, slot.height, fdi)
            + _text_block(text.name, left + slot.width / 2, top + PADDING, NAME_SIZE, color, "bold")
            + _text_block(
                [text.kind],
                left + slot.width / 2,
                top + PADDING + len(text.name) * NAME_SIZE * LINE_HEIGHT,
                KIND_SIZE,
                "#546e7a",
            )
            + "</g>\n"
        )
    out += label_parts
    out.append(_legend(legend_y, width))
    out.append("</svg>\n")
    return "".join(out).encode("utf-8")


def _before_tip(points: list[tuple[float, float]]) -> tuple[float, float]:
    """A point just before the end, on the curve's final (vertical) tangent."""
    (x, y), (px, py) = points[-1], points[-2]
    if px == x or py == y:
        return (px, py) if (px, py) != (x, y) else (x, y - 1)
    return (x, (py + y) / 2)


def _segment_across(
    points: list[tuple[float, float]], gap_top: float, gap_bottom: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two points of the route that span the gap between two layers."""
    for a, b in zip(points, points[1:], strict=False):
        low, high = min(a[1], b[1]), max(a[1], b[1])
        if low <= gap_top + 0.01 and high >= gap_bottom - 0.01:
            return a, b
    return points[0], points[-1]


def _legend(y: float, width: float) -> str:
    parts = [
        f'<g id="legend"><rect x="{_num(MARGIN)}" y="{_num(y)}" width="{_num(width - 2 * MARGIN)}" '
        f'height="62.0" rx="4.0" fill="#fafafa" stroke="#9e9e9e" stroke-width="0.8" '
        f'stroke-dasharray="4 3"/>',
        f'<text x="{_num(MARGIN + 8)}" y="{_num(y + 14)}" font-size="10.0" '
        f'font-weight="bold" fill="#424242">Legend</text>',
    ]
    x = MARGIN + 12
    for kind in (LinkKind.control_action, LinkKind.feedback, LinkKind.data, LinkKind.update):
        style = STYLES[kind]
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(
            f'<line x1="{_num(x)}" y1="{_num(y + 30)}" x2="{_num(x + 36)}" y2="{_num(y + 30)}" '
            f'stroke="{style.color}" stroke-width="{_num(style.width)}"{dash}/>'
            + _arrowhead((x + 44, y + 30), (x + 30, y + 30), style.color)
            + f'<text x="{_num(x + 50)}" y="{_num(y + 34)}" font-size="10.0" '
            f'fill="#424242">{escape(style.legend)}</text>'
        )
        x += 60 + text_width(style.legend, 10.0) + 14
    x = MARGIN + 12
    samples = (
        (FDI_FILL, FDI_COLOR, 2.5, "FDI point (false data can enter here)"),
        (ML_FILL, "#37474f", 1.2, "ML engine"),
    )
    for fill, stroke, stroke_width, text in samples:
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y + 42)}" width="36.0" height="14.0" rx="3.0" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{_num(stroke_width)}"/>'
            f'<text x="{_num(x + 50)}" y="{_num(y + 53)}" font-size="10.0" '
            f'fill="#424242">{escape(text)}</text>'
        )
        x += 60 + text_width(text, 10.0) + 14
    parts.append("</g>\n")
    return "".join(parts)
