"""The risk heat map: severity (rows, worst on top) by exploitability (columns, rising to the
right), each cell coloured by the risk level the matrix gives it and listing the risks in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mdrisk.report import svg

# Colours of risk levels and acceptability classes by name; unknown names are grey.
LEVEL_COLOURS = {
    "low": "#c8e6c9",
    "acceptable": "#c8e6c9",
    "negligible": "#c8e6c9",
    "broadly acceptable": "#c8e6c9",
    "medium": "#ffe0a3",
    "alarp": "#ffe0a3",
    "moderate": "#ffe0a3",
    "tolerable": "#ffe0a3",
    "high": "#ffb199",
    "serious": "#ffb199",
    "unacceptable": "#ef9a9a",
    "very high": "#ef9a9a",
    "critical": "#ef9a9a",
    "intolerable": "#ef9a9a",
}
UNKNOWN_COLOUR = "#eeeeee"
CELL_W, CELL_H = 92, 50
LEFT, TOP, RIGHT, BOTTOM = 100, 34, 12, 58


def colour_of(level: str | None) -> str:
    return LEVEL_COLOURS.get((level or "").strip().casefold().replace("_", " "), UNKNOWN_COLOUR)


def heatmap_svg(
    severities: Sequence[str],
    exploitabilities: Sequence[str],
    risks_in: Mapping[tuple[str, str], Sequence[str]],
    level_of: Mapping[tuple[str, str], str],
    title: str,
) -> str:
    """``severities`` from least to worst, ``exploitabilities`` from least to most likely;
    ``risks_in[(severity, exploitability)]`` the risk ids in that cell; ``level_of`` the
    matrix's level for the cell (its colour)."""
    width = LEFT + CELL_W * len(exploitabilities) + RIGHT
    height = TOP + CELL_H * len(severities) + BOTTOM
    body = [
        svg.text(
            LEFT + CELL_W * len(exploitabilities) / 2,
            18,
            title,
            text_anchor="middle",
            font_size="13",
            font_weight="600",
        )
    ]
    for row, severity in enumerate(reversed(severities)):
        y = TOP + row * CELL_H
        body.append(
            svg.text(LEFT - 8, y + CELL_H / 2 + 4, severity, text_anchor="end", font_size="11")
        )
        for column, exploitability in enumerate(exploitabilities):
            x = LEFT + column * CELL_W
            level = level_of.get((severity, exploitability))
            ids = list(risks_in.get((severity, exploitability), ()))
            body.append(
                svg.element(
                    "rect",
                    x=float(x),
                    y=float(y),
                    width=CELL_W,
                    height=CELL_H,
                    fill=colour_of(level),
                    stroke="#ffffff",
                    stroke_width="2",
                )
            )
            if level:
                body.append(svg.text(x + 6, y + 13, level, font_size="9", fill="#555555"))
            if ids:
                body.append(
                    svg.text(
                        x + CELL_W / 2,
                        y + 31,
                        str(len(ids)),
                        text_anchor="middle",
                        font_size="15",
                        font_weight="700",
                    )
                )
                shown = ", ".join(ids[:3]) + (f" +{len(ids) - 3}" if len(ids) > 3 else "")
                body.append(
                    svg.text(x + CELL_W / 2, y + 46, shown, text_anchor="middle", font_size="9")
                )
    for column, exploitability in enumerate(exploitabilities):
        body.append(
            svg.text(
                LEFT + column * CELL_W + CELL_W / 2,
                TOP + CELL_H * len(severities) + 16,
                exploitability,
                text_anchor="middle",
                font_size="11",
            )
        )
    body.append(
        svg.text(
            LEFT + CELL_W * len(exploitabilities) / 2,
            height - 12,
            "exploitability →",
            text_anchor="middle",
            font_size="11",
            fill="#555555",
        )
    )
    body.append(
        svg.text(
            14,
            TOP + CELL_H * len(severities) / 2,
            "severity →",
            text_anchor="middle",
            font_size="11",
            fill="#555555",
            transform=f"rotate(-90 14 {svg.num(TOP + CELL_H * len(severities) / 2)})",
        )
    )
    return svg.document(width, height, body, title)
