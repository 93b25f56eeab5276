"""Landscape CSV tables escape cells a spreadsheet would run as a formula, as the report's do."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from mdrisk import bundled
from mdrisk.landscape.analysis import analyse
from mdrisk.landscape.sources import load_corpus
from mdrisk.landscape.tables import render_tables
from mdrisk.spreadsheet import FORMULA_START

VALID = Path(__file__).parent / "corpus" / "landscape" / "valid"
HOSTILE_VENDOR = "=cmd|' /C calc'!A0"
HOSTILE_TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def hostile_landscape_tables(tmp_path: Path) -> dict[str, bytes]:
    table = tmp_path / "data" / "ics-advisory-project" / "CISA_ICS_ADV_Master.csv"
    table.parent.mkdir(parents=True)
    shutil.copy(VALID / "ics-table.csv", table)
    with table.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(
            [
                "3",
                "4/1/2025",
                "4/1/2025",
                "2025",
                "ICSMA-25-091-01",
                HOSTILE_TITLE,
                HOSTILE_VENDOR,
                "+Pump",
                "-Pump: <1.0",
                "CVE-2025-0003",
                "7.5",
                "High",
                "CWE-79",
                "Healthcare and Public Health",
                "Worldwide",
                "\tUnited States",
                "Open Database License (ODbL) v1.0 - 2026 ICS Advisory Project",
            ]
        )
    landscape = analyse(
        load_corpus(tmp_path / "data"), bundled.landscape_keywords().rules, bundled.vendor_aliases()
    )
    return render_tables(landscape)


def test_no_landscape_csv_cell_starts_a_formula(hostile_landscape_tables):
    seen_hostile = False
    for name, data in hostile_landscape_tables.items():
        for row in csv.reader(io.StringIO(data.decode("utf-8"))):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (name, cell)
                seen_hostile = seen_hostile or cell == "'" + HOSTILE_TITLE
    assert seen_hostile, "the hostile advisory title reached a table, escaped"


def test_negative_numbers_stay_numbers():
    from mdrisk.landscape.tables import _csv

    assert _csv(["n", "x"], [[-3, -0.5]]).decode() == "n,x\n-3,-0.5\n"
