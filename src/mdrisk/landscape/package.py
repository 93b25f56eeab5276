"""The output folder of ``mdrisk landscape``, rendered in memory first so nothing is ever
half-written: index.html, summary.json, tables/*.csv, plots/*.png and *.svg."""

from __future__ import annotations

from collections.abc import Callable

from mdrisk.landscape.analysis.results import Landscape
from mdrisk.landscape.html import render_html
from mdrisk.landscape.plots import PlotsUnavailable, plot_names, render_plot
from mdrisk.landscape.tables import render_summary, render_tables

HTML = "index.html"
SUMMARY = "summary.json"


def package_steps(landscape: Landscape, with_plots: bool = True) -> int:
    """How many steps ``render_package`` reports (for a progress bar)."""
    return 2 + (len(plot_names(landscape)) if with_plots else 0)


def render_package(
    landscape: Landscape,
    with_plots: bool = True,
    rules_source: str = "",
    on_step: Callable[[str], None] | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """({relative file name: bytes}, notes for the user)."""

    def step(label: str) -> None:
        if on_step is not None:
            on_step(label)

    notes: list[str] = []
    step("tables")
    files = render_tables(landscape)
    files[SUMMARY] = render_summary(landscape)
    svgs: dict[str, bytes] = {}
    if with_plots:
        try:
            for name in plot_names(landscape):
                step(f"plot {name}")
                png, svg = render_plot(name, landscape)
                files[f"plots/{name}.png"] = png
                files[f"plots/{name}.svg"] = svg
                svgs[name] = svg
        except PlotsUnavailable as missing:
            notes.append(f"no plots: {missing}")
    step("HTML summary")
    listing = sorted(files) + [HTML]
    files[HTML] = render_html(landscape, svgs, sorted(listing), rules_source)
    return files, notes
