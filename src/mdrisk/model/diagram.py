"""Draw the control structure: SVG by mdrisk's own layered layout (``model.svg``), and DOT
text for those who want to lay it out with Graphviz themselves.

Control actions, feedback, data and updates are drawn differently; elements passed in
``highlight`` (the FDI points, chosen by the caller) are drawn in red.
"""

from __future__ import annotations

import unicodedata

from mdrisk.model.schema import ComponentKind, DeviceModel, LinkKind
from mdrisk.model.svg import draw_svg

_SHAPES = {
    ComponentKind.ml_engine: "doubleoctagon",
    ComponentKind.controller: "box",
    ComponentKind.app: "box",
    ComponentKind.human: "oval",
    ComponentKind.controlled_process: "box3d",
    ComponentKind.sensor: "invhouse",
    ComponentKind.imaging_device: "invhouse",
    ComponentKind.actuator: "house",
    ComponentKind.cloud: "folder",
    ComponentKind.gateway: "cds",
    ComponentKind.ehr: "cylinder",
    ComponentKind.storage: "cylinder",
}
_EDGE_STYLES = {
    LinkKind.control_action: 'color="#1f4e9c", penwidth=2.2, style=solid',
    LinkKind.feedback: 'color="#2e7d32", penwidth=1.6, style=dashed',
    LinkKind.data: 'color="#616161", penwidth=1.2, style=solid',
    LinkKind.update: 'color="#6a1b9a", penwidth=1.4, style=dotted',
}
FDI_COLOR = "#c62828"


def _visible(char: str) -> str:
    """A character DOT cannot hold (NUL, other controls, format characters) as visible text."""
    return f"<U+{ord(char):04X}>" if unicodedata.category(char) in ("Cc", "Cf", "Cs") else char


def quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally; control and format characters
    (which Graphviz refuses or a reader cannot see) are written as ``<U+XXXX>``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    escaped = "".join(_visible(char) for char in escaped)
    return f'"{escaped}"'


def to_dot(model: DeviceModel, highlight: frozenset[str] = frozenset()) -> str:
    lines = [
        f"digraph {quote(model.device.name)} {{",
        "  graph [rankdir=TB, fontname=Helvetica, fontsize=11, labelloc=t, nodesep=0.5, "
        f"label={quote(model.device.name + ' — control structure')}];",
        "  node [fontname=Helvetica, fontsize=10, style=filled, fillcolor=white];",
        "  edge [fontname=Helvetica, fontsize=8];",
    ]
    for component in model.components:
        attributes = [
            f"label={quote(component.name + chr(10) + '[' + component.kind.value + ']')}",
            f"shape={_SHAPES.get(component.kind, 'box')}",
        ]
        if component.id in highlight:
            attributes += [f'color="{FDI_COLOR}"', "penwidth=2.5", 'fillcolor="#ffebee"']
        elif component.kind == ComponentKind.ml_engine:
            attributes.append('fillcolor="#fff8e1"')
        lines.append(f"  {quote(component.id)} [{', '.join(attributes)}];")
    for link in model.links:
        label = ", ".join(signal.name for signal in link.carries)
        attributes = [f"label={quote(label)}", _EDGE_STYLES[link.kind], f"id={quote(link.id)}"]
        if link.id in highlight:
            attributes += [f'fontcolor="{FDI_COLOR}"', f'color="{FDI_COLOR}"']
        lines.append(f"  {quote(link.source)} -> {quote(link.target)} [{', '.join(attributes)}];")
    lines += [
        "  subgraph cluster_legend {",
        '    label="Legend"; fontsize=9; style=dashed; color="#9e9e9e";',
        '    node [shape=plaintext, style=solid, fontsize=8, label=""];',
        "    lg_a; lg_b; lg_c; lg_d; lg_e; lg_f; lg_g; lg_h;",
        f'    lg_a -> lg_b [label="control action", {_EDGE_STYLES[LinkKind.control_action]}];',
        f'    lg_c -> lg_d [label="feedback", {_EDGE_STYLES[LinkKind.feedback]}];',
        f'    lg_e -> lg_f [label="data", {_EDGE_STYLES[LinkKind.data]}];',
        f'    lg_g -> lg_h [label="update", {_EDGE_STYLES[LinkKind.update]}];',
        f'    lg_fdi [shape=box, style=filled, fillcolor="#ffebee", color="{FDI_COLOR}", '
        'penwidth=2.5, label="FDI point"];',
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


# Beyond these the layout's cost grows fast (3,600 links in a mesh: 12 s) and the drawing is
# unreadable anyway: the DOT text is written alone, for Graphviz (sfdp) or another tool.
MAX_DRAWN_LINKS = 1500
MAX_DRAWN_COMPONENTS = 2000


def too_large_to_draw(model: DeviceModel) -> str | None:
    """Why the SVG drawing is left out for ``model`` (None when it is drawn)."""
    components, links = len(model.components), len(model.links)
    if links <= MAX_DRAWN_LINKS and components <= MAX_DRAWN_COMPONENTS:
        return None
    return (
        f"the control structure has {components} components and {links} links, over the "
        f"{MAX_DRAWN_COMPONENTS} components or {MAX_DRAWN_LINKS} links mdrisk lays out: no "
        "SVG drawing; the DOT file holds the structure (lay it out with Graphviz, e.g. sfdp)"
    )


def to_svg(model: DeviceModel, highlight: frozenset[str] = frozenset()) -> bytes:
    """The SVG drawing: controllers above what they control, needing no Graphviz."""
    return draw_svg(model, highlight)
