"""Makers of AI-enabled devices that also appear as vendors in medical advisories (pure).

Names on both sides are resolved to company ids with the vendor alias table; a maker and a
vendor are the "same company" when an id is shared (GE Medical Systems, LLC and GE
Healthcare), "related" when one owns or acquired the other (Abbott and St. Jude Medical).
"""

from __future__ import annotations

from collections import defaultdict

from mdrisk.kb.matching.aliases import AliasTable
from mdrisk.landscape.analysis.advisories import display
from mdrisk.landscape.analysis.results import AdvisoryRow, OverlapRow
from mdrisk.landscape.linking import company_relation
from mdrisk.landscape.records import AIDevice


def ai_makers(
    devices: list[AIDevice], aliases: AliasTable
) -> tuple[dict[str, list[AIDevice]], dict[str, set[str]]]:
    """(company id -> its AI devices, company id -> the names it is listed under)."""
    by_company: dict[str, list[AIDevice]] = defaultdict(list)
    names: dict[str, set[str]] = defaultdict(set)
    for device in devices:
        for company in aliases.resolve(device.company):
            by_company[company].append(device)
            names[company].add(device.company)
    return by_company, names


def maker_overlap(
    devices: list[AIDevice], advisories: list[AdvisoryRow], aliases: AliasTable
) -> list[OverlapRow]:
    makers, maker_names = ai_makers(devices, aliases)
    vendors: dict[str, list[AdvisoryRow]] = defaultdict(list)
    vendor_names: dict[str, set[str]] = defaultdict(set)
    for row in advisories:
        for company in row.companies:
            vendors[company].append(row)
        for vendor in row.vendors:
            for company in aliases.resolve(vendor):
                vendor_names[company].add(vendor)
    rows = []
    for maker in sorted(makers):
        for vendor in sorted(vendors):
            relation = company_relation(aliases, frozenset({maker}), frozenset({vendor}))
            if relation is None:
                continue
            listed = vendors[vendor]
            rows.append(
                OverlapRow(
                    company=maker,
                    name=display(aliases, maker, maker_names[maker]),
                    relation=relation[0],
                    advisory_company=vendor,
                    advisory_name=display(aliases, vendor, vendor_names[vendor]),
                    ai_devices=len(makers[maker]),
                    advisories=len(listed),
                    ai_names=sorted(maker_names[maker]),
                    advisory_names=sorted(vendor_names[vendor]),
                    advisory_ids=sorted(row.id for row in listed),
                )
            )
    return sorted(
        rows,
        key=lambda row: (
            row.relation != "same company",
            -row.ai_devices,
            -row.advisories,
            row.company,
            row.advisory_company,
        ),
    )
