"""The landscape's plots, each as PNG and SVG bytes (matplotlib, Agg backend; the ``plots``
extra). Output is reproducible: no dates in the files, fixed SVG ids.

``render_plots(landscape)`` -> {"plots/<name>.png": ..., "plots/<name>.svg": ...};
``PlotsUnavailable`` when matplotlib is not installed.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from typing import Any

from mdrisk.landscape.analysis.results import CountRow, Landscape

ACCENT = "#1f5a93"
PALETTE = ("#1f5a93", "#d9822b", "#3a9a6b", "#9aa5b1")
EARLY_BEFORE = 2010  # decisions before this year are few: one bar
SIZE = (6.4, 3.8)  # inches; every plot the same, so they line up two by two in the HTML
TITLES = {
    "ai-devices-by-year": "AI-enabled devices by year of FDA decision",
    "ai-devices-by-panel": "AI-enabled devices by lead review panel",
    "report-timing": "MAUDE reports by time after the FDA decision",
    "advisories-by-year": "CISA medical advisories by year",
    "advisories-by-cwe": "Most frequent weaknesses (CWE) in medical advisories",
    "advisories-by-device-class": "What the medical advisories are about",
}


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed (pip install 'mdrisk[plots]')."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotsUnavailable(
            "matplotlib is not installed; install it with pip install 'mdrisk[plots]'"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# Set only while a plot is drawn and saved, so other matplotlib users are not affected.
STYLE = {
    "svg.hashsalt": "mdrisk-landscape",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
}


def _save(plt: Any, figure: Any) -> tuple[bytes, bytes]:
    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=120, metadata={"Software": None})
    figure.savefig(svg, format="svg", metadata={"Date": None})
    plt.close(figure)
    return png.getvalue(), svg.getvalue()


def _title(figure: Any, text: str) -> None:
    figure.suptitle(text, x=0.01, ha="left", fontweight="bold", fontsize=11)


def _note(figure: Any, text: str) -> None:
    """A small line under the plot (kept inside the figure by the constrained layout)."""
    figure.supxlabel(text, x=0.01, ha="left", fontsize=7, color="#555")


def _label_bars(axis: Any, bars: Any, horizontal: bool = False) -> None:
    for bar in bars:
        value = bar.get_width() if horizontal else bar.get_height()
        if not value:
            continue
        if horizontal:
            axis.annotate(
                f"{value:,.0f}",
                (value, bar.get_y() + bar.get_height() / 2),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        else:
            axis.annotate(
                f"{value:,.0f}",
                (bar.get_x() + bar.get_width() / 2, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )


def _devices_by_year(plt: Any, landscape: Landscape) -> Any:
    rows = landscape.devices_by_year
    early = [row for row in rows if row.year < EARLY_BEFORE]
    later = [row for row in rows if row.year >= EARLY_BEFORE]
    panels = list(rows[0].by_panel)
    labels = ([f"< {EARLY_BEFORE}"] if early else []) + [str(row.year) for row in later]
    figure, axis = plt.subplots(figsize=SIZE, layout="constrained")
    bottom = [0] * len(labels)
    for colour, panel in zip(PALETTE, panels, strict=False):
        values = ([sum(row.by_panel[panel] for row in early)] if early else []) + [
            row.by_panel[panel] for row in later
        ]
        axis.bar(labels, values, bottom=bottom, color=colour, label=panel, width=0.75)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for position, total in enumerate(bottom):
        axis.annotate(
            f"{total}",
            (position, total),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    last = landscape.headline.last_decision
    if last is not None and (last.month, last.day) < (12, 1) and later:
        axis.annotate(
            f"to {last:%d %b}",
            (len(labels) - 1, bottom[-1]),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color="#555",
        )
    _title(figure, TITLES["ai-devices-by-year"])
    axis.set_ylabel("devices")
    axis.tick_params(axis="x", labelsize=8)
    plt.setp(axis.get_xticklabels(), rotation=60, ha="right", rotation_mode="anchor")
    axis.legend(frameon=False, fontsize=8, title="lead panel", title_fontsize=8)
    axis.set_ylim(0, max(bottom) * 1.15 if bottom else 1)
    return figure


def _horizontal(
    plt: Any, title: str, labels: list[str], values: list[float], xlabel: str, note: str = ""
) -> Any:
    figure, axis = plt.subplots(figsize=SIZE, layout="constrained")
    wrapped = ["\n".join(textwrap.wrap(label, 34)) for label in labels]
    bars = axis.barh(wrapped[::-1], values[::-1], color=ACCENT)
    _label_bars(axis, bars, horizontal=True)
    _title(figure, title)
    axis.set_xlabel(xlabel)
    axis.tick_params(axis="y", labelsize=8 if len(labels) <= 8 else 7)
    axis.set_xlim(0, max(values) * 1.12 if values else 1)
    if note:
        _note(figure, note)
    return figure


def _top(rows: list[CountRow], limit: int) -> tuple[list[str], list[float]]:
    shown = rows[:limit]
    labels = [f"{row.label} ({row.share:.0%})" for row in shown]
    values = [float(row.count) for row in shown]
    rest = rows[limit:]
    if rest:
        labels.append(f"{len(rest)} others ({sum(r.share for r in rest):.0%})")
        values.append(float(sum(row.count for row in rest)))
    return labels, values


def _devices_by_panel(plt: Any, landscape: Landscape) -> Any:
    labels, values = _top(landscape.devices_by_panel, 7)
    return _horizontal(plt, TITLES["ai-devices-by-panel"], labels, values, "devices")


def _report_timing(plt: Any, landscape: Landscape) -> Any:
    rows = landscape.report_timing
    figure, axis = plt.subplots(figsize=SIZE, layout="constrained")
    bars = axis.bar(
        [row.window for row in rows], [row.records for row in rows], color=ACCENT, width=0.7
    )
    for bar, row in zip(bars, rows, strict=True):
        axis.annotate(
            f"{row.records}\n({row.cumulative_share:.0%})",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    _title(figure, TITLES["report-timing"])
    axis.set_ylabel("reports")
    axis.set_xlabel("time from the decision to the date FDA received the report")
    axis.tick_params(axis="x", labelsize=8)
    axis.set_ylim(0, max(row.records for row in rows) * 1.3)
    devices = (
        landscape.headline.devices_with_reports + landscape.headline.devices_with_reports_other
    )
    _note(
        figure,
        f"{landscape.headline.reports_linked} reports on {devices} AI-enabled "
        "devices; in brackets: share of all reports received by then.",
    )
    return figure


def _advisories_by_year(plt: Any, landscape: Landscape) -> Any:
    rows = landscape.advisories_by_year
    csaf: dict[int, int] = {}
    for advisory in landscape.advisories:
        if advisory.source != "ics-table":
            csaf[advisory.year] = csaf.get(advisory.year, 0) + 1
    labels = [row.label for row in rows]
    with_csaf = [csaf.get(int(row.key), 0) for row in rows]
    table_only = [row.count - c for row, c in zip(rows, with_csaf, strict=True)]
    figure, axis = plt.subplots(figsize=SIZE, layout="constrained")
    axis.bar(labels, with_csaf, color=ACCENT, label="with CSAF document", width=0.7)
    axis.bar(
        labels,
        table_only,
        bottom=with_csaf,
        color=PALETTE[1],
        label="ICS Advisory Project table only",
        width=0.7,
    )
    for position, row in enumerate(rows):
        axis.annotate(
            str(row.count),
            (position, row.count),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    published = [a.published for a in landscape.advisories if a.published is not None]
    last = max(published) if published else None
    if last is not None and (last.month, last.day) < (12, 1) and str(last.year) == labels[-1]:
        axis.annotate(
            f"to {last:%d %b}",
            (len(labels) - 1, rows[-1].count),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color="#555",
        )
    _title(figure, TITLES["advisories-by-year"])
    axis.set_ylabel("advisories (ICSMA)")
    axis.tick_params(axis="x", labelsize=8)
    axis.legend(frameon=False, fontsize=8)
    axis.set_ylim(0, max(row.count for row in rows) * 1.2)
    return figure


def _advisories_by_cwe(plt: Any, landscape: Landscape) -> Any:
    rows = landscape.advisories_by_cwe[:10]
    labels = [f"{row.cwe} {short_cwe_name(row.name)}".strip() for row in rows]
    shortened = [label if len(label) <= 70 else label[:68] + "…" for label in labels]
    return _horizontal(
        plt,
        TITLES["advisories-by-cwe"],
        shortened,
        [float(row.advisories) for row in rows],
        "advisories naming the CWE",
        note=f"Of {landscape.headline.advisories} advisories; one advisory can "
        "name several weaknesses.",
    )


def short_cwe_name(name: str) -> str:
    """The name people use: "Improper Neutralization ... ('Cross-site Scripting')" ->
    "Cross-site Scripting"."""
    quoted = re.search(r"\('([^']+)'\)", name)
    return quoted.group(1) if quoted else name


def _advisories_by_device_class(plt: Any, landscape: Landscape) -> Any:
    rows = [row for row in landscape.advisories_by_device_class if row.count]
    labels = [f"{row.label} ({row.share:.0%})" for row in rows]
    return _horizontal(
        plt,
        TITLES["advisories-by-device-class"],
        labels,
        [float(row.count) for row in rows],
        "advisories",
        note="Keyword rules on titles and product names; an advisory can fall in several classes.",
    )


PLOTS: dict[str, Callable[[Any, Landscape], Any]] = {
    "ai-devices-by-year": _devices_by_year,
    "ai-devices-by-panel": _devices_by_panel,
    "report-timing": _report_timing,
    "advisories-by-year": _advisories_by_year,
    "advisories-by-cwe": _advisories_by_cwe,
    "advisories-by-device-class": _advisories_by_device_class,
}


def _has_data(name: str, landscape: Landscape) -> bool:
    return bool(
        {
            "ai-devices-by-year": landscape.devices_by_year,
            "ai-devices-by-panel": landscape.devices_by_panel,
            "report-timing": landscape.report_timing,
            "advisories-by-year": landscape.advisories_by_year,
            "advisories-by-cwe": landscape.advisories_by_cwe,
            "advisories-by-device-class": landscape.advisories,
        }[name]
    )


def plot_names(landscape: Landscape) -> list[str]:
    """The plots the landscape has data for, in reading order."""
    return [name for name in PLOTS if _has_data(name, landscape)]


def render_plot(name: str, landscape: Landscape) -> tuple[bytes, bytes]:
    """(PNG, SVG) of one plot."""
    plt = _pyplot()
    with plt.rc_context(STYLE):
        return _save(plt, PLOTS[name](plt, landscape))


def render_plots(landscape: Landscape) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in plot_names(landscape):
        png, svg = render_plot(name, landscape)
        files[f"plots/{name}.png"] = png
        files[f"plots/{name}.svg"] = svg
    return files
