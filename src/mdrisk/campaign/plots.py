"""Plots of a campaign's summary (PNG and SVG bytes, matplotlib's Agg backend).

* ``severity-shares``: per class and control (its worst attack), the share of patient-days
  the attack made worse in class, by the ISO 14971 class reached;
* ``below54``: per class and control, the minutes below 54 mg/dL the attack added per
  patient-day: median, 95th percentile and worst.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from mdrisk.campaign.aggregate import SEVERITIES

COLOURS = ("#fee08b", "#fdae61", "#f46d43", "#d73027", "#7f0000")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["svg.hashsalt"] = "mdrisk"
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, name: str) -> dict[str, bytes]:
    files = {}
    for kind in ("png", "svg"):
        buffer = io.BytesIO()
        metadata = {"Date": None} if kind == "svg" else {"Software": None}
        figure.savefig(buffer, format=kind, dpi=110, metadata=metadata, bbox_inches="tight")
        files[f"{name}.{kind}"] = buffer.getvalue()
    return files


def _worst_records(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = {(r["class"], r["attack"], r["control"]): r for r in summary["results"]}
    return [records[(e["class"], e["worst_attack"], e["control"])] for e in summary["by_class"]]


def _labels(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        r["class"] if r["control"] == "none" else f"{r['class']} + {r['control']}" for r in records
    ]


def figures(summary: Mapping[str, Any]) -> dict[str, bytes]:
    """File name -> bytes of every plot; empty when nothing was measured."""
    records = _worst_records(summary)
    if not records:
        return {}
    plt = _pyplot()
    labels = _labels(records)
    height = 1.2 + 0.35 * len(records)
    files: dict[str, bytes] = {}

    figure, axis = plt.subplots(figsize=(8, height))
    for index, severity in enumerate(SEVERITIES):
        exact = [
            r["induced_share"][severity]
            - (r["induced_share"][SEVERITIES[index + 1]] if index + 1 < len(SEVERITIES) else 0.0)
            for r in records
        ]
        left = [
            r["induced_share"][SEVERITIES[index + 1]] if index + 1 < len(SEVERITIES) else 0.0
            for r in records
        ]
        axis.barh(
            labels,
            [100 * v for v in exact],
            left=[100 * v for v in left],
            color=COLOURS[index],
            label=severity,
        )
    axis.invert_yaxis()
    axis.set_xlabel("patient-days made worse in class by the attack (%)")
    axis.set_title(f"{summary['campaign']}: attack-induced ISO 14971 severity (worst attack)")
    axis.legend(fontsize="small", loc="lower right")
    files.update(_save(figure, "severity-shares"))
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(8, height))
    spreads = [r["delta"]["minutes_below_54"] for r in records]
    rows = list(range(len(records)))
    axis.hlines(
        rows, [s["median"] for s in spreads], [s["worst"] for s in spreads], color="#999999"
    )
    axis.plot([s["median"] for s in spreads], rows, "o", color="#1f77b4", label="median")
    axis.plot([s["p95"] for s in spreads], rows, "s", color="#ff7f0e", label="95th percentile")
    axis.plot([s["worst"] for s in spreads], rows, "x", color="#d62728", label="worst")
    axis.set_yticks(rows, labels)
    axis.invert_yaxis()
    axis.set_xlabel("minutes below 54 mg/dL added per patient-day")
    axis.legend(fontsize="small", loc="lower right")
    files.update(_save(figure, "below54"))
    plt.close(figure)
    return files
