"""AI-enabled devices by decision year, lead review panel and product code (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict

from mdrisk.landscape.analysis.results import CountRow, ProductCodeRow, YearRow
from mdrisk.landscape.records import AIDevice, Clearance

PATHWAYS = ("510(k)", "De Novo", "PMA")
OTHER = "Other"


def devices_by_year(devices: list[AIDevice], top_panels: int = 3) -> list[YearRow]:
    """One row per year from the first decision to the last (years without one give 0),
    split by pathway and by the ``top_panels`` largest panels plus "Other"."""
    if not devices:
        return []
    panels = [panel for panel, _ in _ranked(Counter(d.panel for d in devices))[:top_panels]]
    by_year: dict[int, list[AIDevice]] = defaultdict(list)
    for device in devices:
        by_year[device.decision_date.year].append(device)
    rows = []
    for year in range(min(by_year), max(by_year) + 1):
        listed = by_year.get(year, [])
        pathway = Counter(device.pathway for device in listed)
        panel = Counter(device.panel if device.panel in panels else OTHER for device in listed)
        rows.append(
            YearRow(
                year=year,
                devices=len(listed),
                by_pathway={name: pathway.get(name, 0) for name in PATHWAYS},
                by_panel={name: panel.get(name, 0) for name in panels + [OTHER]},
            )
        )
    return rows


def devices_by_panel(devices: list[AIDevice]) -> list[CountRow]:
    counts = Counter(device.panel for device in devices)
    return [
        CountRow(key=panel, label=panel, count=number, share=number / len(devices))
        for panel, number in _ranked(counts)
    ]


def devices_by_product_code(devices: list[AIDevice]) -> list[ProductCodeRow]:
    grouped: dict[str, list[AIDevice]] = defaultdict(list)
    for device in devices:
        grouped[device.product_code].append(device)
    rows = []
    for code, listed in grouped.items():
        latest = max(listed, key=lambda d: (d.decision_date, d.submission))
        panels = [panel for panel, _ in _ranked(Counter(d.panel for d in listed))]
        years = [device.decision_date.year for device in listed]
        rows.append(
            ProductCodeRow(
                product_code=code,
                devices=len(listed),
                panels=panels,
                first_year=min(years),
                last_year=max(years),
                example=latest.device,
            )
        )
    return sorted(rows, key=lambda row: (-row.devices, row.product_code))


def with_received_dates(devices: list[AIDevice], clearances: list[Clearance]) -> list[AIDevice]:
    """The devices, a missing received date taken from openFDA's 510(k) record."""
    received = {c.submission: c.received_date for c in clearances if c.received_date}
    return [
        device
        if device.received_date or device.submission not in received
        else device.model_copy(update={"received_date": received[device.submission]})
        for device in devices
    ]


def review_days(devices: list[AIDevice]) -> list[int]:
    """Days from FDA receiving each submission to its decision, where both are known."""
    return sorted(
        (d.decision_date - d.received_date).days
        for d in devices
        if d.received_date is not None and d.received_date <= d.decision_date
    )


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Largest first; ties in name order, so output never depends on input order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def last_full_year(devices: list[AIDevice]) -> int | None:
    """The last calendar year the list covers to its end (a list updated in September
    covers that year only in part)."""
    if not devices:
        return None
    last = max(device.decision_date for device in devices)
    return last.year if (last.month, last.day) >= (12, 1) else last.year - 1
