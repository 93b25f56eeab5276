"""The landscape benchmark: the whole `mdrisk landscape` run on the shared data, against a
baseline in the same process that only reads the raw files (xml.etree, json, csv).

    python benchmarks/landscape_bench.py [--data DIR] [--repeat 3] [--no-plots]

Goal: the whole run (read and check every file, link, analyse, render tables, 6 plots in
PNG and SVG, the HTML, write the folder) under 30 s. Printed: the best of --repeat runs of
each stage, and the ratio of the whole run to the raw-read baseline.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from mdrisk import bundled
from mdrisk.atomic import write_bytes_atomic
from mdrisk.landscape.analysis import analyse
from mdrisk.landscape.package import render_package
from mdrisk.landscape.sources import load_corpus

HERE = Path(__file__).resolve().parent
GOAL_SECONDS = 30.0


def default_data_dir() -> Path:
    return Path(os.environ.get("MDRISK_DATA_DIR", HERE.parent.parent / "shared" / "data"))


def read_raw(data: Path) -> int:
    """The baseline: every file the landscape reads, parsed by the standard library only."""
    records = len(
        ET.parse(data / "fda-ai-enabled-devices" / "ai-ml-enabled-devices-xml.xml").getroot()
    )
    records += len(
        json.loads(
            (data / "fda-ai-enabled-devices" / "ai-ml-enabled-devices-enriched.json").read_text(
                "utf-8"
            )
        )
    )
    for name in (
        "medai-babic-2025/fda_ai_devices_may2024.csv",
        "medai-babic-2025/823_fda_devices_withAEs.csv",
        "medai-babic-2025/943_AEs_for_fda_devices.csv",
        "ics-advisory-project/CISA_ICS_ADV_Master.csv",
    ):
        with (data / name).open(encoding="utf-8", newline="") as handle:
            records += sum(1 for _ in csv.DictReader(handle))
    for path in sorted((data / "cisa-csaf-icsma").glob("*/*.json")):
        records += len(json.loads(path.read_text("utf-8")).get("vulnerabilities", []))
    records += len(
        json.loads((data / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text("utf-8"))[
            "vulnerabilities"
        ]
    )
    for path in sorted((data / "mitre-cwe").glob("cwec_v*.xml")):
        records += len(ET.parse(path).getroot())
    return records


def timed(function, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-plots", action="store_true")
    options = parser.parse_args()
    if not options.data.is_dir():
        print(f"no data at {options.data} (set MDRISK_DATA_DIR)", file=sys.stderr)
        return 2
    rules = bundled.landscape_keywords()
    aliases = bundled.vendor_aliases()

    baseline, raw_records = timed(lambda: read_raw(options.data), options.repeat)
    load_time, corpus = timed(lambda: load_corpus(options.data), options.repeat)
    analyse_time, landscape = timed(lambda: analyse(corpus, rules.rules, aliases), options.repeat)
    render_time, (files, notes) = timed(
        lambda: render_package(landscape, not options.no_plots, rules.source), options.repeat
    )

    def whole() -> int:
        found = analyse(load_corpus(options.data), rules.rules, aliases)
        rendered, _ = render_package(found, not options.no_plots, rules.source)
        with tempfile.TemporaryDirectory() as folder:
            for name, data in rendered.items():
                write_bytes_atomic(Path(folder) / name, data)
        return len(rendered)

    whole_time, written = timed(whole, options.repeat)
    print(f"data: {options.data}")
    print(
        f"baseline, raw files read with xml.etree/json/csv: {baseline:6.2f} s "
        f"({raw_records:,} records)"
    )
    print(f"read and check every file (importers):        {load_time:6.2f} s")
    print(f"link and analyse:                              {analyse_time:6.2f} s")
    print(
        f"render tables, plots, HTML:                    {render_time:6.2f} s "
        f"({len(files)} files{'; ' + '; '.join(notes) if notes else ''})"
    )
    print(f"whole run, files written:                      {whole_time:6.2f} s ({written} files)")
    print(
        f"ratio whole run / baseline: {whole_time / baseline:5.1f}x; "
        f"goal < {GOAL_SECONDS:.0f} s: {'met' if whole_time < GOAL_SECONDS else 'MISSED'}"
    )
    h = landscape.headline
    print(
        f"headline: {h.ai_devices} AI devices, {h.devices_with_reports}/{h.devices_covered} "
        f"with MAUDE reports, {h.advisories} advisories, {h.cves} CVEs, {h.kev_cves} in KEV"
    )
    return 0 if whole_time < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
