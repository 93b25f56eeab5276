"""The landscape as CSV tables (UTF-8, one header row, lists joined with "; ", text that
would start a formula escaped as in the report's CSVs) and as ``summary.json`` (the headline
numbers and sources, canonical: sorted keys)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from mdrisk.landscape.analysis.events import WINDOWS
from mdrisk.landscape.analysis.results import Landscape, TimingRow
from mdrisk.spreadsheet import formula_safe

SEP = "; "


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, int):  # a number stays a number, negative ones too
        return str(value)
    if isinstance(value, (list, tuple)):
        return formula_safe(SEP.join(str(item) for item in value))
    return formula_safe(str(value))


def _timing(rows: list[TimingRow]) -> bytes:
    return _csv(
        ["window", "max_days", "records", "cumulative", "cumulative_share", "devices_first_record"],
        (
            [r.window, r.max_days, r.records, r.cumulative, r.cumulative_share, r.devices_first]
            for r in rows
        ),
    )


def render_tables(landscape: Landscape) -> dict[str, bytes]:
    """File name -> CSV bytes, every table of the landscape."""
    files: dict[str, bytes] = {}
    years = landscape.devices_by_year
    pathways = list(years[0].by_pathway) if years else []
    panels = list(years[0].by_panel) if years else []
    files["ai-devices-by-year.csv"] = _csv(
        ["year", "devices"] + pathways + [f"panel: {p}" for p in panels],
        (
            [y.year, y.devices]
            + [y.by_pathway[p] for p in pathways]
            + [y.by_panel[p] for p in panels]
            for y in years
        ),
    )
    files["ai-devices-by-panel.csv"] = _csv(
        ["panel", "devices", "share"],
        ([r.label, r.count, r.share] for r in landscape.devices_by_panel),
    )
    files["ai-devices-by-product-code.csv"] = _csv(
        ["product_code", "devices", "panels", "first_year", "last_year", "latest_device"],
        (
            [r.product_code, r.devices, r.panels, r.first_year, r.last_year, r.example]
            for r in landscape.devices_by_product_code
        ),
    )
    categories = list(landscape.category_labels)
    limits = [limit for limit, _ in WINDOWS]
    files["ai-devices-with-events.csv"] = _csv(
        [
            "submission",
            "device",
            "company",
            "panel",
            "product_code",
            "decision_date",
            "reports",
            "malfunction",
            "injury",
            "death",
            "other",
            "first_report_days",
            "median_report_days",
        ]
        + [f"reports_within_{d}_days" for d in limits]
        + ["recalls", "first_recall_days", "link"]
        + categories,
        (
            [o.submission, o.device, o.company, o.panel, o.product_code, o.decision_date, o.reports]
            + [o.reports_by_type.get(t, 0) for t in ("malfunction", "injury", "death")]
            + [
                sum(
                    n
                    for t, n in o.reports_by_type.items()
                    if t not in ("malfunction", "injury", "death")
                ),
                o.first_report_days,
                o.median_report_days,
            ]
            + [o.reports_within.get(d, 0) for d in limits]
            + [o.recalls, o.first_recall_days, o.link]
            + [o.categories.get(c, 0) for c in categories]
            for o in landscape.outcomes
        ),
    )
    files["report-timing.csv"] = _timing(landscape.report_timing)
    files["recall-timing.csv"] = _timing(landscape.recall_timing)
    files["classified-records.csv"] = _csv(
        ["kind", "id", "date", "devices", "link"]
        + categories
        + ["evidence", "negated", "source", "record"],
        (
            [r.kind, r.id, r.date, r.devices, r.link]
            + ["yes" if c in r.categories else "no" for c in categories]
            + [
                " | ".join(f"{c}: {t}" for c, t in r.evidence.items()),
                " | ".join(f"{c}: {t}" for c, t in r.negated.items()),
                r.source,
                r.record,
            ]
            for r in landscape.classified
        ),
    )
    files["advisories.csv"] = _csv(
        [
            "id",
            "title",
            "published",
            "year",
            "vendors",
            "companies",
            "cves",
            "kev_cves",
            "cwes",
            "device_classes",
            "platforms",
            "cvss_max",
            "source",
        ],
        (
            [
                a.id,
                a.title,
                a.published,
                a.year,
                a.vendors,
                a.companies,
                a.cves,
                a.kev_cves,
                a.cwes,
                a.device_classes,
                a.platforms,
                a.cvss_max,
                a.source,
            ]
            for a in landscape.advisories
        ),
    )
    files["advisories-by-year.csv"] = _csv(
        ["year", "advisories", "share"],
        ([r.key, r.count, r.share] for r in landscape.advisories_by_year),
    )
    files["advisories-by-vendor.csv"] = _csv(
        [
            "company",
            "name",
            "advisories",
            "cves",
            "kev_cves",
            "first_year",
            "last_year",
            "written_as",
        ],
        (
            [
                v.company,
                v.name,
                v.advisories,
                v.cves,
                v.kev_cves,
                v.first_year,
                v.last_year,
                v.written_as,
            ]
            for v in landscape.advisories_by_vendor
        ),
    )
    files["advisories-by-cwe.csv"] = _csv(
        ["cwe", "name", "advisories", "share"],
        ([c.cwe, c.name, c.advisories, c.share] for c in landscape.advisories_by_cwe),
    )
    for name, rows in (
        ("advisories-by-device-class.csv", landscape.advisories_by_device_class),
        ("advisories-by-platform.csv", landscape.advisories_by_platform),
    ):
        files[name] = _csv(
            ["id", "label", "advisories", "share"],
            ([r.key, r.label, r.count, r.share] for r in rows),
        )
    files["maker-overlap.csv"] = _csv(
        [
            "company",
            "name",
            "relation",
            "advisory_company",
            "advisory_name",
            "ai_devices",
            "advisories",
            "ai_names",
            "advisory_names",
            "advisory_ids",
        ],
        (
            [
                o.company,
                o.name,
                o.relation,
                o.advisory_company,
                o.advisory_name,
                o.ai_devices,
                o.advisories,
                o.ai_names,
                o.advisory_names,
                o.advisory_ids,
            ]
            for o in landscape.maker_overlap
        ),
    )
    files["kev-cves.csv"] = _csv(
        ["cve", "advisories", "kev_vendor", "kev_product", "date_added", "ransomware"],
        (
            [k.cve, k.advisories, k.vendor, k.product, k.date_added, k.ransomware]
            for k in landscape.kev
        ),
    )
    files["sources.csv"] = _csv(
        ["name", "file", "records", "present"],
        ([s.name, s.file, s.records, "yes" if s.present else "no"] for s in landscape.sources),
    )
    files["data-notes.csv"] = _csv(
        ["file", "record", "note"], ([n.file, n.record, n.message] for n in landscape.notes)
    )
    return {f"tables/{name}": data for name, data in files.items()}


def render_summary(landscape: Landscape) -> bytes:
    """The headline numbers and the sources, as canonical JSON."""
    data = {
        "headline": landscape.headline.model_dump(mode="json"),
        "sources": [source.model_dump(mode="json") for source in landscape.sources],
        "data_notes": len(landscape.notes),
    }
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
