"""A dumbbell chart as inline SVG: one row per virtual patient, a grey dot for the clean run
and a red one for the attacked run, joined by a line, over shaded reference bands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mdrisk.report import svg

WIDTH = 560
LEFT, RIGHT, TOP, ROW_H, BOTTOM = 120, 24, 44, 20, 46
CLEAN, ATTACKED = "#616161", "#c62828"


@dataclass(frozen=True)
class Row:
    label: str
    clean: float
    attacked: float
    note: str = ""  # e.g. the severity the attack induced


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str
    colour: str


def dumbbell_svg(title: str, x_label: str, rows: Sequence[Row], bands: Sequence[Band]) -> str:
    values = [v for row in rows for v in (row.clean, row.attacked)] or [0.0, 1.0]
    low = min(0.0, min(values))
    high = max(
        max(values) * 1.08, max((b.low for b in bands if b.low < max(values) * 1.5), default=0.0)
    )
    high = max(high, low + 1.0)
    inner = WIDTH - LEFT - RIGHT
    height = TOP + ROW_H * max(len(rows), 1) + BOTTOM

    def px(value: float) -> float:
        return LEFT + (min(max(value, low), high) - low) / (high - low) * inner

    body = [svg.text(8, 16, title, font_size="12", font_weight="600")]
    bottom = TOP + ROW_H * max(len(rows), 1)
    for band in bands:
        if band.low >= high:
            continue
        x0, x1 = px(band.low), px(min(band.high, high))
        body.append(
            svg.element(
                "rect",
                x=x0,
                y=float(TOP - 4),
                width=max(x1 - x0, 0.0),
                height=float(bottom - TOP + 4),
                fill=band.colour,
                opacity="0.45",
            )
        )
    for index, row in enumerate(rows):
        y = TOP + index * ROW_H + ROW_H / 2
        body.append(svg.text(LEFT - 8, y + 4, row.label, text_anchor="end", font_size="10"))
        body.append(
            svg.element(
                "line",
                x1=px(row.clean),
                x2=px(row.attacked),
                y1=y,
                y2=y,
                stroke="#424242",
                stroke_width="1.5",
            )
        )
        body.append(svg.element("circle", cx=px(row.clean), cy=y, r="4.5", fill=CLEAN))
        body.append(svg.element("circle", cx=px(row.attacked), cy=y, r="4.5", fill=ATTACKED))
        if row.note:
            body.append(
                svg.text(
                    px(max(row.clean, row.attacked)) + 8,
                    y + 4,
                    row.note,
                    font_size="9",
                    fill=ATTACKED,
                )
            )
    step = 50.0 if high - low > 150 else 25.0
    tick = 0.0
    while tick <= high:
        if tick >= low:
            body.append(
                svg.text(px(tick), bottom + 14, svg.num(tick), text_anchor="middle", font_size="9")
            )
        tick += step
    body.append(
        svg.text(
            LEFT + inner / 2,
            bottom + 30,
            x_label,
            text_anchor="middle",
            font_size="10",
            fill="#555555",
        )
    )
    legend_y = 30
    body.append(svg.element("circle", cx=float(LEFT), cy=float(legend_y), r="4", fill=CLEAN))
    body.append(svg.text(LEFT + 8, legend_y + 4, "clean day", font_size="10"))
    body.append(
        svg.element("circle", cx=float(LEFT + 80), cy=float(legend_y), r="4", fill=ATTACKED)
    )
    body.append(svg.text(LEFT + 88, legend_y + 4, "under attack", font_size="10"))
    return svg.document(WIDTH, height, body, title)
