"""The summary table of a campaign, as Markdown and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from mdrisk.campaign.aggregate import SEVERITIES
from mdrisk.spreadsheet import formula_safe

COLUMNS = (
    "class",
    "attack",
    "control",
    "patient_days",
    "harmed_share",
    *(f"share_{s}" for s in SEVERITIES[1:]),
    "worst_induced",
    "below54_added_median",
    "below54_added_p95",
    "below54_added_worst",
    "above250_added_p95",
    "detection",
)


def _row(record: Mapping[str, Any]) -> list[str]:
    shares = record["induced_share"]
    below = record["delta"]["minutes_below_54"]
    above = record["delta"]["minutes_above_250"]
    detection = ", ".join(
        f"{name} {v['detection_rate']:.0%}" for name, v in record.get("detection", {}).items()
    )
    return [
        record["class"],
        record["attack"],
        record["control"],
        str(record["patient_days"]),
        f"{shares['negligible']:.1%}",
        *(f"{shares[s]:.1%}" for s in SEVERITIES[1:]),
        record["worst_induced_severity"] or "none",
        f"{below['median']:g}",
        f"{below['p95']:g}",
        f"{below['worst']:g}",
        f"{above['p95']:g}",
        detection,
    ]


def markdown(records: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for record in records:
        cells = [c.replace("|", "\\|") for c in _row(record)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_text(records: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([formula_safe(c) for c in _row(record)])
    return buffer.getvalue()
