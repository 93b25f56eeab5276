"""The files a campaign's results folder gets beside ``results.sqlite``: the summary (JSON,
Markdown, CSV) and the plots, all derived from the stored rows."""

from __future__ import annotations

import json
from typing import Any

from mdrisk.campaign.aggregate import summarise
from mdrisk.campaign.store import ResultStore
from mdrisk.campaign.tables import csv_text, markdown


def summary_of(store: ResultStore) -> dict[str, Any]:
    """The summary of what ``store`` holds, under the definition it was written for."""
    definition = json.loads(store.meta("campaign") or "{}")
    return summarise(definition, store.meta("fingerprint") or "", store.tasks())


def summary_files(summary: dict[str, Any], plots: bool = True) -> dict[str, bytes]:
    """File name (relative to the results folder) -> bytes."""
    files = {
        "summary.json": (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode(),
        "summary.md": markdown(summary["results"]).encode(),
        "summary.csv": csv_text(summary["results"]).encode(),
    }
    if plots:
        from mdrisk.campaign.plots import figures

        files.update({f"plots/{name}": data for name, data in figures(summary).items()})
    return files
