"""Glucose traces, clean against attacked, one panel per patient (PNG and SVG bytes).

matplotlib with the Agg backend (no display needed). SVGs are made reproducible: no date in
the metadata and a fixed salt for element ids.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from mdrisk.impact.attacks.spec import AttackPlan
from mdrisk.impact.experiment import AttackRuns

COLUMNS = 5
CLEAN_COLOUR = "#1f77b4"
ATTACKED_COLOUR = "#d62728"
SEEN_COLOUR = "#ff7f0e"


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["svg.hashsalt"] = "mdrisk"
    import matplotlib.pyplot as plt

    return plt


def _windows(plan: AttackPlan, duration_min: int) -> list[tuple[float, float]]:
    """Attack windows as (start, end) hours over the run, every day."""
    spans = []
    for spec in plan.attacks:
        window = spec.window
        start, length = float(window.start), float(window.length)
        for day in range(int(np.ceil(duration_min / 1440.0))):
            begin = day * 1440 + start
            spans.append((begin / 60.0, min(begin + length, duration_min) / 60.0))
    return spans


def figure_bytes(runs: AttackRuns, plan_index: int | None) -> dict[str, bytes]:
    """``{"png": ..., "svg": ...}`` of one attack plan (or the clean runs alone: None)."""
    plt = _pyplot()
    bg = runs.result.trace("bg")
    hours = bg.times_min / 60.0
    patients: Sequence[str] = runs.setup.patients
    rows = int(np.ceil(len(patients) / COLUMNS))
    columns = min(COLUMNS, len(patients))
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.2 * columns, 2.6 * rows + 0.9),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    clean_rows = runs.rows(0)
    plan = runs.plans[plan_index] if plan_index is not None else None
    attacked_rows = runs.rows(plan_index + 1) if plan_index is not None else None
    cgm = runs.result.traces.get("cgm")
    top = float(np.nanmax(bg.values)) if bg.values.size else 300.0
    for index, name in enumerate(patients):
        ax = axes[index // COLUMNS][index % COLUMNS]
        if plan is not None:
            for begin, end in _windows(plan, runs.result.duration_min):
                ax.axvspan(begin, end, color="#f2c14e", alpha=0.25, lw=0)
        ax.axhspan(0, 54, color="#d62728", alpha=0.08, lw=0)
        for level, style in ((54, "-"), (70, "--"), (180, "--")):
            ax.axhline(level, color="#777777", lw=0.6, ls=style)
        ax.plot(
            hours,
            bg.values[clean_rows[index]],
            color=CLEAN_COLOUR,
            lw=1.3,
            label="clean (true glucose)",
        )
        if attacked_rows is not None:
            ax.plot(
                hours,
                bg.values[attacked_rows[index]],
                color=ATTACKED_COLOUR,
                lw=1.3,
                label="attacked (true glucose)",
            )
            if cgm is not None and "cgm" in (plan.signals if plan else ()):
                ax.plot(
                    cgm.times_min / 60.0,
                    cgm.values[attacked_rows[index]],
                    color=SEEN_COLOUR,
                    lw=0.8,
                    ls=":",
                    label="CGM as received",
                )
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, max(300.0, min(top * 1.05, 600.0)))
        ax.set_xlim(0, runs.result.duration_min / 60.0)
        ax.set_xticks(np.arange(0, runs.result.duration_min / 60.0 + 1, 6))
        ax.tick_params(labelsize=8)
    for index in range(len(patients), rows * columns):
        axes[index // COLUMNS][index % COLUMNS].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("hours", fontsize=8)
    for row in axes:
        row[0].set_ylabel("mg/dL", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    title = "clean runs" if plan is None else f"{plan.label}"
    if plan is not None and plan.name:
        title += f"  [{plan.text}]"
    figure.suptitle(
        title + f"  ({runs.setup.controller} controller; shaded: attack window)", fontsize=10
    )
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    files = {}
    for kind in ("png", "svg"):
        buffer = io.BytesIO()
        metadata = {"Date": None} if kind == "svg" else {"Software": None}
        figure.savefig(buffer, format=kind, dpi=110, metadata=metadata)
        files[kind] = buffer.getvalue()
    plt.close(figure)
    return files
