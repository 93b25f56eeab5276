"""CISA medical advisories: by vendor, CWE, device class, technology and year, and the share
of their CVEs that are known to be exploited (pure).

One advisory is one ICSMA number (updates "...-01A" and the table's repeated rows fold into
it). Its CSAF document, when there is one, gives vendors, products, CWEs and vulnerability
text; the ICS Advisory Project table adds the advisories CSAF lacks (2016, and 2023 on).
The CVEs of an advisory are the union of both sources' lists, so a CVE added in a later
update counts; the CSAF-only figures are kept as well, for comparison with the CSAF corpus.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from mdrisk.kb.matching.aliases import UNKNOWN_PREFIX, AliasTable
from mdrisk.landscape.analysis.results import AdvisoryRow, CountRow, CweRow, KevRow, VendorRow
from mdrisk.landscape.importers.ics_table import base_number
from mdrisk.landscape.keywords import KeywordRules, matching_rules
from mdrisk.landscape.records import IcsAdvisoryRow, KevEntry, MedicalAdvisory


def unify(csaf: list[MedicalAdvisory], table: list[IcsAdvisoryRow]) -> list[MedicalAdvisory]:
    """One MedicalAdvisory per ICSMA number, CSAF first, the table filling in."""
    merged: dict[str, MedicalAdvisory] = {}
    for advisory in sorted(csaf, key=lambda a: a.revision_id):
        merged[advisory.id] = advisory  # the latest revision wins
    rows: dict[str, list[IcsAdvisoryRow]] = defaultdict(list)
    for row in table:
        if row.medical:
            rows[base_number(row.number)].append(row)
    for number, listed in rows.items():
        cves = sorted({cve for row in listed for cve in row.cves})
        cwes = sorted({cwe for row in listed for cwe in row.cwes}, key=lambda c: int(c[4:]))
        scores = [row.cvss for row in listed if row.cvss is not None]
        records = ", ".join(f"line {row.line}" for row in listed)
        known = merged.get(number)
        if known is None:
            first = min(listed, key=lambda row: row.published)
            merged[number] = MedicalAdvisory(
                id=number,
                revision_id=first.number,
                title=first.title,
                published=first.published,
                vendors=sorted({row.vendor for row in listed if row.vendor}),
                products=sorted(
                    {
                        part
                        for row in listed
                        for part in (row.product, row.products_affected)
                        if part
                    }
                ),
                cves=cves,
                cwes=cwes,
                cvss_max=max(scores) if scores else None,
                source="ics-table",
                record=f"ics-table {records}",
            )
        else:
            merged[number] = known.model_copy(
                update={
                    "cves": sorted(set(known.cves) | set(cves)),
                    "cwes": sorted(set(known.cwes) | set(cwes), key=lambda c: int(c[4:])),
                    "source": "csaf+ics-table",
                    "record": f"{known.record}; ics-table {records}",
                }
            )
    return [merged[number] for number in sorted(merged)]


def advisory_year(advisory: MedicalAdvisory) -> int:
    """The year in the ICSMA number (ICSMA-17-...: 2017), which is CISA's publication year."""
    return 2000 + int(advisory.id.split("-")[1])


def advisory_rows(
    advisories: list[MedicalAdvisory], aliases: AliasTable, rules: KeywordRules, kev: set[str]
) -> list[AdvisoryRow]:
    rows = []
    for advisory in advisories:
        products = " | ".join([advisory.title] + advisory.products)
        everything = f"{products} {advisory.descriptions}"
        companies = sorted(
            {company for vendor in advisory.vendors for company in aliases.resolve(vendor)}
        )
        rows.append(
            AdvisoryRow(
                id=advisory.id,
                title=advisory.title,
                published=advisory.published,
                year=advisory_year(advisory),
                vendors=advisory.vendors,
                companies=companies,
                cves=advisory.cves,
                kev_cves=[cve for cve in advisory.cves if cve in kev],
                cwes=advisory.cwes,
                device_classes=matching_rules(rules.device_classes, products),
                platforms=matching_rules(rules.platforms, everything),
                cvss_max=advisory.cvss_max,
                source=advisory.source,
            )
        )
    return rows


def by_year(rows: list[AdvisoryRow]) -> list[CountRow]:
    if not rows:
        return []
    counts = Counter(row.year for row in rows)
    return [
        CountRow(
            key=str(year),
            label=str(year),
            count=counts.get(year, 0),
            share=counts.get(year, 0) / len(rows),
        )
        for year in range(min(counts), max(counts) + 1)
    ]


def by_vendor(rows: list[AdvisoryRow], aliases: AliasTable) -> list[VendorRow]:
    grouped: dict[str, list[AdvisoryRow]] = defaultdict(list)
    spellings: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for company in row.companies:
            grouped[company].append(row)
        for vendor in row.vendors:
            for company in aliases.resolve(vendor):
                spellings[company].add(vendor)
    found = []
    for company, listed in grouped.items():
        cves = {cve for row in listed for cve in row.cves}
        found.append(
            VendorRow(
                company=company,
                name=display(aliases, company, spellings[company]),
                advisories=len(listed),
                cves=len(cves),
                kev_cves=len({cve for row in listed for cve in row.kev_cves}),
                first_year=min(row.year for row in listed),
                last_year=max(row.year for row in listed),
                written_as=sorted(spellings[company]),
            )
        )
    return sorted(found, key=lambda row: (-row.advisories, -row.cves, row.name.casefold()))


def display(aliases: AliasTable, company: str, spellings: set[str]) -> str:
    """The table's name for a known company; for an unknown one its most common spelling."""
    if not company.startswith(UNKNOWN_PREFIX):
        return aliases.display(company)
    return min(spellings, key=lambda name: (len(name), name)) if spellings else company[1:]


def by_cwe(rows: list[AdvisoryRow], names: dict[str, str]) -> list[CweRow]:
    counts = Counter(cwe for row in rows for cwe in row.cwes)
    return sorted(
        (
            CweRow(cwe=cwe, name=names.get(cwe, ""), advisories=number, share=number / len(rows))
            for cwe, number in counts.items()
        ),
        key=lambda row: (-row.advisories, int(row.cwe[4:])),
    )


def by_rule(rows: list[AdvisoryRow], rules: list, attribute: str) -> list[CountRow]:
    """Advisories per device class or platform (an advisory may count under several);
    the last row counts the advisories no rule matched."""
    counts = Counter(rule for row in rows for rule in getattr(row, attribute))
    found = [
        CountRow(
            key=rule.id,
            label=rule.label,
            count=counts.get(rule.id, 0),
            share=counts.get(rule.id, 0) / len(rows) if rows else 0.0,
        )
        for rule in rules
    ]
    found.sort(key=lambda row: (-row.count, row.key))
    unmatched = sum(1 for row in rows if not getattr(row, attribute))
    found.append(
        CountRow(
            key="none",
            label="none of these",
            count=unmatched,
            share=unmatched / len(rows) if rows else 0.0,
        )
    )
    return found


def kev_rows(rows: list[AdvisoryRow], kev: list[KevEntry]) -> list[KevRow]:
    catalog = {entry.cve: entry for entry in kev}
    cited: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for cve in row.kev_cves:
            cited[cve].append(row.id)
    return [
        KevRow(
            cve=cve,
            advisories=sorted(ids),
            vendor=catalog[cve].vendor,
            product=catalog[cve].product,
            date_added=catalog[cve].date_added,
            ransomware=catalog[cve].ransomware,
        )
        for cve, ids in sorted(cited.items())
    ]
